"""Value tiers, defined in ``rules/value_tiers.yaml``: by fixed thresholds or by quantiles.

    basis: total_value          # the column tiers are cut on
    method: quantile            # or: threshold
    tiers:                      # highest first; the last tier takes everyone else
      - {name: platinum, share: 0.05}     # quantile: share of customers in this tier
      - {name: gold, share: 0.15}
      - {name: silver, share: 0.30}
      - {name: bronze}
    # method: threshold -> each tier but the last has `min: <value of basis>`

Customers with the same basis value always get the same tier: quantile tiers are turned into
cut values first (the basis value at that quantile), then applied like thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InputError
from engine.project import checks as c
from engine.project.yamlio import load_file

if TYPE_CHECKING:  # reading the tiers needs neither; assigning them does
    import numpy as np
    import pandas as pd

TIERS_FILE = Path("rules") / "value_tiers.yaml"
BASES = ("total_value", "historic_value", "potential_value", "clv_discounted", "clv_simple",
         "value_score")

TIER = c.Record([
    c.Field("name", c.Text()),
    c.Field("share", c.Optional(c.Number(min=0, max=1, min_exclusive=True)), None),
    c.Field("min", c.Optional(c.Number()), None),
    c.Field("description", c.Text(), ""),
])
TIERS = c.Record([
    c.Field("basis", c.Text(choices=BASES), "total_value"),
    c.Field("method", c.Text(choices=("quantile", "threshold"))),
    c.Field("tiers", c.ListOf(TIER, min_items=2)),
], what="value tier definitions")


@dataclass(frozen=True)
class Tier:
    name: str
    share: float | None
    min: float | None
    description: str


@dataclass(frozen=True)
class TierSpec:
    file: str
    basis: str
    method: str
    tiers: tuple[Tier, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)


def load_tiers(project: Path) -> TierSpec:
    display = str(TIERS_FILE)
    doc = load_file(project / TIERS_FILE, display=display, inside=project)
    raw = c.check(doc, TIERS)
    tiers = [Tier(**t) for t in raw["tiers"]]
    problems = []
    names = [t.name for t in tiers]
    for i, t in enumerate(tiers):
        path = ("tiers", i)
        if names.index(t.name) != i:
            problems.append(doc.problem((*path, "name"), f"tier {t.name!r} is defined twice"))
        last = i == len(tiers) - 1
        key, other = ("share", "min") if raw["method"] == "quantile" else ("min", "share")
        value = getattr(t, key)
        if getattr(t, other) is not None:
            problems.append(doc.problem((*path, other), f"{other} is not used with method "
                                        f"{raw['method']}", hint=f"use {key}"))
        if last and value is not None:
            problems.append(doc.problem((*path, key), f"the last tier takes everyone else, "
                                        f"expected no {key}", hint=f"remove {key} here"))
        if not last and value is None:
            problems.append(doc.problem(path, f"missing {key} for tier {t.name!r}",
                                        hint=f"every tier but the last needs {key}"))
    if raw["method"] == "quantile":
        total = sum(t.share or 0 for t in tiers)
        if total >= 1:
            problems.append(doc.problem(("tiers",), f"the shares add up to {total:g}, expected "
                                        "less than 1 (the last tier takes the rest)",
                                        hint=f"lower the shares: the last tier, {tiers[-1].name}"
                                        ", takes the customers the others leave (1 minus their "
                                        "sum)"))
    else:
        mins = [t.min for t in tiers[:-1]]
        if any(a is not None and b is not None and a <= b for a, b in pairwise(mins)):
            problems.append(doc.problem(("tiers",), "thresholds must fall from the first tier "
                                        "to the last", hint="list tiers highest first"))
    if problems:
        raise InputError(problems)
    return TierSpec(display, raw["basis"], raw["method"], tuple(tiers))


def cut_values(spec: TierSpec, basis: np.ndarray) -> list[float]:
    """The minimum basis value of each tier but the last (highest tier first)."""
    import numpy as np

    if spec.method == "threshold":
        return [float(t.min) for t in spec.tiers[:-1]]  # type: ignore[arg-type]
    cuts, top = [], 0.0
    for t in spec.tiers[:-1]:
        top += float(t.share)  # type: ignore[arg-type]
        cuts.append(float(np.quantile(basis, 1.0 - top)) if len(basis) else 0.0)
    return cuts


def assign(spec: TierSpec, basis: np.ndarray) -> tuple[pd.Categorical, list[float]]:
    """Tier of each customer: the first tier (highest first) whose cut value it reaches."""
    import numpy as np
    import pandas as pd

    cuts = cut_values(spec, basis)
    idx = np.full(len(basis), len(spec.tiers) - 1, dtype=np.int64)
    for i in reversed(range(len(cuts))):
        idx[basis >= cuts[i]] = i
    return pd.Categorical.from_codes(idx, categories=list(spec.names)), cuts
