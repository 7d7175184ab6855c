"""Every opt-out the history holds, as the service knows it now (README "Real time").

A batch run knows an opt-out from its first as-of date after it; a live answer cannot wait for
that run. The service reads every opt-out at each load, whatever its date, and rereads them
when a response import lands (``refresh``, each second: the imports' count and highest id
when nothing landed), so an opt-out imported while it serves applies within seconds, without a
reload. It reads through a read-only store of its own: it never waits on the history's write
lock, nor holds it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.history.store import Store
    from engine.project.config import Config


class OptOuts:
    """Customer -> why they opted out (their first opt-out), swapped whole on a change."""

    def __init__(self, config: Config | None, store: Store | None = None) -> None:
        self._config = config
        self._store = store  # given (tests); else opened read-only on first use
        self._owned: Store | None = None
        self._lock = threading.Lock()
        self.known: Mapping[str, str] = {}
        self.stamp: tuple[int, int] | None = None
        self.failure: str | None = None  # why the last reread failed (None: it did not)

    def get(self, customer_id: str) -> str | None:
        return self.known.get(customer_id)

    def refresh(self, on_error: Callable[[str], None] | None = None) -> None:
        """Reread the opt-outs if a response import landed since the last read. A failure
        keeps what was read, says why once (``on_error``) and is tried again next time."""
        from engine.history.contacts import opt_outs, opt_outs_stamp

        with self._lock:
            try:
                store = self._reader()
                if store is None:
                    return
                if opt_outs_stamp(store) != self.stamp:
                    self.stamp, self.known = opt_outs(store)
                self.failure = None
            except Exception as exc:
                from engine.errors import CvmError

                text = exc.format() if isinstance(exc, CvmError) else \
                    f"{type(exc).__name__}: {exc}"
                if on_error is not None and text != self.failure:
                    on_error(f"could not reread the opt-outs, still honouring the "
                             f"{len(self.known)} read before: {text}")
                self.failure = text
                if on_error is None:
                    raise

    def _reader(self) -> Store | None:
        if self._store is not None:
            return self._store
        if self._owned is None and self._config is not None:
            from engine.history import settings_for
            from engine.history.store import open_store

            # None: no history yet; on PostgreSQL one connection kept, not one a second
            self._owned = open_store(settings_for(self._config), create=False, kept=True)
        return self._owned

    def close(self) -> None:
        with self._lock:
            if self._owned is not None:
                self._owned.close()
                self._owned = None
