"""The format versions of the history's Arrow blocks, and the refusal of one this engine does
not read.

Each block table (``cvm_run_actions``, ``cvm_run_snapshots``, ``cvm_run_values``) stores a
``format`` per block. A new format comes with a new Alembic revision that records the formats
(``BLOCK_FORMATS`` of the revision; tests/test_history_block_formats.py ties them to the head),
so that an older engine refuses the history when it opens it ("the history is at version ...,
which this CVM Engine does not know"). A block of an unknown format met all the same (a history
written by an engine whose format changed without a revision) is the user's to fix by
upgrading, never an internal error: ``check`` raises an InputError, which the store's
``guarded`` names with the history's location.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from engine.errors import InputError, Problem

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.ipc as ipc

HINT = ("the history was written by a newer CVM Engine: upgrade CVM Engine to read it "
        "(or point history, or CVM_HISTORY_URL, at another history)")


class UnknownBlockFormat(InputError):
    """A block whose format this engine does not read (exit 1, not an internal error)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(Problem(message, key="history", hint=HINT))


def check(kind: str, run: int, found: int, known: Collection[int]) -> None:
    """Refuse a ``kind`` block of ``run`` whose ``found`` format is not ``known``."""
    if found in known:
        return
    formats = sorted(known)
    reads = (f"{formats[0]}" if len(formats) == 1 else
             f"{formats[0]} to {formats[-1]}" if formats == list(range(formats[0],
                                                                       formats[-1] + 1))
             else ", ".join(str(f) for f in formats))
    raise UnknownBlockFormat(f"run {run}: {kind} block format {found}, which this CVM Engine "
                             f"does not read (it reads format {reads})")


def read_block(data: bytes, options: ipc.IpcReadOptions | None = None) -> pa.Table:
    """A stored block, decoded and validated whole: a block damaged in the store (its bytes
    changed, SQLite's pages intact) is Arrow's error, which the store names as damage, and
    never offsets pointing out of the block (a crash of the process when read)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    table = ipc.open_stream(pa.py_buffer(bytes(data)), options=options).read_all()
    table.validate(full=True)
    return table
