"""Stopping a command from outside: Ctrl-C (SIGINT, Python's KeyboardInterrupt) and SIGTERM,
which cron, systemd, Kubernetes and batch schedulers send. Both are raised in the main thread,
so the command's clean-up runs (no staging folder left behind) and ``engine.cli.handled``
says which it was (exit 130 and 143)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(BaseException):
    """SIGTERM, raised where the main thread is, as Ctrl-C raises KeyboardInterrupt."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def on_sigterm() -> Iterator[None]:
    """Within, SIGTERM raises ``Terminated`` (the previous handler restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
