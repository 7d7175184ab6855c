#!/usr/bin/env bash
# Review a pull request that changes a CVM project: validate, run the policy tests, and dry-run
# the change against the target branch with `cvm plan`, writing the plan as Markdown.
# Called by examples/ci/github-actions.yml; runs the same on any CI service or by hand.
#
#   cvm-review.sh TARGET_REV [PROJECT_FOLDER] [PLAN_FILE]
#
# TARGET_REV: the target branch as git knows it (origin/main); PROJECT_FOLDER: default `.`;
# PLAN_FILE: default cvm-plan.md in the current folder. Exits non-zero on the first error
# (cvm's own exit code: 1 input problem, 2 usage, 3 output, 4 internal).
set -euo pipefail
target="${1:?usage: cvm-review.sh TARGET_REV [PROJECT_FOLDER] [PLAN_FILE]}"
project="${2:-.}"
plan="${3:-cvm-plan.md}"

cvm validate --project "$project"
cvm test --project "$project"
cvm plan --project "$project" --baseline-ref "$target" --proposed-ref HEAD --report "$plan"
