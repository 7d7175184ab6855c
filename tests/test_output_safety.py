"""Output folders: the engine never deletes or overwrites a file it did not write.

Every command that writes (run, score, decide, report, fit, plan) refuses a folder that is or
holds the project or its inputs, or that holds files the engine did not write, and replaces only
what its own record (``.cvm-files.json``) lists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _project_with_data(tmp_path: Path) -> Path:
    """The bundled example with its own copy of the data in ``data/``, so that a test may point
    the output at any of its folders without risking the repository's files."""
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "examples" / "retail", project / "data")
    text = (project / "cvm.yaml").read_text().replace(f"{ROOT}/examples/retail/", "data/")
    (project / "cvm.yaml").write_text(text)
    (project / "README.md").write_text("my notes\n")
    return project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project_with_data(tmp_path_factory.mktemp("safety"))


INPUT_FOLDERS = [
    (".", "is the project folder"),
    ("data", "holds inputs of the project: data/customers.csv, data/transactions.csv"),
    ("rules", "is an input folder of the project"),
    ("policies", "is an input folder of the project"),
    ("templates", "is an input folder of the project"),
    ("policies/archive", "is inside policies/, an input folder of the project"),
]


@pytest.mark.parametrize(("where", "why"), INPUT_FOLDERS, ids=[f[0] for f in INPUT_FOLDERS])
def test_run_refuses_the_project_and_its_inputs(project: Path, where: str, why: str) -> None:
    before = _snapshot(project)
    out = (project / where).resolve()
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 3, res.stdout + res.stderr
    shown = str(out) if where == "." else where
    assert res.stderr == (
        f"error: --out: refused as the output folder: {shown} {why}\n"
        "  hint: CVM Engine writes only into a folder of its own, never among its inputs: "
        "choose an empty or new folder (--out, or output: in cvm.yaml)\n")
    assert _snapshot(project) == before


def test_output_setting_in_cvm_yaml_is_checked_too(tmp_path: Path) -> None:
    project = _project_with_data(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("output: output", "output: data"))
    before = _snapshot(project)
    res = runner.invoke(app, ["run", "-p", str(project), "-q"])
    assert res.exit_code == 3
    assert res.stderr.startswith(
        "error: cvm.yaml:43:9: output: refused as the output folder: data holds inputs of the "
        "project: data/customers.csv, data/transactions.csv\n")
    # `cvm validate` says so first, with the same line
    res = runner.invoke(app, ["validate", "-p", str(project)])
    assert res.exit_code == 1
    assert "error: cvm.yaml:43:9: output: refused as the output folder: data holds" in res.stderr
    assert _snapshot(project) == before


def test_user_folder_is_refused_with_its_files_listed(project: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    for name in ("notes.txt", "a.csv", "b.csv", "c.csv", "sub/d.csv", "sub/e.csv"):
        (mine / name).write_text("mine\n")
    before = _snapshot(mine)
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(mine), "-q"])
    assert res.exit_code == 3
    assert res.stderr == (
        f"error: --out: refused as the output folder: {mine} holds 6 files CVM Engine did not "
        "write: a.csv, b.csv, c.csv, notes.txt, sub/d.csv and 1 more\n"
        "  hint: CVM Engine never deletes or overwrites a file it did not write: choose an "
        "empty or new folder (--out, or output: in cvm.yaml), or move those files away\n")
    shown = re.search(r"```\n(error: --out: refused as the output folder: /home/ana.*?)```",
                      (ROOT / "README.md").read_text(), flags=re.S)
    assert shown is not None  # README "Output folders" shows this very message
    assert shown.group(1).replace("/home/ana/reports", str(mine)) == res.stderr
    assert _snapshot(mine) == before
    assert sorted(p.name for p in mine.iterdir()) == ["a.csv", "b.csv", "c.csv", "notes.txt",
                                                       "sub"]


@pytest.mark.parametrize("command", ["score", "decide", "report", "fit"])
def test_other_commands_refuse_a_user_folder(project: Path, tmp_path: Path,
                                             command: str) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine\n")
    res = runner.invoke(app, [command, "-p", str(project), "-o", str(mine), "-q"])
    assert res.exit_code == 3, res.stdout + res.stderr
    assert res.stderr.startswith(f"error: --out: refused as the output folder: {mine} holds 1 "
                                 "file CVM Engine did not write: notes.txt\n")
    assert [p.name for p in mine.rglob("*")] == ["notes.txt"]


