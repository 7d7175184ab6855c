"""A SIGTERM or Ctrl-C once a command has ended well (the process only winding down) does not
turn a complete run into exit 143 with no word: a campaign-operations trial's timed kills hit
that window 3 times in 14, the run's files whole. Only the ``cvm`` program does this; a
library caller's (or a test's) handlers are restored as they were."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import interrupts


@pytest.fixture
def handlers() -> Iterator[None]:
    term, intr = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGTERM, term)
    signal.signal(signal.SIGINT, intr)
    interrupts._PROGRAM.clear()


def test_the_program_ignores_a_stop_after_a_command_ended_well(handlers: None) -> None:
    interrupts.as_program()
    with interrupts.on_sigterm():
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_a_failed_command_and_a_library_caller_get_the_handlers_back(handlers: None) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.on_sigterm():  # not the program: restored
        pass
    assert signal.getsignal(signal.SIGTERM) is before
    interrupts.as_program()
    with pytest.raises(ValueError), interrupts.on_sigterm():
        raise ValueError
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_cvm_program_exits_0_when_terminated_after_its_work(tmp_path: Path) -> None:
    """The real program: a SIGTERM sent once it has printed its last line."""
    code = ("import os, signal, sys\n"
            "from engine import interrupts\n"
            "interrupts.as_program()\n"
            "with interrupts.on_sigterm():\n"
            "    pass\n"
            "print('done', flush=True)\n"
            "os.kill(os.getpid(), signal.SIGTERM)\n"
            "import time; time.sleep(0.2)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert (done.returncode, done.stdout) == (0, "done\n")
