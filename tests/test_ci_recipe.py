"""The CI review recipe (examples/ci/): its steps, run on a two-commit repository, validate,
test, plan the change against the target branch and publish the plan; errors fail the job."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.ci_jobs import main_job_only
from tests.conftest import ROOT, copy_example_project

CI = ROOT / "examples" / "ci"
# the review script on a repository of two commits (git, bash and three cvm commands, five to
# ten seconds): the same whatever the pandas; the oldest job runs these commands in other tests
IN_A_REPOSITORY = main_job_only("the review script (git, bash, cvm) runs the same whatever the "
                                "pandas; the oldest job runs its commands in the other tests")
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})


def _steps() -> dict[str, str]:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text())
    return {s["name"]: s["run"] for s in workflow["jobs"]["review"]["steps"] if "run" in s}


def _pull_request(tmp_path: Path, change: tuple[str, str, str]) -> Path:
    """origin: the project on main, and a branch with one more commit; returns a clone
    checked out at the branch, as actions/checkout leaves it."""
    origin = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", origin / "policy_tests")
    (origin / "ci").mkdir()
    shutil.copy(CI / "cvm-review.sh", origin / "ci" / "cvm-review.sh")
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "add", "-A")
    _git(origin, "commit", "-q", "-m", "project")
    _git(origin, "checkout", "-q", "-b", "change")
    file, old, new = change
    text = (origin / file).read_text()
    assert old in text
    (origin / file).write_text(text.replace(old, new))
    _git(origin, "commit", "-q", "-am", "the change")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", "--branch", "change", str(origin), str(clone))
    return clone


def _run_step(script: str, cwd: Path, runner_temp: Path) -> subprocess.CompletedProcess[str]:
    script = script.replace("${{ github.base_ref }}", "main").replace(
        "${{ github.event.pull_request.number }}", "7")
    stub = 'gh() { printf "%s\\n" "$*" >> "$RUNNER_TEMP/gh-calls"; }\n'  # the service's CLI
    env = {**os.environ, **GIT_ENV, "PROJECT": ".", "RUNNER_TEMP": str(runner_temp),
           "GITHUB_STEP_SUMMARY": str(runner_temp / "summary.md"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-e", "-c", stub + script], cwd=cwd, env=env, text=True,
                          capture_output=True)


LOWER_WIN_BACK = ("policies/win_back.yaml", "clv_discounted: {gte: 25}",
                  "clv_discounted: {gte: 5}")
REVIEW = "Validate, test and plan against the target branch"


@dataclass(frozen=True)
class Reviewed:
    """The review step run on a pull request (a clone checked out at the change)."""
    clone: Path
    runner_temp: Path  # RUNNER_TEMP after the step: the plan in cvm-plan.md
    review: subprocess.CompletedProcess[str]

    def copy(self, tmp_path: Path) -> tuple[Path, Path]:
        """The clone and RUNNER_TEMP copied into ``tmp_path``, for the steps that follow."""
        clone, temp = tmp_path / "clone", tmp_path / "runner"
        shutil.copytree(self.clone, clone, symlinks=True)
        shutil.copytree(self.runner_temp, temp)
        return clone, temp


def review(tmp_path: Path, change: tuple[str, str, str]) -> Reviewed:
    clone = _pull_request(tmp_path, change)
    temp = tmp_path / "runner"
    temp.mkdir()
    return Reviewed(clone, temp, _run_step(_steps()[REVIEW], clone, temp))


@IN_A_REPOSITORY
def test_a_pull_request_gets_its_plan(tmp_path: Path,
                                      reviewed_pull_request: Reviewed) -> None:
    """``reviewed_pull_request`` (tests/conftest.py): review(LOWER_WIN_BACK), run once for
    this test and tests/test_fix17_ci.py."""
    done = reviewed_pull_request
    assert done.review.returncode == 0, done.review.stderr
    clone, temp = done.copy(tmp_path)
    plan = (temp / "cvm-plan.md").read_text()
    assert "win_back" in plan
    publish = _run_step(_steps()["Publish the plan"], clone, temp)
    assert publish.returncode == 0, publish.stderr
    assert (temp / "summary.md").read_text() == plan
    assert (temp / "gh-calls").read_text() == \
        f"pr comment 7 --body-file {temp / 'cvm-plan.md'}\n"


@IN_A_REPOSITORY
def test_a_failing_policy_test_fails_the_job(tmp_path: Path) -> None:
    clone = _pull_request(tmp_path, ("policies/welcome_new.yaml", "priority: 40",
                                     "priority: 40\nenabled: false"))
    temp = tmp_path / "runner"
    temp.mkdir()
    steps = _steps()
    review = _run_step(steps["Validate, test and plan against the target branch"], clone, temp)
    assert review.returncode == 1
    assert "FAIL policy_tests/starter.yaml" in review.stdout
    assert not (temp / "cvm-plan.md").exists()
    publish = _run_step(steps["Publish the plan"], clone, temp)
    assert publish.returncode == 0 and not (temp / "gh-calls").exists()


def test_the_workflow_calls_the_script_it_documents() -> None:
    run = _steps()["Validate, test and plan against the target branch"]
    assert re.search(r"\bci/cvm-review\.sh\b", run)
    script = (CI / "cvm-review.sh").read_text()
    assert "--proposed-ref HEAD" in script and "--baseline-ref" in script


def test_the_readme_shows_the_script() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### Review in CI")[1].split("```bash\n")[1].split("```")[0]
    script = (CI / "cvm-review.sh").read_text()
    for line in block.strip().splitlines():
        assert line in script.splitlines(), line
