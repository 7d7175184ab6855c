"""The engine's own leftovers and unwritable places: staging folders a killed command left
behind are cleaned on the next write (only the engine's, and never one in use), and a folder
that cannot be written is refused before the work."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.output.staging import clean_stale

runner = CliRunner()


@pytest.fixture
def small(make_project: Callable[..., Path]) -> Path:
    return make_project()


def test_stale_staging_of_a_killed_command_is_cleaned(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["score", "-p", str(small), "-o", str(out), "-q"]).exit_code == 0
    stale = out / ".cvm-tmp-k1ll_9ab"  # as tempfile.mkdtemp names them
    (stale / "briefs").mkdir(parents=True)
    (stale / "briefs" / "x.md").write_text("half written\n")
    (out / ".cvm-tmp-record-0123456789ab").write_text("{}")
    (out / ".cvm-tmp-mine").mkdir()  # not a name the engine makes: left alone
    # fails before the fix: the staging folders of a kill -9 stayed for ever
    assert runner.invoke(app, ["score", "-p", str(small), "-o", str(out), "-q"]).exit_code == 0
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".cvm-tmp-")) == \
        [".cvm-tmp-mine"]


def test_a_staging_folder_in_use_is_kept(tmp_path: Path) -> None:
    live = tmp_path / ".cvm-tmp-abcd1234"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the command writing into it holds it
        clean_stale(tmp_path)
        assert live.is_dir()
    finally:
        os.close(fd)
    clean_stale(tmp_path)
    assert not live.exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_a_folder_that_cannot_be_created_is_refused_before_the_work(small: Path) -> None:
    # as root, the permission check passed /proc and the command failed after its work
    res = runner.invoke(app, ["score", "-p", str(small), "-o", "/proc/cvm-x", "-q"])
    assert res.exit_code == 3
    assert res.stderr.startswith("error: --out: cannot write here: /proc: ")
    assert res.stderr.endswith("  hint: choose another output folder, or fix its permissions\n")
