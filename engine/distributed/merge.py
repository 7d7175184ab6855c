"""The partitions' results put together in the order one process gives them.

One process codes the customers 0..n-1 in the sort order of their ids (Arrow's sort of the
text, ``engine.data.codes``); a partition codes its own customers the same way. Sorting the
union of the partitions' ids with the same sort gives every customer its global code; the
features, totals and calibration rows are then placed at those codes. Nothing is recomputed:
each per-customer figure was computed from that customer's rows, in the order read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.contracts import ends_after_note
from engine.data.load import LoadReport, Transactions
from engine.data.margins import assumed_margin_note
from engine.data.object_store import skipped_note
from engine.distributed.part import Part
from engine.project.config import Config
from engine.value.features import CODE
from engine.value.model_choice import AUTO_SAMPLE, SEED
from engine.value.periods import PeriodTotals
from engine.value.subscriptions import ContractCounts


def merged_parts(parts: list[Part]) -> tuple[pa.Array, pd.DataFrame, PeriodTotals, np.ndarray]:
    """The sorted ids, the features frame and the totals of every customer, and ``rank``: the
    global code of each partition's customer, partitions one after the other."""
    # a partition's ids are text or large text by how it coded them (UUIDs, packed ids, a
    # file's own large_string columns): put together as large text when they differ
    kinds = {p.ids.type for p in parts}
    ids = pa.concat_arrays([p.ids.cast(pa.large_string()) if len(kinds) > 1 else p.ids
                            for p in parts])
    order = np.asarray(pc.sort_indices(ids).to_numpy(), dtype=np.int64)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    offsets = np.cumsum([0] + [len(p.ids) for p in parts])
    for i, p in enumerate(parts):  # in place: the parts are the client's own copies
        p.frame[CODE] = rank[offsets[i] + p.frame[CODE].to_numpy()]
    # a partition whose customers have no purchase (refunds only, rows after the as-of date)
    # has an empty table, typed apart from the others' (pandas 3: object, not str)
    frame = pd.concat([p.frame for p in parts if len(p.frame)] or [parts[0].frame],
                      ignore_index=True)
    frame = frame.take(np.argsort(frame[CODE].to_numpy(), kind="stable")).reset_index(
        drop=True)
    first = parts[0].totals

    def stacked(name: str) -> np.ndarray:
        return np.concatenate([getattr(p.totals, name) for p in parts])[order]

    totals = PeriodTotals(first.period_days, stacked("amount"), stacked("margin"),
                          stacked("active"), stacked("purchase_margin"))
    return ids.take(pa.array(order)), frame, totals, rank


def merged_calibration(parts: list[Part], rank: np.ndarray, customers: int) -> pd.DataFrame:
    """``calibration_frame`` of every customer (global codes, in code order), with the same
    random sample of customers as one process draws (``max_customers=AUTO_SAMPLE``)."""
    offsets = np.cumsum([0] + [len(p.ids) for p in parts])
    frames = [p.calibration.assign(code=rank[offsets[i] + p.calibration["code"].to_numpy()])
              for i, p in enumerate(parts) if p.calibration is not None]
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.take(np.argsort(frame["code"].to_numpy(), kind="stable"))
    if customers > AUTO_SAMPLE:
        drawn = np.zeros(customers, dtype=bool)
        drawn[np.random.default_rng(SEED).choice(customers, AUTO_SAMPLE, replace=False)] = True
        frame = frame[drawn[frame["code"].to_numpy()]]
    return frame.reset_index(drop=True)


def merged_rows(parts: list[Part], rank: np.ndarray, days: Transactions) -> Transactions:
    """``days`` (the customers of every partition) with the rows the partitions kept for
    learning, coded globally, partitions one after the other: each customer's rows in the
    order one process loads them, which is all a per-customer sum or count depends on."""
    offsets = np.cumsum([0] + [len(p.ids) for p in parts])
    got = [(rank[offsets[i] + p.rows[0]], *p.rows[1:]) for i, p in enumerate(parts)
           if p.rows is not None]
    code, day, amount, margin = (np.concatenate([g[k] for g in got]) if got else
                                 np.zeros(0, dtype=t) for k, t in
                                 enumerate((np.intp, np.int32, np.float64, np.float64)))
    return replace(days, code=code.astype(np.intp, copy=False), day=day, amount=amount,
                   margin=margin)


def merged_contracts(parts: list[Part], rank: np.ndarray) -> ContractCounts:
    """``contract_counts`` of every customer (subscriptions), placed at the global codes."""
    out = []
    for k in range(len(ContractCounts._fields)):
        values = np.concatenate([p.contracts[k] for p in parts if p.contracts is not None])
        placed = np.empty_like(values)
        placed[rank] = values
        out.append(placed)
    return ContractCounts(*out)


def merged_report(config: Config, parts: list[Part], rows: int, as_of: dt.date,
                  skipped: Sequence[str] = (), empty: Sequence[str] = ()) -> LoadReport:
    """The partitions' counts added up; the notes as one process words them (``as_of``: the
    date decided over all partitions; ``skipped``, ``empty``: the files of the folder not
    read, and those without rows)."""
    report = LoadReport(file=config.display(config.data.transactions), rows_read=rows,
                        files_note=skipped_note(skipped, empty))
    for name in ("rows_used", "after_as_of", "zero_amount", "duplicates", "refund_rows",
                 "margin_assumed_rows", "customers_refund_only", "refund_rows_left_out"):
        setattr(report, name, sum(getattr(p.report, name) for p in parts))
    report.refund_amount = float(sum(p.report.refund_amount for p in parts))
    report.refund_amount_left_out = float(sum(p.report.refund_amount_left_out for p in parts))
    # the partitions' contracts running at the as-of date, said as one process says them
    report.ends_after = (sum(p.report.ends_after[0] for p in parts),
                         max(p.report.ends_after[1] for p in parts))
    if config.subscriptions is not None and config.as_of is None:
        report.as_of_note = ends_after_note(*report.ends_after, as_of) or ""
    notes = [p.report.margin_note for p in parts if p.report.margin_note]
    rate = config.margin_rate
    if notes and notes[0].startswith("no cost or margin column"):
        report.margin_note = notes[0]
    elif report.margin_assumed_rows:
        report.margin_note = assumed_margin_note(report.margin_assumed_rows, rate)
    return report
