"""The second pass, one task per partition: the engine's own loading and features on the
partition's rows (every row of its customers), and what the global steps need of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.data.load import LoadReport, load_transactions
from engine.distributed.route import partition_config
from engine.project.config import Config
from engine.value.features import build_features
from engine.value.model_choice import calibration_frame
from engine.value.newcomers import periods_needed
from engine.value.periods import PeriodTotals, period_totals
from engine.value.subscriptions import ContractCounts, contract_counts


@dataclass(frozen=True)
class Part:
    """One partition's customers (their ids sorted, as its codes), features and totals."""

    ids: pa.Array  # the partition's distinct customer ids, sorted: index = local code
    frame: pd.DataFrame  # build_features: one row per customer with a purchase
    totals: PeriodTotals  # per local code and period
    report: LoadReport
    calibration: pd.DataFrame | None  # models.use auto: calibration_frame, local codes
    # the rows learning reads (engine.history.learn): code (local), day, amount, margin of
    # the rows dated ``since`` or later, in the order loaded; None when not asked for
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    # subscriptions: per local code, the payments, whether a contract runs at the as-of
    # date and its end (engine.value.subscriptions.contract_counts), and the distinct days
    # of the payments (the contracts became payments here, once the as-of date was known)
    contracts: ContractCounts | None = None
    buy_days: np.ndarray | None = None


def totals_periods(config: Config) -> int:
    """The periods of the totals ``engine.value.score.score`` computes."""
    H, lookback = config.horizon_periods, config.retention.lookback_periods
    return max(H, lookback + 1, periods_needed(H, lookback), 2)


def score_part(config: Config, scratch: Path, part: int, as_of: dt.date,
               split: tuple[dt.date, dt.date] | None, since: int | None = None
               ) -> Part | None:
    """Load and featurise one partition (a Dask task); ``split``: the calibration and
    observation ends of ``models.use: auto``, decided over all partitions; ``since``: the
    first day of the rows learning reads (``engine.history.learn``), None: none."""
    cfg = partition_config(config, scratch, part, as_of)
    if cfg is None:
        return None
    tx = load_transactions(cfg, part=True)
    totals = period_totals(tx, config.period_days, totals_periods(config))
    # copied into one 2-D block per dtype before it is sent to the client: sent as a block per
    # column (build_features' layout), the client held 1.8 GB more at 10M customers
    frame = build_features(tx, period_days=config.period_days,
                           horizon_periods=config.horizon_periods, totals=totals).copy()
    calibration = None
    if split is not None:
        calibration = calibration_frame(tx, split[0], split[1], config.models.time_unit_days)
    rows = None
    if since is not None:
        keep = tx.day >= since
        rows = (tx.code[keep], tx.day[keep], tx.amount[keep], tx.margin[keep])
    contracts = buy_days = None
    if config.subscriptions is not None:
        contracts = contract_counts(tx, config.subscriptions.billing_days)
        buy_days = np.unique(tx.day[tx.amount > 0])
    return Part(tx.id_array, frame, totals, tx.report, calibration, rows, contracts, buy_days)
