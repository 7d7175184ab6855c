"""The record of an output folder (``.cvm-files.json``) and an old run's ``manifest.json`` name
files the engine may replace or remove: only plain relative paths inside the folder are
accepted. An edited record naming ``../x`` or ``/abs`` must never make a command delete it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.output.commit import _remove
from engine.output.folder import Guard
from tests.conftest import copy_example_project

runner = CliRunner()

RECORD_HINT = ("  hint: the record lists only files inside its folder by relative path; it was "
               "edited or damaged: move what you need out of the folder and delete it to start "
               "afresh\n")


@pytest.fixture
def small(make_project: Callable[..., Path]) -> Path:
    return make_project()


BAD = ["../victim.txt", "{victim}", "../cvm.yaml", "", ".", "a/../../victim.txt", "a\\b",
       "a\x00b", "./customers.csv", "briefs//x.md"]


@pytest.mark.parametrize("entry", BAD)
def test_an_edited_record_is_refused_before_anything_is_touched(
        small: Path, tmp_path: Path, entry: str) -> None:
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    entry = entry.replace("{victim}", str(victim))
    res = runner.invoke(app, ["score", "-p", str(small), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    record = json.loads((out / ".cvm-files.json").read_text())
    record["written"]["score"].append(entry)
    (out / ".cvm-files.json").write_text(json.dumps(record))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    config = (small / "cvm.yaml").read_bytes()
    # fails before the fix: exit 0 and the named file deleted (or exit 3 after the renames)
    res = runner.invoke(app, ["score", "-p", str(small), "-o", str(out), "-q"])
    assert res.exit_code == 3, res.stderr
    assert res.stderr == (
        "error: --out: refused as the output folder: out/.cvm-files.json lists "
        f"{entry!r}, which is not a path inside the folder\n" + RECORD_HINT)
    assert victim.read_text() == "precious\n"
    assert (small / "cvm.yaml").read_bytes() == config
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_an_old_manifest_naming_a_brief_outside_is_refused(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    out = tmp_path / "a" / "b" / "out"
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    victim = tmp_path / "a" / "victim2.txt"
    victim.write_text("precious\n")
    (out / ".cvm-files.json").unlink()  # as written before the record existed
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.pop("files", None)
    manifest["briefs"] = [*manifest["briefs"], "../../victim2.txt"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 3, res.stderr
    assert res.stderr == (
        f"error: --out: refused as the output folder: {out}/manifest.json lists "
        "'briefs/../../victim2.txt', which is not a path inside the folder\n" + RECORD_HINT)
    assert victim.read_text() == "precious\n"


def test_removal_never_leaves_the_folder_nor_touches_an_input(tmp_path: Path) -> None:
    """Defence in depth, below the check of the record: a path that resolves outside the
    folder (through a link, say) or onto an input of the project is never removed."""
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.csv").write_text("precious\n")
    (out / "sub").symlink_to(elsewhere)
    (out / "in.csv").write_text("input\n")
    guard = Guard(tmp_path / "project", (out / "in.csv",), ())
    for rel in ("sub/x.csv", "../elsewhere/x.csv", "in.csv"):
        _remove(out, rel, set(), guard)  # fails before the fix: removed x.csv and in.csv
    assert (elsewhere / "x.csv").read_text() == "precious\n"
    assert (out / "in.csv").read_text() == "input\n"


def test_plan_overwrites_only_what_plan_wrote(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    before = (out / "customers.csv").read_bytes()
    proposed = tmp_path / "proposed"
    (proposed / "policies").mkdir(parents=True)
    (proposed / "policies" / "win_back.yaml").write_text(
        (project / "policies" / "win_back.yaml").read_text().replace("priority: 70",
                                                                     "priority: 71"))
    # fails before the fix: plan overwrote customers.csv because `score` had recorded it
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                              "--overlay", "--changes", str(out / "customers.csv"), "-q"])
    assert res.exit_code == 3, res.stderr
    assert res.stderr == (
        f"error: --changes: refused: {out}/customers.csv exists and was written by cvm "
        "score, not by cvm plan\n"
        "  hint: CVM Engine never deletes or overwrites a file it did not write: name a new "
        "file\n")
    assert (out / "customers.csv").read_bytes() == before
