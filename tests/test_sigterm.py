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

import pytest

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


# `cvm run` in which Ctrl-C is swallowed where it lands, as distributed's garbage-collection
# callback does ("Exception ignored in: GCDiagnosis._gc_callback ... KeyboardInterrupt")
SWALLOWING_RUN = """
import os, signal, sys, time
from engine.run import pipeline
from engine.cli import app

decide = pipeline.decide

def swallowing(*args, **kwargs):
    try:
        os.kill(os.getpid(), {signum})
        time.sleep(1)
    except BaseException:
        pass
    return decide(*args, **kwargs)

pipeline.decide = swallowing
app(sys.argv[1:], prog_name="cvm")
"""


def test_a_stop_swallowed_by_a_callback_still_stops_the_run(tmp_path: Path) -> None:
    # a new user's trial: Ctrl-C during `cvm run --engine dask` was once ignored, and the run
    # went on to write its output (exit 0)
    project = retail_copy(tmp_path)
    for signum, code, said in ((signal.SIGINT, 130, "interrupted\n"),
                               (signal.SIGTERM, 143, "terminated\n")):
        out = tmp_path / "new" / "out"
        done = subprocess.run(
            [sys.executable, "-c", SWALLOWING_RUN.format(signum=int(signum)), "run",
             "--project", str(project), "--out", str(out), "-q", "--no-history"], cwd=ROOT,
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
            # as from a terminal: a shell's background job (`bash .ci/run &`) starts with Ctrl-C
            # ignored, which the engine keeps ignored
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        assert (done.returncode, done.stderr, done.stdout) == (code, said, "")
        assert not (tmp_path / "new").exists()


# `cvm run --engine dask` waiting while its local cluster is up
DASK_WAIT = """
import pathlib, sys, time
from engine.distributed import job
from engine.cli import app

def waiting(*args, **kwargs):
    pathlib.Path(sys.argv[-1]).write_text("up")
    time.sleep(60)

job.score_dask = waiting
app(sys.argv[1:-1], prog_name="cvm")
"""


def test_ctrl_c_on_dask_says_interrupted_without_the_workers_tracebacks(
        tmp_path: Path) -> None:
    # a new user's trial: a terminal's Ctrl-C reached the local cluster's workers too, and
    # each printed a KeyboardInterrupt traceback before the command said "interrupted"
    pytest.importorskip("distributed")
    project = retail_copy(tmp_path)
    up = tmp_path / "up"
    child = subprocess.Popen(
        [sys.executable, "-c", DASK_WAIT, "run", "--project", str(project), "--out",
         str(tmp_path / "out"), "-q", "--no-history", "--engine", "dask", str(up)], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a terminal's
    deadline = time.monotonic() + 90
    while not up.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert up.exists(), "the cluster never came up"
    time.sleep(1)
    os.killpg(child.pid, signal.SIGINT)  # the whole process group, as a terminal sends it
    stdout, stderr = child.communicate(timeout=60)
    assert (child.returncode, stderr, stdout) == (130, "interrupted\n", "")
