"""The scoring pipeline: load -> features -> value. Returns the customer value table.

This is the library entry point behind ``cvm score``; later stages take its ``Scored`` result.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

from engine.data.case_ids import case_note
from engine.data.load import LoadReport, Transactions, load_transactions, require_history
from engine.errors import InputError
from engine.output.writers import rounded
from engine.project.as_of_today import ahead_of_today
from engine.project.config import Config
from engine.project.schema import (
    BOOLEAN,
    CHANGE_COLUMNS,
    DATE,
    MODEL_COLUMNS,
    NUMBER,
    STAGE_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    TEXT,
    VALUE_COLUMNS,
)
from engine.project.tiers import TierSpec, load_tiers
from engine.value.clv_models import ModelFit, apply_models
from engine.value.customers import join_customers, load_customers
from engine.value.features import CODE, INTERNAL, build_features
from engine.value.formulas import MONEY, add_value, rescore
from engine.value.newcomers import Newcomers, measure_newcomers, periods_needed
from engine.value.periods import period_totals
from engine.value.retention import Retention, measure, require_sample


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
    newcomers: Newcomers  # one-time buyers' potential value under the formulas
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    # the transactions the table was made from: learning (engine/history/learn.py) counts the
    # conversions after earlier runs in them
    transactions: Transactions | None = field(default=None, repr=False, compare=False)
    # the scored customers' revenue and gross margin summed before each customer's figures are
    # rounded to cents (what the summaries print, rounded once): the sum of the rounded
    # figures drifts from the data's by cents (30 cents on CDNOW, a trial found)
    totals: tuple[float, float] | None = field(default=None, compare=False)


Progress = Callable[[str], None]



def timed_steps(progress: Callable[[str], None] | None, timings: dict[str, float]
                ) -> Callable[[str], AbstractContextManager[None]]:
    """``with step(name):`` says the step to ``progress`` as it starts and records its
    seconds in ``timings`` (the scoring stages, in one process or on a cluster)."""

    @contextmanager
    def step(name: str) -> Iterator[None]:
        if progress is not None:
            progress(name)
        start = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - start

    return step

@contextmanager
def choice_beside(config: Config, tx: Transactions
                  ) -> Iterator[Callable[[], tuple[str, str]] | None]:
    """With ``models.use: auto``, a ``choose`` for ``apply_models``: the purchase model's
    choice (``engine.value.model_choice``: fits on a calibration sample of the transactions
    alone) made on a second thread while the features and the value are computed on the first,
    which leave a core idle part of the time. BLAS keeps one thread meanwhile, as on the main
    thread a fit sets it (a fit on another thread cannot: ``engine.value.models._threads``):
    the same choice and parameters, bit for bit. None otherwise (no choice to make)."""
    if config.models.use != "auto" or config.subscriptions is not None:
        yield None
        return
    from engine.value.model_choice import choose_purchase_model
    from engine.value.models._threads import one_blas_thread

    # the fits ignore the optimiser's warnings in a catch_warnings of their own, which swaps
    # the process's one filter list: were a catch_warnings on this thread to end meanwhile,
    # their warnings would reach the terminal; they are ignored here from before to after
    with warnings.catch_warnings(), one_blas_thread(), \
            ThreadPoolExecutor(max_workers=1) as pool:
        warnings.simplefilter("ignore")
        job = pool.submit(choose_purchase_model, tx, config)

        def choose() -> tuple[str, str]:
            chosen = job.result()  # its ValueError (no model fits) is raised here
            return chosen.name, chosen.reason

        yield choose


def required(tx: Transactions, config: Config, as_of: dt.date) -> None:
    """What every command refuses before valuing anyone (on the rows, or their purchase
    days: the Dask engine's); a default as-of date after today (a year mistyped in one row)
    is said first when it is why."""
    try:
        require_history(tx, config)
        require_sample(tx, config)
    except InputError as exc:
        ahead = ahead_of_today(config, as_of, tx.report.dated_ahead) \
            if config.as_of is None else None
        if ahead is None:
            raise
        raise InputError([ahead, *exc.problems]) from None


def score(config: Config, *, progress: Progress | None = None,
          tiers: TierSpec | None = None) -> Scored:
    """Load, check and value the project's transactions: the customer value table.

    ``tiers``: the Project's value tiers (``engine.run.build``); every command and the API
    pass them. None reads value_tiers.yaml here, for scripts and tests holding a Config only."""
    timings: dict[str, float] = {}
    step = timed_steps(progress, timings)

    with step("load"):
        if tiers is None:  # a broken tier file fails before the heavy work
            tiers = load_tiers(config.project)
        # the customers file (and the model code's imports) load on the second core meanwhile;
        # a problem in the transactions is still reported first
        pool = ThreadPoolExecutor(max_workers=1)
        customers_job = pool.submit(load_customers, config)
        if config.models.use != "none":
            pool.submit(importlib.import_module, "engine.value.models.bgnbd")
        try:
            tx = load_transactions(config)
            required(tx, config, tx.as_of)
            customers = customers_job.result()
        finally:
            pool.shutdown(wait=True)
    # models.use auto: the purchase model is chosen on the second core meanwhile
    with choice_beside(config, tx) as choose:
        with step("features"):
            H, lookback = config.horizon_periods, config.retention.lookback_periods
            totals = period_totals(tx, config.period_days,
                                   max(H, lookback + 1, periods_needed(H, lookback), 2))
            frame = build_features(tx, period_days=config.period_days,
                                   horizon_periods=config.horizon_periods, totals=totals)
        with step("value"):
            with ThreadPoolExecutor(max_workers=1) as pool:  # the join is Arrow work: GIL free
                retention_job = pool.submit(measure, tx, config.retention,
                                            period_days=config.period_days, totals=totals)
                case_job = pool.submit(case_note, tx.id_array,
                                       config.data.columns["customer_id"])
                consents = join_customers(frame, customers, tx, frame[CODE].to_numpy())
                newcomers = measure_newcomers(
                    frame, totals, as_of=tx.as_of, horizon=H,
                    discount_per_period=config.discount_rate_per_period, lookback=lookback,
                    min_customers=config.retention.min_customers)
                retention = retention_job.result()
                if (note := case_job.result()) is not None:
                    tx.report.notes.append(note)
            add_value(frame, config, retention, newcomers)
        sums = exact_totals(frame)
        with step("models"):
            if config.subscriptions is not None:  # contracts: the sBG retention model
                from engine.value.subscriptions import (
                    add_contract_end,
                    apply_subscription_model,
                    contract_counts,
                )

                counts = contract_counts(tx, config.subscriptions.billing_days)
                add_contract_end(frame, counts, tx.as_of_day)
                model = apply_subscription_model(frame, config, tx, counts=counts)
            else:  # may replace potential value: score after it
                model = apply_models(frame, config, tx, choose=choose)
            cuts = rescore(frame, tiers)
            ordered = [c.name for c in VALUE_COLUMNS if c.name in frame]
            extra = [c for c in frame if c not in ordered and c not in INTERNAL]
            table = frame[ordered + extra].reset_index(drop=True)  # one copy, in schema order
    return Scored(table, tx.report, retention, tiers, tuple(cuts), tx.as_of, consents, model,
                  newcomers, timings, tx, sums)


def exact_totals(frame: pd.DataFrame) -> tuple[float, float]:
    """Revenue and gross margin of every scored customer, summed at full precision."""
    return float(frame["revenue"].sum()), float(frame["gross_margin"].sum())


def shown_totals(scored: Scored) -> tuple[float, float]:
    """The revenue and gross margin a summary prints: the exact sums rounded to cents once."""
    from engine.decimals import figure

    revenue, margin = scored.totals or exact_totals(scored.table)
    return figure(revenue, 2), figure(margin, 2)


def row_counts(scored: Scored) -> dict[str, int]:
    """Rows read, used and skipped (by reason), customers scored and customers left out (no
    purchase left: only refund rows, or every purchase row skipped): the run manifest's and
    the API's ``counts``."""
    rep = scored.report
    return {"rows_read": rep.rows_read, "rows_used": rep.rows_used,
            "rows_skipped_after_as_of": rep.after_as_of,
            "rows_skipped_zero_amount": rep.zero_amount,
            "rows_skipped_duplicates": rep.duplicates, "customers": len(scored.table),
            "customers_without_purchase": rep.customers_refund_only}


def refund_figures(report: LoadReport) -> dict[str, int | float]:
    """The refund rows used (negative amounts) and their amount, as a positive sum: those of
    the customers scored (``rows``, ``amount``: netted in their revenue, the value table's
    ``refunds``) and those of the customers left out (``left_out_rows``,
    ``left_out_amount``: in no customer's revenue). The summaries', the run manifest's,
    ``cvm score --json``'s and the API's ``refunds``."""
    return {"rows": report.refund_rows - report.refund_rows_left_out,
            "amount": round(report.refund_amount - report.refund_amount_left_out, 2) + 0.0,
            "left_out_rows": report.refund_rows_left_out,
            "left_out_amount": round(report.refund_amount_left_out, 2) + 0.0}  # never -0


def output_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table as written: money rounded to cents, other decimals to 6 places."""
    return rounded(table, MONEY)


def output_table(table: pd.DataFrame) -> pa.Table:
    """``output_frame`` as Arrow holds it, for the files: a declared column with no value at
    all (``previous_tier`` on a first run) has its declared type, not Arrow's null type, so
    that the Parquet file's schema is the same on every run (a text column the type of the
    table's other texts)."""
    import pyarrow as pa

    from engine.output.writers import arrow_table

    out = arrow_table(output_frame(table))
    text = next((f.type for f in out.schema if pa.types.is_string(f.type)
                 or pa.types.is_large_string(f.type)), pa.string())
    arrow = {TEXT: text, NUMBER: pa.float64(), BOOLEAN: pa.bool_(), DATE: pa.timestamp("ms")}
    declared = {c.name: arrow[c.type] for c in (*VALUE_COLUMNS, *MODEL_COLUMNS,
                                                 *SUBSCRIPTION_COLUMNS, *CHANGE_COLUMNS,
                                                 *STAGE_COLUMNS)}
    for i, f in enumerate(out.schema):
        if pa.types.is_null(f.type) and f.name in declared:
            out = out.set_column(i, f.name, out.column(i).cast(declared[f.name]))
    return out
