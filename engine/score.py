"""The scoring pipeline: load -> features -> value. Returns the customer value table.

This is the library entry point behind ``cvm score``; later stages take its ``Scored`` result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.config import Config
from engine.customers import CustomersFile, load_customers
from engine.features import CODE, build_features
from engine.load import LoadReport, load_transactions
from engine.retention import Retention, measure
from engine.schema import VALUE_COLUMNS, consent_column
from engine.tiers import TierSpec, load_tiers
from engine.value import MONEY, add_value


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


def score(config: Config) -> Scored:
    tiers = load_tiers(config.project)  # a broken tier file fails before the heavy work
    tx = load_transactions(config)
    customers = load_customers(config, tx.report)
    frame = build_features(tx, period_days=config.period_days,
                           horizon_periods=config.horizon_periods)
    retention = measure(tx, config.retention, period_days=config.period_days)
    consents = _join_customers(frame, customers, tx.report)
    cuts = add_value(frame, config, retention, tiers)
    frame = frame.drop(columns=[CODE])
    ordered = [c.name for c in VALUE_COLUMNS if c.name in frame]
    extra = [c for c in frame if c not in ordered]
    table = frame[ordered + extra].reset_index(drop=True)
    return Scored(table, tx.report, retention, tiers, tuple(cuts), tx.as_of, consents)


def _join_customers(frame: pd.DataFrame, customers: CustomersFile | None,
                    report: LoadReport) -> tuple[str, ...]:
    if customers is None:
        frame["referrals_made"] = 0
        return ()
    info = customers.frame
    known = frame["customer_id"].isin(info.index)
    report.purchasers_not_in_customers_file = int((~known).sum())
    report.customers_without_purchases = int((~info.index.isin(frame["customer_id"])).sum())
    joined = info.reindex(frame["customer_id"])
    for col in info.columns:
        values = joined[col].to_numpy()
        if col.startswith("consent_"):
            values = np.where(pd.isna(values), False, values).astype(bool)
        frame[col] = values
    if "referred_by" in info:
        counts = info["referred_by"].dropna().value_counts()
        frame["referrals_made"] = frame["customer_id"].map(counts).fillna(0).astype(np.int64)
        unknown = ~info["referred_by"].dropna().isin(info.index)
        if unknown.any():
            report.notes.append(f"{int(unknown.sum()):,} referred_by values name no customer "
                                "in the customers file")
    else:
        frame["referrals_made"] = 0
    if report.purchasers_not_in_customers_file:
        report.notes.append(f"{report.purchasers_not_in_customers_file:,} purchasing customers "
                            "are not in the customers file: no consents recorded for them")
    if report.customers_without_purchases:
        report.notes.append(f"{report.customers_without_purchases:,} customers in the "
                            "customers file have no purchase before the as-of date: not scored")
    return tuple(consent_column(c) for c in customers.consents)


def output_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table as written: money rounded to cents, rates to 6 places, dates as dates."""
    out = table.copy()
    for col in out.columns:
        if col in MONEY:
            out[col] = out[col].round(2)
        elif out[col].dtype.kind == "f":
            out[col] = out[col].round(6)
    return out
