"""Stopping a command from outside: Ctrl-C (SIGINT, Python's KeyboardInterrupt) and SIGTERM,
which cron, systemd, Kubernetes and batch schedulers send. Both are raised in the main thread,
so the command's clean-up runs (no staging folder left behind) and ``engine.cli.handled``
says which it was (exit 130 and 143). A reader that closed the standard output early
(``cvm ... | head``) stops the command quietly with 141, as SIGPIPE would."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Iterator


class Terminated(BaseException):
    """SIGTERM, raised where the main thread is, as Ctrl-C raises KeyboardInterrupt."""


# the stops raised in this command: a Python callback may swallow one where it lands
# (distributed's garbage-collection callback printed "Exception ignored ... KeyboardInterrupt"
# and the run went on to write its output), so the output's commit asks again
_stops: list[type[BaseException]] = []


# set by the ``cvm`` program (engine.cli.main), not by a library caller nor a test: once a
# command has ended well, a Ctrl-C or SIGTERM while the process winds down (the interpreter's
# teardown, with Arrow's and numpy's threads, takes a moment) is ignored instead of killing a
# process whose work is complete (a trial's timed kills: exit 143, no word, the run whole)
_PROGRAM: list[bool] = []


def as_program() -> None:
    """The ``cvm`` program's own process: see ``_PROGRAM``."""
    _PROGRAM.append(True)


def _terminated(signum: int, frame: object) -> None:
    _stops.append(Terminated)
    raise Terminated


def _interrupted(signum: int, frame: object) -> None:
    _stops.append(KeyboardInterrupt)
    raise KeyboardInterrupt


@contextlib.contextmanager
def on_sigterm() -> Iterator[None]:
    """Within, SIGTERM raises ``Terminated`` and Ctrl-C ``KeyboardInterrupt``, each also
    remembered for ``raise_if_stopped``, which the context's end calls too (the previous
    handlers restored after; an ignored Ctrl-C, as in a shell's background job, stays
    ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _stops.clear()
    previous = signal.signal(signal.SIGTERM, _terminated)
    before = signal.getsignal(signal.SIGINT)
    if before is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted)
    ended = False
    try:
        yield
        raise_if_stopped()  # swallowed where it landed: still the command's end
        ended = True
    finally:
        if ended and _PROGRAM:  # the command's work is done: the process only exits now
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        else:
            signal.signal(signal.SIGTERM, previous)
            if before is signal.default_int_handler:
                signal.signal(signal.SIGINT, before)


def raise_if_stopped() -> None:
    """Raise again a stop that was swallowed where it landed: nothing is committed after a
    Ctrl-C or a SIGTERM."""
    if _stops:
        raise _stops[0]()


# what a shell reports for a process stopped by SIGPIPE (128 + 13), as `yes | head` under
# `set -o pipefail`; Python ignores the signal and raises BrokenPipeError instead
EXIT_BROKEN_PIPE = 141


def stdout_closed() -> bool:
    """Whether the reader of the standard output went away (a pipe whose reading end is
    closed: poll says POLLERR), not some other pipe or socket the command wrote to. Where
    that cannot be asked (no poll, no real descriptor) the answer is no: a bug is reported."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return False


def quiet_stdout() -> None:
    """Standard output pointed at /dev/null: the interpreter's last flush at exit would
    otherwise fail on the closed pipe again and print its own message."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real descriptor (a test's captured output)
        pass
    finally:
        os.close(devnull)
