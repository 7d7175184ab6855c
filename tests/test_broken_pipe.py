"""A reader that closes the pipe early (``cvm ... | head -1``) stops the command quietly with
141, as a process stopped by SIGPIPE, never as an internal error (4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_closed_pipe_is_a_quiet_stop_not_a_bug() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "validate", "--audience",
                             "--project", str(ROOT)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    stderr = proc.stderr.read().decode()
    assert (proc.wait(timeout=120), stderr) == (141, "")
