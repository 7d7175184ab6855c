"""The hooks of .pre-commit-hooks.yaml, run by pre-commit itself from a clean clone of this
repository, on a project repository that uses them as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci_jobs import oldest_job_only
from tests.conftest import ROOT, copy_example_project
from tests.test_ci_recipe import GIT_ENV

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _run(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, env=env, text=True, capture_output=True)


@pytest.mark.skipif(not (ROOT / ".git").exists() or not PRE_COMMIT.exists(),
                    reason="needs a git checkout of the engine and pre-commit (dev extra)")
@oldest_job_only("pre-commit installs the engine and its dependencies in an environment of its "
                 "own (40 s), once per CI run: here, the two jobs end about together")
def test_hooks_run_through_pre_commit(tmp_path: Path) -> None:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    env.pop("VIRTUAL_ENV", None)
    clone = tmp_path / "engine"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, env=env)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, check=True, text=True,
                         capture_output=True).stdout.strip()
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")
    # the three lines the README tells a user to add under `repos:`, with this clone and rev
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### Checks before every commit: pre-commit")[1].split("```yaml\n")[1]
    lines = block.split("```")[0].splitlines()
    assert len(lines) == 3 and lines[0].startswith("  - repo: ")
    lines[0] = f"  - repo: {clone}"
    lines[1] = f"    rev: {rev}"
    (project / ".pre-commit-config.yaml").write_text("repos:\n" + "\n".join(lines) + "\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True, env=env)
    ok = _run(project, str(PRE_COMMIT), "run", "--all-files", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "cvm validate" in ok.stdout and "cvm test" in ok.stdout
    assert ok.stdout.count("Passed") == 2
    # a change that breaks a policy test is stopped before the commit, with the explanation
    policy = project / "policies" / "welcome_new.yaml"
    policy.write_text(policy.read_text() + "enabled: false\n")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True, env=env)
    bad = _run(project, str(PRE_COMMIT), "run", "--all-files", env=env)
    assert bad.returncode == 1
    assert "expected policy welcome_new, got none" in bad.stdout
    assert "why: policy welcome_new (policies/welcome_new.yaml:2) is disabled" in bad.stdout


def test_the_validate_hook_runs_when_a_trigger_changes() -> None:
    """A new user's trigger change was committed without the validate hook running: its files
    pattern left out triggers/, which cvm validate checks."""
    import re

    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert re.search(hooks["cvm-validate"]["files"], "project/triggers/service_recovery.yaml")
    assert not re.search(hooks["cvm-test"]["files"], "triggers/service_recovery.yaml")