@pytest.mark.parametrize("command", ["score", "decide", "report", "fit"])
def test_other_commands_refuse_the_project(project: Path, command: str) -> None:
    before = _snapshot(project)
    res = runner.invoke(app, [command, "-p", str(project), "-o", str(project), "-q"])
    assert res.exit_code == 3, res.stdout + res.stderr
    assert res.stderr.startswith(f"error: --out: refused as the output folder: {project} is the "
                                 "project folder\n")
    assert _snapshot(project) == before


@pytest.fixture
def small(make_project: Callable[..., Path]) -> Path:
    return make_project()


def test_nested_engine_output_is_kept(project: Path, small: Path, tmp_path: Path) -> None:
    out = tmp_path / "output"
    # another project's output inside this one's output folder, as the CDNOW example once was
    res = runner.invoke(app, ["score", "-p", str(small), "-o", str(out / "cdnow"), "-q"])
    assert res.exit_code == 0, res.stderr
    nested = _snapshot(out / "cdnow")
    assert "customers.csv" in nested
    for _ in range(2):
        res = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"])
        assert res.exit_code == 0, res.stderr
        assert _snapshot(out / "cdnow") == nested
    assert (out / "actions.csv").is_file()


def test_later_run_replaces_only_its_own_files(project: Path, tmp_path: Path) -> None:
    proj = _project_with_data(tmp_path)
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", "-p", str(proj), "-o", str(out), "-q"]).exit_code == 0
    assert runner.invoke(app, ["report", "-p", str(proj), "-o", str(out), "-q"]).exit_code == 0
    report = _snapshot(out / "report")
    assert (out / "briefs" / "win_back.md").is_file()
    ledger = json.loads((out / ".cvm-files.json").read_text())
    assert set(ledger["written"]) == {"run", "report"}
    assert "briefs/win_back.md" in ledger["written"]["run"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert "briefs/win_back.md" in manifest["files"]
    # the win_back campaign disappears: its briefs go, everything else is rewritten
    for name in ("win_back.yaml", "win_back_advocates.yaml"):  # the campaign's policies
        (proj / "policies" / name).unlink()
    res = runner.invoke(app, ["run", "-p", str(proj), "-o", str(out), "--format", "jsonl", "-q"])
    assert res.exit_code == 0, res.stderr
    assert not (out / "briefs" / "win_back.md").exists()
    assert not (out / "briefs" / "win_back.html").exists()
    assert not (out / "actions.csv").exists()  # the previous run's action list, now .jsonl
    assert (out / "actions.jsonl").is_file()
    assert (out / "briefs" / "retain_high_value.md").is_file()
    assert _snapshot(out / "report") == report  # another command's files are kept
    ledger = json.loads((out / ".cvm-files.json").read_text())
    assert "briefs/win_back.md" not in ledger["written"]["run"]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [".cvm-files.json"]


def test_a_file_added_to_an_output_folder_stops_the_next_run(project: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["score", "-p", str(project), "-o", str(out), "-q"]).exit_code == 0
    (out / "my_analysis.xlsx").write_text("mine\n")
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 3
    assert "did not write: my_analysis.xlsx\n" in res.stderr
    assert (out / "my_analysis.xlsx").read_text() == "mine\n"


@pytest.fixture
def umask() -> Iterator[int]:
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def test_every_command_writes_files_like_any_program(project: Path, tmp_path: Path,
                                                     umask: int) -> None:
    out = tmp_path / "out"
    for command in (["run"], ["score"], ["decide"], ["report"]):
        res = runner.invoke(app, [*command, "-p", str(project), "-o", str(out), "-q"])
        assert res.exit_code == 0, res.stderr
    modes = {str(p.relative_to(out)): p.stat().st_mode & 0o777 for p in out.rglob("*")}
    assert {k: v for k, v in modes.items() if v != (0o640 if "." in Path(k).name else 0o750)} \
        == {}
    assert {"decisions.csv", "customers.csv", "briefs", "report/report.html"} <= set(modes)


def test_plan_never_overwrites_a_file_it_did_not_write(project: Path, tmp_path: Path) -> None:
    proposed = tmp_path / "proposed"
    (proposed / "policies").mkdir(parents=True)
    (proposed / "policies" / "win_back.yaml").write_text(
        (project / "policies" / "win_back.yaml").read_text().replace("priority: 70",
                                                                     "priority: 71"))
    mine = tmp_path / "plan.md"
    mine.write_text("my plan\n")
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed), "--overlay",
                              "--report", str(mine), "-q"])
    assert res.exit_code == 3
    assert res.stderr == (
        f"error: --report: refused: {mine} exists and was not written by CVM Engine\n"
        "  hint: CVM Engine never deletes or overwrites a file it did not write: name a new "
        "file\n")
    assert mine.read_text() == "my plan\n"
    data = project / "data" / "transactions.csv"
    before = data.read_bytes()
    res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed), "--overlay",
                              "--changes", str(data), "-q"])
    assert res.exit_code == 3
    assert res.stderr.startswith("error: --changes: refused: data/transactions.csv is an input "
                                 "of the project\n")
    assert data.read_bytes() == before
    # a file plan wrote itself may be written again
    target = tmp_path / "reports" / "plan.md"
    for _ in range(2):
        res = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                  "--overlay", "--report", str(target), "-q"])
        assert res.exit_code == 0, res.stderr
    assert target.read_text().startswith("#")
    ledger = json.loads((target.parent / ".cvm-files.json").read_text())
    assert ledger["written"] == {"plan": ["plan.md"]}


