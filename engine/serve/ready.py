"""A customer's answers as the service keeps them (``Ready``), and every customer's, worked out
when first asked for (``Answers``); ``dumps``: the service's compact JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.policy.explain import Explanation
from engine.serve.answers import ContactVerdict


@dataclass(frozen=True)
class Ready:
    """One customer's answers, worked out when first asked for (``Answers``)."""

    record: dict[str, Any]
    explanation: Explanation
    verdicts: tuple[ContactVerdict, ...]
    profile: dict[str, Any]
    nba: bytes  # the next best action on no particular channel, as JSON (no interaction id)
    decision: dict[str, Any]  # what an interaction records of it
    decided: dict[str, Any]  # the run's decision (decisions.csv)
    batch: dict[str, Any] | None  # the run's action list row
    opted: str | None = None  # the opt-out its verdicts hold (read at load), None: none
    # the contacts given since the run that its verdicts count (engine.serve.given)
    gave: tuple[tuple[str, str | None], ...] = ()


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


class Answers(Mapping[str, Ready]):
    """Every customer's answers by id, each worked out by ``make`` (from what the load
    prepared for all at once) when first asked for, then kept: the load does no work per
    customer (0.6-0.8 ms each: 10-15 minutes for a million customers). Two requests working
    out the same customer at once keep the first (both are the same). ``record``: a
    customer's row of the value table alone, without working out the answers."""

    def __init__(self, ids: np.ndarray, records: list[dict[str, Any]],
                 make: Callable[[int], Ready]) -> None:
        self._index = {str(cid): i for i, cid in enumerate(ids)}
        self._records = records
        self._make = make
        self._made: dict[str, Ready] = {}

    def __getitem__(self, customer_id: str) -> Ready:
        made = self._made.get(customer_id)
        if made is None:
            i = self._index[customer_id]  # KeyError: not a customer of the run
            try:
                made = self._make(i)
            except KeyError as exc:  # a bug, not "not a customer" (``get`` would say None)
                raise RuntimeError(f"the answers of {customer_id!r}: {exc!r}") from exc
            made = self._made.setdefault(customer_id, made)
        return made

    def get(self, customer_id: str, default: Any = None) -> Any:
        return self[customer_id] if customer_id in self._index else default

    def record(self, customer_id: str) -> dict[str, Any] | None:
        i = self._index.get(customer_id)
        return None if i is None else self._records[i]

    def __contains__(self, customer_id: object) -> bool:
        return customer_id in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)
