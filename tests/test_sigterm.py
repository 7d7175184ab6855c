"""SIGTERM (cron, systemd, Kubernetes and batch schedulers stop a job with it) stops a command
as Ctrl-C does: its clean-up runs, so no staging folder or new output folder is left behind,
and it says so (exit 143). Before, the process died where it was, leaving both (a new user's
trial, on `cvm run --engine dask`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.output.folder import TEMP_PREFIX
from tests.history_runs import retail_copy

ROOT = Path(__file__).resolve().parents[1]
# `cvm run` whose allocation waits (as a long one would), stopped from outside meanwhile
SLOW_RUN = """
import sys, time
from engine.run import pipeline
from engine.cli import app

def waiting(*args, **kwargs):
    time.sleep(60)

pipeline.allocate = waiting
app(sys.argv[1:], prog_name="cvm")
"""


def test_sigterm_cleans_up_as_ctrl_c_does(tmp_path: Path) -> None:
    project = retail_copy(tmp_path)
    out = tmp_path / "new" / "out"
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, "run", "--project", str(project), "--out", str(out),
         "-q", "--no-history"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while not list(out.glob(f"{TEMP_PREFIX}*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(out.glob(f"{TEMP_PREFIX}*")), "the run never staged its files"
    child.send_signal(signal.SIGTERM)
    stdout, stderr = child.communicate(timeout=60)
    assert (child.returncode, stderr, stdout) == (143, "terminated\n", "")
    assert not (tmp_path / "new").exists()  # the folders the run made, removed
