"""``score`` over a Dask cluster: the same ``Scored`` as ``engine.value.score.score``.

Two passes over the rows on the workers (``route.py``: rows to the partition of their
customer; ``part.py``: the engine's loading and features per partition), then the steps that
read every customer, on the client, with the engine's own functions on the per-customer table
(README.md of this package says why the result is the same, byte for byte)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.case_ids import case_note
from engine.data.days import as_of_over, purchase_days
from engine.data.empty_tail import empty_tail_note
from engine.data.folder import no_rows_at_all
from engine.data.load import LoadReport
from engine.data.spaced_ids import Spaced
from engine.distributed.merge import (
    merged_calibration,
    merged_contracts,
    merged_parts,
    merged_report,
    merged_rows,
)
from engine.distributed.part import Part, score_part
from engine.distributed.route import Routed, input_files, route_file, source_of
from engine.distributed.tasks import Guarded, results
from engine.errors import InputError
from engine.project.as_of_today import ahead_text
from engine.project.object_store import ObjectPath
from engine.project.project import Project
from engine.project.schema import VALUE_COLUMNS
from engine.value.clv_models import apply_models
from engine.value.customers import join_customers, load_customers
from engine.value.features import CODE, INTERNAL
from engine.value.formulas import add_value, rescore
from engine.value.model_choice import chosen_from, holdout_split
from engine.value.newcomers import measure_newcomers
from engine.value.retention import measure
from engine.value.score import Scored, exact_totals, required, timed_steps
from engine.value.subscriptions import add_contract_end, apply_subscription_model

Progress = Callable[[str], None]
ROWS_PER_PARTITION = 4_000_000  # about 1 GB of a worker's memory while it is loaded


def partitions_for(rows: int, workers: int) -> int:
    """Enough partitions to keep each worker busy and each partition's rows in memory."""
    return max(2 * workers, -(-rows // ROWS_PER_PARTITION))


def score_dask(project: Project, client: Any, work: Path, *, partitions: int | None = None,
               progress: Progress | None = None, since: int | None = None) -> Scored:
    """Load, check and value the project's transactions on ``client``'s cluster.

    ``partitions``: how many parts the customers are hashed into (default: from the rows
    read); ``work``: where the partitions' rows are written between the two passes, a
    folder every worker can write and read (the caller removes it, once the workers are
    stopped: ``engine.distributed.job.scratch_folder``); ``since``:
    the rows dated on or after this day are gathered as ``Scored.transactions``, for
    learning (``engine.history.learn.learning_since``; None: none, and no transactions)."""
    config, tiers = project.config, project.tiers
    timings: dict[str, float] = {}
    step = timed_steps(progress, timings)

    inputs, skipped = input_files(config)
    files = [f for f, _ in inputs]
    with step("load"):
        # the first pass routes to a number of partitions fixed before the rows are
        # counted: from the files' sizes (a Parquet row is ~16 bytes, a CSV line ~60)
        size = sum(n for _, n in inputs)
        n_parts = partitions or partitions_for(size // 16, _workers(client))
        routed: list[Routed] = results(client.gather(client.map(
            Guarded(), [route_file] * len(files), [config] * len(files), range(len(files)),
            files, [work] * len(files), [n_parts] * len(files), pure=False)))
        empty = [r.without_rows for r in routed if r.without_rows is not None]
        if empty and len(empty) == len(routed):  # a folder's every file
            folder = config.data.transactions
            assert isinstance(folder, Path | ObjectPath)  # files (job.check_supported)
            raise InputError(no_rows_at_all(source_of(config, folder), empty))
        all_days = np.unique(np.concatenate([r.days for r in routed]))
        as_of, buy_days = as_of_over(config, all_days, np.unique(np.concatenate(
            [r.buy_days for r in routed])))
        last_day = int(all_days[-1])
        ahead = [r.ahead for r in routed if r.ahead is not None]  # the latest, first met
        dated = ahead_text(sum(a[0] for a in ahead), max(ahead, key=lambda a: a[1])[2]) \
            if ahead else ""
        days = purchase_days(buy_days, as_of, LoadReport(file=config.display(
            config.data.transactions), last_day=last_day, dated_ahead=dated))
        # subscriptions: the contracts become payments in their partitions, once the
        # as-of date is known; the checks read the payments' days, after them
        contracts = config.subscriptions is not None
        if not contracts:
            required(days, config, as_of)
        split = holdout_split(config, days) if config.models.use == "auto" and \
            not contracts else None
        ends = (split.calibration_end, split.observation_end) if split else None
    with step("features"):
        parts: list[Part | None] = results(client.gather(client.map(
            Guarded(), [score_part] * n_parts, [config] * n_parts, [work] * n_parts,
            range(n_parts), [as_of] * n_parts, [ends] * n_parts, [since] * n_parts,
            pure=False)))
        found = [p for p in parts if p is not None]
        if contracts:
            days = purchase_days(np.unique(np.concatenate(
                [p.buy_days for p in found if p.buy_days is not None])), as_of, days.report)
            required(days, config, as_of)
        ids, frame, totals, order = merged_parts(found)
        report = merged_report(config, found, sum(r.rows for r in routed), as_of,
                               skipped, empty)
        report.last_day = last_day  # as one process's report says it
        report.dated_ahead = dated
        if spaced := [r.spaced for r in routed if r.spaced is not None]:
            report.notes.insert(0, reduce(Spaced.plus, spaced).note())
        if tail := sum(r.empty_tail for r in routed):  # as engine/data/load.py says it
            report.notes.insert(0, empty_tail_note(  # a folder: its files' (route.py)
                tail, report.file, source_of(config, inputs[0][0]).folder is not None))
        days = replace(days, customer_ids=np.asarray(ids.to_numpy(zero_copy_only=False),
                                                     dtype=object),
                       id_array=ids, report=report)
        calibration = merged_calibration(found, order, len(ids)) if split else None
        learnt = replace(merged_rows(found, order, days), rows_from=since) \
            if since is not None else None
        counts = merged_contracts(found, order) if contracts else None
        del parts, found  # merged: a copy of every customer's figures fewer to hold
        customers = load_customers(config)  # after the rows: their problems come first
    with step("value"):
        H, lookback = config.horizon_periods, config.retention.lookback_periods
        retention = measure(days, config.retention, period_days=config.period_days,
                            totals=totals)
        consents = join_customers(frame, customers, days, frame[CODE].to_numpy())
        if (note := case_note(days.id_array, config.data.columns["customer_id"])) is not None:
            days.report.notes.append(note)  # after the customers file's, as in one process
        newcomers = measure_newcomers(
            frame, totals, as_of=as_of, horizon=H,
            discount_per_period=config.discount_rate_per_period, lookback=lookback,
            min_customers=config.retention.min_customers)
        add_value(frame, config, retention, newcomers)
        sums = exact_totals(frame)
    with step("models"):
        choose = None
        if split is not None and calibration is not None:
            cal, spl = calibration, split

            def choose() -> tuple[str, str]:
                chosen = chosen_from(cal, spl, len(ids), config)
                return chosen.name, chosen.reason
        if counts is not None:  # contracts: the sBG on every customer's payments
            add_contract_end(frame, counts, days.as_of_day)
            model = apply_subscription_model(frame, config, None, counts=counts)
        else:
            model = apply_models(frame, config, choose=choose)
        cuts = rescore(frame, tiers)
        ordered = [c.name for c in VALUE_COLUMNS if c.name in frame]
        extra = [c for c in frame if c not in ordered and c not in INTERNAL]
        table = frame[ordered + extra].reset_index(drop=True)
    return Scored(table, report, retention, tiers, tuple(cuts), as_of, consents, model,
                  newcomers, timings, learnt, sums)


def _workers(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))
