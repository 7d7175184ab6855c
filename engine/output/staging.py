"""The engine's own staging in an output folder (used by engine.output.commit).

A command stages its files in ``.cvm-tmp-XXXXXXXX/`` (``tempfile.mkdtemp``) and writes the
record through ``.cvm-tmp-record-<12 hex>``. A command killed outright (``kill -9``, a power
cut) leaves them behind; the next command writing there removes them. Only names the engine
makes are touched, and a staging folder only when no command holds it: each command holds an
exclusive ``flock`` on its own staging folder for as long as it exists, which the system
releases when the process dies.

In: an output folder. Out: nothing (leftovers removed). Imports nothing of the engine.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

STAGE = re.compile(r"\.cvm-tmp-[a-z0-9_]{8}")  # tempfile.mkdtemp(prefix=TEMP_PREFIX)
RECORD_TMP = re.compile(r"\.cvm-tmp-record-[0-9a-f]{12}")  # written under the folder lock


def hold(stage: Path) -> int | None:
    """Hold ``stage`` as in use until the returned descriptor is closed (POSIX)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no cleaning either
        return None
    fd = os.open(stage, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def release(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def clean_stale(folder: Path) -> None:
    """Remove the leftovers of killed commands from ``folder`` (call it holding the folder's
    lock, so that no record is being written)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    with os.scandir(folder) as it:
        entries = [e for e in it if e.name.startswith(".cvm-tmp-")]
    for entry in entries:
        if RECORD_TMP.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
        elif STAGE.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            try:
                fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held: a command is writing into it
                os.close(fd)
                continue
            try:
                shutil.rmtree(entry.path, ignore_errors=True)
            finally:
                os.close(fd)
