"""What a proposed (or baseline) version of the project is, where its errors point, and what a
plan may write. README: "Dry-running a policy change"."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project
from tests.test_plan import NEW, OLD, edit, full_copy

runner = CliRunner()
PRIORITY = ("priority: found 'high' (text), expected a whole number\n"
            "    hint: the higher number wins: e.g. 90 comes before 70")


def _plan(project: Path, *args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, ["plan", "-p", str(project), "--detailed-exitcode", *args])
    return res.exit_code, res.stdout, res.stderr


def _row(text: str, *cells: str) -> bool:
    """A row of a terminal table, its cells separated by padding."""
    return re.search(r"^  " + r"\s+".join(map(re.escape, cells)) + "$", text, re.M) is not None


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


def test_a_copy_of_policies_with_a_file_deleted_deletes_it(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    proposed = tmp_path / "proposed"
    shutil.copytree(project / "policies", proposed / "policies")
    (proposed / "policies" / "win_back.yaml").unlink()
    code, out, err = _plan(project, "--proposed", str(proposed))
    assert code == 2, err
    assert f"proposed: {proposed}: policies/ replaces the baseline's; cvm.yaml, rules/ and " \
        "templates/ are the baseline's" in out
    assert _row(out, "policy win_back", f"removed (was {project}/policies/win_back.yaml)")
    assert "win_back is removed or switched off" in out


def test_a_partial_folder_is_laid_over_only_when_asked(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    proposed = tmp_path / "proposed"
    (proposed / "policies").mkdir(parents=True)
    shutil.copy(project / "policies" / "win_back.yaml", proposed / "policies")
    edit(proposed / "policies" / "win_back.yaml", OLD, NEW)
    code, out, err = _plan(project, "--proposed", str(proposed))
    assert code == 1  # policies/ holds one policy and no channels.yaml: it does not validate
    assert err.startswith(f"error: the proposed version ({proposed}) does not validate:\n"
                          f"  {proposed}/policies/channels.yaml: ")
    assert err.endswith(f"  note: {proposed}/policies/ replaces the baseline's policies/ whole "
                        "(a file it lacks is deleted); add --overlay to lay only the files it "
                        "holds over the baseline's\n")
    code, out, err = _plan(project, "--proposed", str(proposed), "--overlay")
    assert code == 2, err
    assert f"proposed: {proposed}: laid over the baseline file by file " \
        "(policies/win_back.yaml)" in out
    assert "win_back now matches; before: none of these held" in out
    assert "removed (was" not in out


def test_a_complete_project_is_the_whole_version(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    proposed = full_copy(project, tmp_path / "proposed")
    shutil.rmtree(proposed / "templates")  # a complete project without templates has none
    code, _, err = _plan(project, "--proposed", str(proposed))
    assert code == 1
    assert f"  {proposed}/templates/brief.md.j2: template not found in templates/" in err
    assert "--overlay" not in err


def test_settings_in_the_proposed_cvm_yaml_are_compared(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    proposed = full_copy(project, tmp_path / "proposed")
    edit(proposed / "cvm.yaml", "margin_rate: 0.30", "margin_rate: 0.60")
    edit(proposed / "cvm.yaml", "output: output", "output: elsewhere")
    code, out, err = _plan(project, "--proposed", str(proposed))
    assert code == 2, err
    assert _row(out, "cvm.yaml", "margin_rate: 0.3 -> 0.6")
    assert "output" not in out.split("What changed")[1].split("\n\n")[0]


def test_the_overlay_needs_a_folder(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    code, _, err = _plan(project, "--proposed-ref", "HEAD", "--overlay")
    assert code == 2
    assert err == "error: --overlay: found a git revision, expected --proposed FOLDER\n" \
        "  hint: a revision is always a complete version of the project\n"


def test_a_git_revision_is_complete(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)  # tmp_path/p, inside the repository tmp_path
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "p")
    _git(tmp_path, "commit", "-qm", "base")
    win = project / "policies" / "win_back.yaml"
    kept = win.read_text()
    _git(tmp_path, "rm", "-q", "p/policies/win_back.yaml")
    _git(tmp_path, "commit", "-qm", "drop win_back")
    win.write_text(kept)  # the working tree (the baseline) still has it, untracked
    code, out, err = _plan(project, "--proposed-ref", "HEAD")
    assert code == 2, err
    assert "proposed: git HEAD: cvm.yaml, rules/, policies/ and templates/ at that revision" \
        in out
    assert _row(out, "policy win_back", f"removed (was {project}/policies/win_back.yaml)")
    code, out, err = _plan(project, "--baseline-ref", "HEAD~1", "--proposed-ref", "HEAD")
    assert code == 2, err
    assert _row(out, "policy win_back", "removed (was HEAD~1:p/policies/win_back.yaml)")

    code, _, err = _plan(project, "--proposed-ref", "nope")
    assert code == 1
    assert "git revision 'nope' not found" in err


def test_errors_say_which_version_and_where(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    _git(tmp_path, "init", "-q")
    good = (project / "policies" / "win_back.yaml").read_text()
    edit(project / "policies" / "win_back.yaml", "priority: 70", "priority: high")
    _git(tmp_path, "add", "p")
    _git(tmp_path, "commit", "-qm", "broken")
    (project / "policies" / "win_back.yaml").write_text(good)
    _git(tmp_path, "commit", "-qam", "fixed")

    code, _, err = _plan(project, "--proposed-ref", "HEAD~1")
    assert code == 1
    assert err == ("error: the proposed version (git HEAD~1) does not validate:\n"
                   f"  HEAD~1:p/policies/win_back.yaml:6:11: {PRIORITY}\n")
    code, _, err = _plan(project, "--baseline-ref", "HEAD~1", "--proposed-ref", "HEAD")
    assert code == 1
    assert err == ("error: the baseline version (git HEAD~1) does not validate:\n"
                   f"  HEAD~1:p/policies/win_back.yaml:6:11: {PRIORITY}\n")

    bad = full_copy(project, tmp_path / "bad")
    edit(bad / "policies" / "win_back.yaml", "priority: 70", "priority: high")
    edit(bad / "cvm.yaml", "margin_rate: 0.30", "margin_rate: 3")
    code, _, err = _plan(project, "--proposed", str(bad))
    assert code == 1
    assert err.startswith(f"error: the proposed version ({bad}) does not validate:\n"
                          f"  {bad}/cvm.yaml:")
    assert f"  {bad}/policies/win_back.yaml:6:11: {PRIORITY}\n" not in err  # cvm.yaml first
    edit(bad / "cvm.yaml", "margin_rate: 3", "margin_rate: 0.30")
    code, _, err = _plan(project, "--proposed", str(bad))
    assert err == (f"error: the proposed version ({bad}) does not validate:\n"
                   f"  {bad}/policies/win_back.yaml:6:11: {PRIORITY}\n")

    broken = project / "policies" / "win_back.yaml"
    edit(broken, "priority: 70", "priority: high")
    code, _, err = _plan(project, "--proposed", str(full_copy(project, tmp_path / "ok")))
    assert err == ("error: the baseline version (current project) does not validate:\n"
                   f"  {broken}:6:11: {PRIORITY}\n")


def test_invalid_proposed_writes_nothing(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    bad = full_copy(project, tmp_path / "bad")
    edit(bad / "policies" / "win_back.yaml", "priority: 70", "priority: high")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, _ = _plan(project, "--proposed", str(bad), "--changes", str(tmp_path / "c.csv"))
    assert code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (project / "output").exists()


@pytest.mark.parametrize("option", ["--report", "--changes"])
def test_never_overwrites_a_file_plan_did_not_write(tmp_path: Path, option: str) -> None:
    project = copy_example_project(tmp_path)
    proposed = full_copy(project, tmp_path / "proposed")
    edit(proposed / "policies" / "win_back.yaml", OLD, NEW)
    name = "notes.md" if option == "--report" else "notes.csv"
    mine = tmp_path / name
    mine.write_text("my own notes\n")
    code, out, err = _plan(project, "--proposed", str(proposed), option, str(mine))
    assert code == 3
    assert err == (f"error: {option}: refused: {mine} exists and was not written by CVM "
                   "Engine\n  hint: CVM Engine never deletes or overwrites a file it did not "
                   "write: name a new file\n")
    assert mine.read_text() == "my own notes\n" and out == ""
    mine.unlink()
    for _ in range(2):  # a file plan wrote is replaced by the next plan
        code, out, err = _plan(project, "--proposed", str(proposed), option, str(mine))
        assert code == 2, err
        assert f"wrote {mine}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [name, "p", "proposed", ".cvm-files.json"])


def test_a_plan_in_the_run_output_folder_survives_the_next_run(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    proposed = full_copy(project, tmp_path / "proposed")
    edit(proposed / "policies" / "win_back.yaml", OLD, NEW)
    target = project / "output" / "plan.md"
    code, _, err = _plan(project, "--proposed", str(proposed), "--report", str(target))
    assert code == 2, err
    text = target.read_text()
    result = CliRunner().invoke(app, ["run", "--project", str(project), "--quiet"])
    assert result.exit_code == 0, result.output
    assert target.read_text() == text
    code, _, err = _plan(project, "--proposed", str(proposed), "--report",
                           str(tmp_path / "x.md"), "--changes", str(tmp_path / "x.md"))
    assert code == 2
    assert "--changes: names the same file as --report" in err


def test_a_baseline_folder(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    lower = tmp_path / "lower"
    shutil.copytree(project / "policies", lower / "policies")
    edit(lower / "policies" / "win_back.yaml", OLD, NEW)
    code, out, err = _plan(project, "--baseline", str(lower), "--proposed",
                           str(full_copy(project, tmp_path / "same")))
    assert code == 2, err
    assert f"baseline: {lower}: policies/ replaces the current project's; cvm.yaml, rules/ " \
        "and templates/ are the current project's" in out
    assert "win_back no longer matches: none of these held: clv_discounted is" in out


def test_a_failure_while_running_names_the_side(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    bad = full_copy(project, tmp_path / "bad")
    tpl = bad / "templates" / "brief.md.j2"
    text = tpl.read_text()
    # valid syntax, and a name every brief has: it fails on the data only (validate's samples
    # have small audiences; the run's win_back has hundreds of customers); examples[99] alone,
    # past every sample, fails validate itself ("whatever the data")
    tpl.write_text(text + "{% if audience.size > 500 %}{{ examples[99].offer }}{% endif %}\n")
    code, out, err = _plan(project, "--proposed", str(bad))
    assert code == 1 and out == ""
    assert err.startswith(f"error: the proposed version ({bad}) cannot run:\n"
                          f"  {bad}/templates/brief.md.j2:{len(text.splitlines()) + 1}:"), err
    assert "has no element 99" in err
    # a name no brief has is found when the side is validated, before anything runs
    tpl.write_text(text + "{{ no_such_figure }}\n")
    code, out, err = _plan(project, "--proposed", str(bad))
    assert code == 1 and out == ""
    assert err.startswith(f"error: the proposed version ({bad}) does not validate:\n")
    assert "'no_such_figure' is undefined" in err


def test_two_as_of_dates_are_both_said(tmp_path: Path) -> None:
    """A new user's plan against an older revision read less data on one side: the header
    gave the proposal's as-of date only, and most changed customers came from the data, not
    the policies, with nothing to say so."""
    project = copy_example_project(tmp_path)
    proposed = full_copy(project, tmp_path / "proposed")
    edit(proposed / "cvm.yaml", "as_of: null", "as_of: 2025-10-01")
    code, out, err = _plan(project, "--proposed", str(proposed), "--no-history",
                           "--changes", str(tmp_path / "changes.csv"))
    assert code == 2, err
    # a trial: the header gave both sides' 2,000 customers as the proposal's (1,821 as of
    # 2025-10-01, as cvm run says), and the 179 customers the proposal does not hold
    # "welcome_new no longer matches: lifecycle_stage is missing"
    ran = runner.invoke(app, ["run", "-p", str(proposed), "--no-history", "-o",
                              str(tmp_path / "run")])
    assert ": 1,821 customers as of 2025-10-01 " in ran.stdout.splitlines()[0], ran.stdout
    assert out.splitlines()[0].endswith(
        "1,821 customers as of 2025-10-01 (the baseline: 2,000 customers as of 2026-01-01: the "
        "two sides read the data at different dates, so more than the policies may change)"), out
    import pandas as pd

    changes = pd.read_csv(tmp_path / "changes.csv", keep_default_na=False)
    gone = changes[changes["action_after"] == ""]
    assert len(gone) == 2000 - 1821
    assert set(gone["reason"]) == {"not a customer in the proposed version (its data or its "
                                   "as-of date leave them out)"}


def test_a_channel_whose_budget_is_spent_is_marked_as_one_at_capacity(tmp_path: Path) -> None:
    """A marketer's trial: account_manager with budget 70 (two contacts at 35) showed
    `70.00 / 70.00` and no mark, where a channel at its capacity says `at capacity`."""
    project = copy_example_project(tmp_path)
    proposed = full_copy(project, tmp_path / "proposed")
    edit(proposed / "policies" / "channels.yaml", "    budget: 1500\n", "    budget: 70\n")
    code, out, err = _plan(project, "--proposed", str(proposed), "--no-history")
    assert code == 2, err
    assert _row(out, "account_manager", "12 / 40", "2 / 40", "420.00 / 1,500.00",
                "70.00 / 70.00", "budget spent"), out
    assert _row(out, "email", "624 / 100,000", "624 / 100,000", "12.48 / 200.00",
                "12.48 / 200.00"), out
    # the review: a channel whose budget pays for no contact at all, none made, too
    edit(proposed / "policies" / "channels.yaml", "    budget: 800\n", "    budget: 5\n")
    code, out, err = _plan(project, "--proposed", str(proposed), "--no-history")
    assert _row(out, "call_centre", "24 / 150", "0 / 150", "144.00 / 800.00", "0.00 / 5.00",
                "budget spent"), out
