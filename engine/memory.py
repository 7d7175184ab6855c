"""Keep the memory a batch command frees for the arrays it allocates next.

A run at 1M customers allocates and frees about 12 GB of short-lived arrays. By default each
large array is memory the kernel maps for it and takes back when it is freed: glibc serves a
block over 128 KB-32 MB by ``mmap`` and returns it by ``munmap``, numpy asks for 2 MB huge pages
for arrays of 4 MB and more (each fault zeroes 2 MB), and Arrow keeps its own jemalloc pool
that hands pages back after a delay. Every new array then faults zeroed pages in again; on a
virtual machine whose memory is backed lazily that took more system CPU than the run's own work
(``cvm run`` 1M: 17 s user, 19-26 s system, RESULTS.md). Kept in the process instead:

- glibc serves every block from its heap (``M_MMAP_MAX`` 0) and keeps up to 2 GB freed at its
  top (``M_TRIM_THRESHOLD``), growing it 256 MB at a time (``M_TOP_PAD``);
- numpy does not ask for huge pages;
- Arrow allocates from the same heap (its system pool).

numpy's and Arrow's are set by their environment variables when they are not imported yet
(``cvm --help`` then imports neither), else by their calls; a variable the user set is kept,
and nothing is changed when the user set one of glibc's variables for these settings
(``GLIBC_VARIABLES`` below) or any ``glibc.malloc.*`` tunable in ``GLIBC_TUNABLES``.

The peak memory is higher (the heap cannot always reuse a freed block for a larger one:
3.2 GB against 2.6 GB at 1M), the memory goes back to the system when the command ends. The
``cvm`` command applies it (``engine.cli.main``) except to ``cvm serve``, a long-running process
whose memory should shrink after a reload, and to ``--engine dask``, whose workers measure their
memory to decide when to spill. A program using the library may call ``keep_freed_memory``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import os
import sys
from collections.abc import Sequence
from typing import Any

# mallopt's parameters (glibc's malloc.h)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX = -1, -2, -4
TRIM_THRESHOLD = 2**31 - 1  # mallopt takes an int: keep up to 2 GB freed at the heap's top
TOP_PAD = 256 * 2**20
# read when numpy and pyarrow are imported: set before, they cost the command no import
NUMPY_HUGEPAGE, ARROW_POOL = "NUMPY_MADVISE_HUGEPAGE", "ARROW_DEFAULT_MEMORY_POOL"
# glibc's own variables for the settings above (and GLIBC_TUNABLES' glibc.malloc.*)
GLIBC_VARIABLES = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                   "MALLOC_MMAP_THRESHOLD_")


def keep_freed_memory() -> tuple[str, ...]:
    """Apply the settings above to this process; return those applied (glibc's only where the
    C library is glibc and the user did not tune it; a variable the user set for numpy or
    Arrow is left as it is)."""
    libc = None if _user_tuned_glibc() else _glibc()
    if libc is None or not all(libc.mallopt(p, v) == 1 for p, v in (
            (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_TOP_PAD, TOP_PAD))):
        return ()  # Arrow's system pool is malloc, numpy's huge pages spare faults: both
        # are worth changing only with glibc's heap kept
    applied = ["glibc heap"]
    if NUMPY_HUGEPAGE not in os.environ:
        if "numpy" in sys.modules:
            import numpy as np

            core: Any = getattr(np, "_core", None) or np.core  # numpy 2, numpy 1
            core.multiarray._set_madvise_hugepage(False)
        else:
            os.environ[NUMPY_HUGEPAGE] = "0"
        applied.append("numpy without huge pages")
    if ARROW_POOL not in os.environ:
        if "pyarrow" in sys.modules:
            import pyarrow as pa

            pa.set_memory_pool(pa.system_memory_pool())
        else:
            os.environ[ARROW_POOL] = "system"
        applied.append("arrow system pool")
    return tuple(applied)


def _user_tuned_glibc() -> bool:
    """Whether the user tuned glibc's allocator by its environment variables: theirs wins."""
    return any(v in os.environ for v in GLIBC_VARIABLES) or \
        "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")


def applies_to(args: Sequence[str]) -> bool:
    """Whether ``cvm ARGS`` should keep its freed memory: not ``serve``, not ``--engine dask``."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command == "serve":
        return False
    return not any(a == "--engine=dask" or (a == "--engine" and b == "dask")
                   for a, b in itertools.pairwise([*args, ""]))


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 (glibc only: musl and macOS lack it)
    except (OSError, AttributeError):
        return None
    return libc
