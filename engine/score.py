"""The scoring pipeline: load -> features -> value. Returns the customer value table.

This is the library entry point behind ``cvm score``; later stages take its ``Scored`` result.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.clv_models import ModelFit, apply_models
from engine.config import Config
from engine.customers import CustomersFile, load_customers
from engine.features import CODE, REFERRER, REPEAT_SPEND, build_features
from engine.load import LoadReport, Transactions, load_transactions
from engine.output import rounded
from engine.retention import Retention, measure
from engine.schema import VALUE_COLUMNS, consent_column
from engine.tiers import TierSpec, load_tiers
from engine.value import MONEY, add_value, rescore


@dataclass(frozen=True)
class Scored:
    """The customer value table and what it took to make it."""

    table: pd.DataFrame
    report: LoadReport
    retention: Retention
    tiers: TierSpec
    tier_cuts: tuple[float, ...]
    as_of: dt.date
    consents: tuple[str, ...]
    model: ModelFit
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step


Progress = Callable[[str], None]


def score(config: Config, *, progress: Progress | None = None) -> Scored:
    """Load, check and value the project's transactions: the customer value table."""
    timings: dict[str, float] = {}

    @contextmanager
    def step(name: str) -> Iterator[None]:
        if progress is not None:
            progress(name)
        start = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - start

    with step("load"):
        tiers = load_tiers(config.project)  # a broken tier file fails before the heavy work
        tx = load_transactions(config)
        customers = load_customers(config, tx.report)
    with step("features"):
        frame = build_features(tx, period_days=config.period_days,
                               horizon_periods=config.horizon_periods)
    with step("value"):
        retention = measure(tx, config.retention, period_days=config.period_days)
        consents = _join_customers(frame, customers, tx)
        cuts = add_value(frame, config, retention, tiers)
    with step("models"):
        model = apply_models(frame, config)
        if model.used:  # potential value changed: so did total value, score and tier
            cuts = rescore(frame, tiers)
        frame = frame.drop(columns=[CODE, REFERRER, REPEAT_SPEND])
        ordered = [c.name for c in VALUE_COLUMNS if c.name in frame]
        extra = [c for c in frame if c not in ordered]
        table = frame[ordered + extra].reset_index(drop=True)
    return Scored(table, tx.report, retention, tiers, tuple(cuts), tx.as_of, consents, model,
                  timings)


def _join_customers(frame: pd.DataFrame, customers: CustomersFile | None,
                    tx: Transactions) -> tuple[str, ...]:
    """Join the customers file on customer codes (never on text: fast at millions of rows)."""
    report = tx.report
    codes = frame[CODE].to_numpy()
    if customers is None:
        frame["referrals_made"] = 0
        frame[REFERRER] = -1
        return ()
    n = len(tx.customer_ids)
    file_code = _index_in(customers.ids, tx.id_array)  # tx code of each file row, or -1
    rows_of_code = np.full(n, -1, dtype=np.int64)
    found = file_code >= 0
    rows_of_code[file_code[found]] = np.flatnonzero(found)
    rows = rows_of_code[codes]
    known = rows >= 0
    scored = np.zeros(n, dtype=bool)
    scored[codes] = True
    report.purchasers_not_in_customers_file = int((~known).sum())
    file_scored = found & scored[np.maximum(file_code, 0)]
    report.customers_without_purchases = int((~file_scored).sum())
    safe = np.where(known, rows, 0)
    for col in customers.frame.columns:
        values = customers.frame[col].to_numpy()
        taken = values[safe]
        if values.dtype == bool:
            frame[col] = np.where(known, taken, False)
        elif values.dtype.kind in "fM":
            frame[col] = np.where(known, taken, np.array(np.nan).astype(values.dtype))
        else:
            frame[col] = np.where(known, taken, None)
    frame[REFERRER] = -1
    frame["referrals_made"] = 0
    if "referred_by" in customers.frame:
        ref = pa.array(customers.frame["referred_by"], type=pa.string(), from_pandas=True)
        ref_code = _index_in(ref, tx.id_array)  # referrer's tx code, or -1
        has_ref = ref_code >= 0
        made = np.bincount(ref_code[has_ref], minlength=n)
        frame["referrals_made"] = made[codes].astype(np.int64)
        frame[REFERRER] = np.where(known, ref_code[safe], -1)
        unknown = np.asarray(pc.is_valid(ref).to_numpy(zero_copy_only=False), dtype=bool) & \
            (_index_in(ref, customers.ids) < 0)
        if unknown.any():
            report.notes.append(f"{int(unknown.sum()):,} referred_by values name no customer "
                                "in the customers file")
    if report.purchasers_not_in_customers_file:
        report.notes.append(f"{report.purchasers_not_in_customers_file:,} purchasing customers "
                            "are not in the customers file: no consents recorded for them")
    if report.customers_without_purchases:
        report.notes.append(f"{report.customers_without_purchases:,} customers in the "
                            "customers file have no purchase before the as-of date: not scored")
    return tuple(consent_column(c) for c in customers.consents)


def _index_in(values: pa.Array, value_set: pa.Array) -> np.ndarray:
    found = pc.index_in(values, value_set=value_set)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def output_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table as written: money rounded to cents, other decimals to 6 places."""
    return rounded(table, MONEY)
