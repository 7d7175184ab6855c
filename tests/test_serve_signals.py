"""`cvm serve` stopped from outside, as its own process: Ctrl-C is exit 130 (`interrupted`),
also one it started ignoring (a shell script's background job: the script's `kill -INT`
stops it), and SIGTERM 143 (`terminated`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT
from tests.serve_util import KEY


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serve-signals") / "run"
    result = CliRunner().invoke(app, ["run", "-p", str(ROOT), "--no-history", "-q",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _serving(run: Path, ctrl_c: signal.Handlers) -> tuple[subprocess.Popen[str], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CVM_SERVE_KEY": KEY}
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", str(ROOT), "--run", str(run), "--no-history",
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=ROOT, preexec_fn=lambda: signal.signal(signal.SIGINT, ctrl_c))
    url = f"http://127.0.0.1:{port}/health"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc, url
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.communicate()[1]) from None
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the service did not answer in 30 s")


def test_ctrl_c_from_a_terminal_stops_it_with_130(run_folder: Path) -> None:
    proc, _ = _serving(run_folder, signal.SIG_DFL)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.splitlines()[-1]) == (130, "interrupted")


def test_a_ctrl_c_it_started_ignoring_stops_it_with_130(run_folder: Path) -> None:
    """A retention lead's trial: `cvm serve ... &` in a script, then `kill -INT`: uvicorn
    took the signal the shell had the process ignore, stopped the service and exited 0
    without a word (a script stops it so, as the service's benchmark does)."""
    proc, _ = _serving(run_folder, signal.SIG_IGN)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.splitlines()[-1]) == (130, "interrupted")


def test_sigterm_stops_it_with_143(run_folder: Path) -> None:
    proc, _ = _serving(run_folder, signal.SIG_IGN)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.splitlines()[-1]) == (143, "terminated")