def test_a_nested_output_is_never_judged_nor_written_into(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["score", "-p", str(small), "-o", str(out / "report"),
                               "-q"]).exit_code == 0
    (out / "report" / "notes.txt").write_text("mine\n")  # the other output's business
    nested = _snapshot(out / "report")
    assert runner.invoke(app, ["score", "-p", str(small), "-o", str(out), "-q"]).exit_code == 0
    # `cvm report` would write report/ here, which is another engine output: refused
    res = runner.invoke(app, ["report", "-p", str(small), "-o", str(out), "-q"])
    assert res.exit_code == 3
    assert res.stderr.startswith("error: --out: refused: out/report/ is another engine output "
                                 "(with a record of its own), where this command writes report/")
    assert _snapshot(out / "report") == nested


def test_a_run_folder_from_before_the_record_is_recognised(project: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"]).exit_code == 0
    # as an earlier version wrote it: no record, no list of files in the manifest
    (out / ".cvm-files.json").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["files"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "mine.txt").write_text("mine\n")
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 3
    assert "holds 1 file CVM Engine did not write: mine.txt\n" in res.stderr
    (out / "mine.txt").unlink()
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    assert "manifest.json" in json.loads((out / ".cvm-files.json").read_text())["written"]["run"]


def test_a_commit_cut_short_leaves_a_folder_the_next_run_accepts(
        small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["score", "-p", str(small), "-o", str(out), "-q"]).exit_code == 0
    (small / "tx.csv").write_text((small / "tx.csv").read_text() + "d,2024-06-03,10,5\n")
    import engine.output.folder as of

    real = os.replace

    def failing(src: object, dst: object) -> None:
        if str(dst).endswith("customers.parquet"):
            raise OSError(28, "No space left on device", str(dst))
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(of.os, "replace", failing)
    res = runner.invoke(app, ["score", "-p", str(small), "-o", str(out), "-q"])
    assert res.exit_code == 3
    assert res.stderr.startswith(f"error: --out: cannot write here: {out}/customers.parquet: No "
                                 "space left on device (the earlier output is left as it was)\n")
    monkeypatch.setattr(of.os, "replace", real)
    # renamed before the failure, then put back (tests/test_commit_rollback.py)
    assert "\"d\"," not in (out / "customers.csv").read_text()
    assert not [p for p in out.iterdir() if p.name.startswith(".cvm-tmp-")]
    res = runner.invoke(app, ["score", "-p", str(small), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
