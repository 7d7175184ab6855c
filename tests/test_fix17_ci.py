"""The CI recipe on a fork's pull request, and how it installs the engine (issue 17 review,
finding 18)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.test_ci_recipe import CI, GIT_ENV, IN_A_REPOSITORY, Reviewed


def _step(name: str) -> dict[str, object]:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text())
    found: dict[str, object] = next(s for s in workflow["jobs"]["review"]["steps"]
                                    if s.get("name") == name)
    return found


def _run(name: str, cwd: Path, temp: Path, gh: str, **env: str
         ) -> subprocess.CompletedProcess[str]:
    step = _step(name)
    script = str(step["run"]).replace("${{ github.base_ref }}", "main").replace(
        "${{ github.event.pull_request.number }}", "7")
    step_env = {k: str(v) for k, v in dict(step.get("env") or {}).items()  # type: ignore[call-overload]
                if "${{" not in str(v)}
    full = {**os.environ, **GIT_ENV, **step_env, "PROJECT": ".", "RUNNER_TEMP": str(temp),
            "GITHUB_STEP_SUMMARY": str(temp / "summary.md"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(["bash", "-e", "-c", gh + script], cwd=cwd, env=full, text=True,
                          capture_output=True)


CALLS = 'gh() { printf "%s\\n" "$*" >> "$RUNNER_TEMP/gh-calls"; }\n'
REFUSED = 'gh() { echo "HTTP 403: Resource not accessible by integration" >&2; return 1; }\n'


@IN_A_REPOSITORY
def test_a_forks_pull_request_gets_the_plan_in_the_summary_and_passes(
        tmp_path: Path, reviewed_pull_request: Reviewed) -> None:
    """The review step (``reviewed_pull_request``, tests/conftest.py, run once for this test and
    tests/test_ci_recipe.py) passes; then the publish step as on a fork and as refused."""
    assert reviewed_pull_request.review.returncode == 0, reviewed_pull_request.review.stderr
    clone, temp = reviewed_pull_request.copy(tmp_path)
    plan = (temp / "cvm-plan.md").read_text()
    fork = _run("Publish the plan", clone, temp, CALLS, FORK="true")
    assert fork.returncode == 0, fork.stderr
    assert (temp / "summary.md").read_text() == plan
    assert not (temp / "gh-calls").exists()  # a fork's token cannot comment: not tried
    (temp / "summary.md").unlink()
    refused = _run("Publish the plan", clone, temp, REFUSED, FORK="false")
    assert refused.returncode == 0, refused.stderr  # a refused comment never fails the job
    assert "::warning::" in refused.stdout
    assert (temp / "summary.md").read_text() == plan


def test_the_engine_is_installed_from_the_repository_at_a_pinned_ref() -> None:
    run = str(_step("Install CVM Engine")["run"])
    assert "pip install cvm-engine" not in run  # not on PyPI
    assert re.search(r"git\+https://github\.com/[^ \"]+\.git@\$\{?CVM_ENGINE_REF", run), run
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text())
    assert workflow["env"]["CVM_ENGINE_REF"]


def test_the_readme_says_plan_needs_the_transactions_in_ci() -> None:
    section = (ROOT / "README.md").read_text().split("### Review in CI")[1].split("\n## ")[0]
    assert "`cvm plan` reads the transactions" in section
    assert "CVM_ENGINE_REF" in section
