"""A reader that closes the pipe early (``cvm ... | head -1``) stops the command quietly with
141, as a process stopped by SIGPIPE, never as an internal error (4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from engine.cli import handled

ROOT = Path(__file__).resolve().parents[1]


def test_a_closed_pipe_is_a_quiet_stop_not_a_bug() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "validate", "--audience",
                             "--project", str(ROOT)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    stderr = proc.stderr.read().decode()
    assert (proc.wait(timeout=120), stderr) == (141, "")


def test_a_broken_pipe_elsewhere_is_still_a_bug(capsys: pytest.CaptureFixture[str]) -> None:
    """Only the standard output's reader going away is a quiet stop: a broken pipe to anything
    else (a database's socket, a worker) while the output is open is reported as a bug."""
    def command() -> int:
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(typer.Exit) as stop:
        handled(command)()
    assert stop.value.exit_code == 4
    assert capsys.readouterr().err.startswith(
        "internal error: BrokenPipeError: [Errno 32] Broken pipe\n")
