"""A commit that fails halfway through its renames puts the earlier output back (README "Exit
codes": 3, "the earlier output is left untouched"). A new user's trial made one file of the
earlier run immutable (a file another program holds locked does the same on Windows): the run
exited 3 with the folder half new, half old (the action list of the new run, the manifest of
the old), and the error named the engine's temporary file, not the one in the way."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.output import commit

runner = CliRunner()


REPLACE = os.replace


def refusing(*blocked: tuple[Path, str]) -> Callable[..., None]:
    """os.replace, refusing (as an immutable file does) each rename onto a ``blocked`` path
    from a source whose path holds the given text (".cvm-tmp": the staged file; ".earlier":
    the earlier file put back)."""
    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if any(Path(dst) == path and text in str(src) for path, text in blocked):
            raise PermissionError(1, "Operation not permitted", str(src), None, str(dst))
        REPLACE(src, dst)

    return replace


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def scored(make_project: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    project = make_project()
    out = tmp_path / "out"
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    config = project / "cvm.yaml"  # the next score differs: another as-of date
    config.write_text(config.read_text().replace("as_of: 2024-07-01", "as_of: 2024-08-01"))
    return project, out


def test_a_rename_refused_halfway_puts_the_earlier_files_back(
        scored: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    project, out = scored
    before = _files(out)
    blocked = out / "customers.parquet"  # renamed after customers.csv
    monkeypatch.setattr(commit.os, "replace", refusing((blocked, ".cvm-tmp")))
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 3
    assert res.stderr == (
        f"error: --out: cannot write here: {blocked}: Operation not permitted (the earlier "
        "output is left as it was)\n"
        "  hint: choose another output folder with --out, or fix its permissions\n")
    # fails before the fix: customers.csv was the new one, customers.parquet the old one
    assert _files(out) == before
    assert json.loads((out / ".cvm-files.json").read_text())["written"] == {
        "score": ["customers.csv", "customers.parquet"]}


def test_a_stale_file_that_cannot_be_removed_stays_recorded(
        scored: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The new files are in place when an earlier file the command no longer writes cannot be
    removed: the command succeeds, and the file stays in the record (so the next command may
    remove it, and no later command refuses it as a file the engine did not write)."""
    project, out = scored
    (out / "extra.csv").write_text("old\n")
    record = json.loads((out / ".cvm-files.json").read_text())
    record["written"]["score"].append("extra.csv")
    (out / ".cvm-files.json").write_text(json.dumps(record))
    unlink = Path.unlink

    def refuse(self: Path, missing_ok: bool = False) -> None:
        if self.name == "extra.csv":
            raise PermissionError(1, "Operation not permitted", str(self))
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    assert res.stderr.endswith(  # (the output folder is inside the project: said relative)
        "warning: out: could not remove extra.csv, written by an earlier score and no "
        "longer by this one: left in place, listed in the folder's record for the next "
        "command to remove\n")
    assert (out / "extra.csv").read_text() == "old\n"
    assert json.loads((out / ".cvm-files.json").read_text())["written"] == {
        "score": ["customers.csv", "customers.parquet", "extra.csv"]}
    monkeypatch.setattr(Path, "unlink", unlink)
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    assert not (out / "extra.csv").exists()


def test_a_run_whose_files_are_put_back_is_not_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run is recorded once its files are staged, before the renames: a re-trial made the
    earlier manifest immutable and found the refused run recorded all the same ('replaced by
    run 2' in `cvm history`, its contacts read by every later run). README "History": an
    error at any moment leaves the history exactly as it was."""
    from tests.history_runs import cvm, retail_copy

    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    out = tmp_path / "out"
    assert cvm("run", "-p", str(project), "-o", str(out), "-q").exit_code == 0
    tiers = project / "rules" / "value_tiers.yaml"
    tiers.write_text(tiers.read_text().replace("share: 0.05", "share: 0.06"))
    before = _files(out)
    monkeypatch.setattr(commit.os, "replace", refusing((out / "manifest.json", ".cvm-tmp")))
    res = cvm("run", "-p", str(project), "-o", str(out))
    assert res.exit_code == 3, res.stderr
    assert "warning" not in res.stderr, res.stderr
    assert _files(out) == before
    monkeypatch.setattr(commit.os, "replace", REPLACE)
    listed = json.loads(cvm("history", "-p", str(project), "--json").stdout)
    # fails before: a second run, 'replacing' the first, whose files were never written
    assert [(r["run"], r["replaced_by"]) for r in listed] == [(1, None)]
    again = cvm("run", "-p", str(project), "-o", str(out))
    assert again.exit_code == 0, again.stderr
    assert "replaces run 1, of the same as-of date" in again.stdout


def test_a_link_an_unrestorable_file_a_new_folder_and_a_stop(
        scored: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The review of the rollback: an earlier file that is a symbolic link was unlinked, not
    put back; an earlier file that could not be put back was deleted with the staging folder
    while the error said 'left as it was'; a folder made for the new files stayed; a Ctrl-C
    during the renames was not rolled back."""
    project, out = scored
    target = tmp_path / "mine.csv"
    target.write_text("mine\n")
    (out / "customers.csv").unlink()
    (out / "customers.csv").symlink_to(target)  # a user's link where the engine's file was
    blocked = out / "customers.parquet"
    monkeypatch.setattr(commit.os, "replace", refusing((blocked, ".cvm-tmp")))
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 3
    assert (out / "customers.csv").is_symlink() and (out / "customers.csv").read_text() == \
        "mine\n"
    # a restore refused too: the earlier file is kept, and said where
    (out / "customers.csv").unlink()
    monkeypatch.setattr(commit.os, "replace", REPLACE)
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr  # (the link replaced by a new file: restore it)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("as_of: 2024-08-01", "as_of: 2024-09-01"))
    earlier = (out / "customers.csv").read_bytes()

    monkeypatch.setattr(commit.os, "replace", refusing(
        (blocked, ".cvm-tmp"), (out / "customers.csv", ".earlier")))
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 3
    kept = [p for p in out.iterdir() if p.name.startswith(".cvm-earlier-")]
    assert len(kept) == 1 and (kept[0] / "customers.csv").read_bytes() == earlier
    assert (f"Operation not permitted (1 earlier file could not be put back (customers.csv), "
            f"kept in {kept[0]})") in res.stderr


def test_a_stop_during_the_renames_is_rolled_back_with_the_folders_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.interrupts import Terminated
    from tests.history_runs import cvm, retail_copy

    project = retail_copy(tmp_path)
    out = tmp_path / "out"
    assert cvm("run", "-p", str(project), "-o", str(out), "-q", "--no-history").exit_code == 0
    import shutil

    shutil.rmtree(out / "briefs")  # the next run makes the folder again
    tiers = project / "rules" / "value_tiers.yaml"
    tiers.write_text(tiers.read_text().replace("share: 0.05", "share: 0.06"))
    before = _files(out)

    def stop(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == out / "manifest.json" and ".cvm-tmp" in str(src):
            raise Terminated
        REPLACE(src, dst)

    monkeypatch.setattr(commit.os, "replace", stop)
    res = cvm("run", "-p", str(project), "-o", str(out), "-q", "--no-history")
    assert res.exit_code == 143
    assert _files(out) == before
    assert not (out / "briefs").exists()
