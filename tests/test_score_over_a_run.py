"""`cvm score` and a run's folder. Its default output is the run's: a new user found the run's
table without its lifecycle stages and the manifest no longer matching, with nothing said; a
warning came next, after the damage (a marketer's `cvm score` to "just look" broke the folder
cvm serve reads). Into the default folder holding a run, it now refuses before computing
anything; into the run's folder named with --out, it replaces the run's table and says so."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.commands.run_folder import run_holding
from tests.test_validate_data_files import _project


def test_score_leaves_the_run_s_folder_unless_named(tmp_path: Path) -> None:
    project = _project(tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["run", "-p", str(project), "--no-history", "-q"])
    assert done.exit_code == 0, done.output
    out = project / "output"  # outside the working directory: as given, whole
    run_id = (out / "manifest.json").read_text().split('"run_id": "')[1][:16]
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    done = runner.invoke(app, ["score", "-p", str(project)])
    assert done.exit_code == 3
    assert done.stderr == (
        f"error: output: holds run {run_id}, whose customers.csv and customers.parquet cvm "
        "score would replace (the run folder would then no longer match its manifest: cvm "
        "serve refuses it)\n"
        f"  hint: give cvm score a folder of its own: cvm score --out {out / 'score'}; to "
        f"replace the run's value table, name its folder: cvm score --out {out}\n")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    done = runner.invoke(app, ["score", "-p", str(project), "--out", str(out)])
    assert done.exit_code == 0
    assert done.stderr.splitlines()[-2:] == [
        f"warning: replaced run {run_id}'s customers.csv and customers.parquet in {out}: the "
        "run folder now holds this value table, without the run's lifecycle stages and "
        "segments, and its manifest no longer matches them (cvm serve refuses the folder until "
        "cvm run writes it again)",
        f"  hint: give cvm score a folder of its own: cvm score --out {out / 'score'}"]
    again = runner.invoke(app, ["score", "-p", str(project)])  # the files are score's now
    assert again.exit_code == 0 and "warning" not in again.stderr
    quiet = runner.invoke(app, ["score", "-p", str(project), "--out", str(tmp_path / "s")])
    assert "warning" not in quiet.stderr


def test_decide_leaves_the_run_s_folder_unless_named(tmp_path: Path) -> None:
    """A new user's `cvm decide` after a policy change replaced the run's decisions.csv with
    nothing said: the manifest no longer matched, and cvm serve refused the folder."""
    project = _project(tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["run", "-p", str(project), "--no-history", "-q"])
    assert done.exit_code == 0, done.output
    out = project / "output"
    run_id = (out / "manifest.json").read_text().split('"run_id": "')[1][:16]
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    done = runner.invoke(app, ["decide", "-p", str(project)])
    assert done.exit_code == 3
    assert done.stderr == (
        f"error: output: holds run {run_id}, whose decisions.csv cvm decide would replace (the "
        "run folder would then no longer match its manifest: cvm serve refuses it)\n"
        f"  hint: give cvm decide a folder of its own: cvm decide --out {out / 'decide'}; to "
        f"replace the run's decisions, name its folder: cvm decide --out {out}\n")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    same = runner.invoke(app, ["decide", "-p", str(project), "--out", str(out)])
    assert (same.exit_code, same.stderr) == (0, "")  # the run's decisions again: nothing said
    assert run_holding(out, "decisions.csv") == run_id  # (it warned that they no longer were)
    policy = project / "policies" / "win_back.yaml"
    policy.write_text(policy.read_text() + "enabled: false\n")
    done = runner.invoke(app, ["decide", "-p", str(project), "--out", str(out)])
    assert done.exit_code == 0
    assert run_holding(out, "decisions.csv") is None
    assert done.stderr.splitlines()[-2:] == [
        f"warning: replaced run {run_id}'s decisions.csv in {out}: the run folder now holds "
        "these decisions, which the run's actions and briefs were not made from, and its "
        "manifest no longer matches them (cvm serve refuses the folder until cvm run writes it "
        "again)",
        f"  hint: give cvm decide a folder of its own: cvm decide --out {out / 'decide'}"]
    elsewhere = runner.invoke(app, ["decide", "-p", str(project), "--out", str(tmp_path / "d")])
    assert elsewhere.exit_code == 0 and "warning" not in elsewhere.stderr
