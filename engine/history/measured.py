"""What ``cvm measure`` and learning read from the history, as arrays: the measured runs'
actioned customers (coded as in the transactions), grouped per run and campaign, and each
customer's outcome over a campaign's window (README "Measuring campaigns: `cvm measure`").

At a million customers and ten runs that is ten million rows: every step here is a numpy pass
over integer codes (no pandas group-by or merge on strings, no Python object per row). The
ids are looked up in the transactions' ids once (engine.history.columnar.lookup); campaign,
channel and status become small integer codes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from engine.activation.ids import id_texts, positions_of
from engine.data.load import EPOCH, Transactions
from engine.history.changes import arrays, fetch
from engine.history.columnar import categories, equal, many_rows, read_blocks
from engine.history.day_order import placed, places, starts
from engine.history.lookback import known_responses, looked_back
from engine.history.store import Store
from engine.history.tables import responses, run_actions, runs
from engine.project.channels import ChannelSetup


@dataclass(frozen=True)
class Measured:
    """The runs measured and their actioned customers, one entry per row (run order, then as
    recorded)."""

    runs: list[tuple[int, str, object]]  # (run, run_id, as_of) in run order
    run: np.ndarray  # the row's run (signed integers, the narrowest that hold the keys)
    code: np.ndarray  # int64: the customer's code in the transactions, -1 if none
    customer_id: np.ndarray  # object: the id where the code is -1, else None (no row when
    # every code is found: read only where a code is -1)
    campaign: np.ndarray  # integer codes into campaigns (-1: none; int8 for a few)
    campaigns: list[str]
    channel: np.ndarray  # integer codes into channels, -1: none (empty unless asked for)
    channels: list[str]
    allocated: np.ndarray  # bool: status allocated (contacted)
    holdout: np.ndarray  # bool (a missing holdout is False)
    cost: np.ndarray  # float (a missing cost is 0)
    answers: pd.DataFrame  # imported conversions: customer_id, campaign, date, day, code
    # each run's campaigns' attribution windows as recorded with it (0011_windows; none for
    # a run recorded before)
    windows: dict[int, dict[str, int]] = field(default_factory=dict)

    def window(self, run: int, campaign: str, setup: ChannelSetup) -> int:
        """The attribution window (days) a run's campaign is measured over: the one the run
        was made with, else (a run recorded before the history kept them) today's."""
        kept = self.windows.get(run, {}).get(campaign)
        return int(kept) if kept is not None else setup.campaign(campaign).attribution_days


def read_measured(store: Store, tx: Transactions, *, before: dt.date | None = None,
                  channels: bool = False) -> Measured:
    """The runs measured (the latest per as-of date; only those dated before ``before`` if
    given), their actioned customers (with ``channels``, their channels) and the imported
    conversions (with ``before``, a run's learning: only those known at that date,
    engine.history.lookback.known_responses; without it, ``cvm measure``: all, up to now)."""
    return Measured(**_read_actioned(store, tx, before=before, channels=channels),
                    answers=_read_answers(store, tx, before=before))


def _read_actioned(store: Store, tx: Transactions, *, before: dt.date | None,
                   channels: bool) -> dict[str, Any]:
    """read_measured's runs and actioned customers (Measured's fields but the answers)."""
    wanted = ["customer_id", "campaign", *(["channel"] if channels else []), "status",
              "holdout", "cost"]
    with store.reading() as conn:
        chosen = fetch(conn, looked_back(before))
        keys = sorted(int(r) for r, _ in chosen)
        meta = fetch(conn, select(runs.c.id, runs.c.run_id, runs.c.as_of, runs.c.windows)
                     .where(runs.c.id.in_(keys))) if keys else []
        block, run, _ = read_blocks(conn, run_actions, keys, wanted, narrow=True)
    (code,) = positions_of([block.column("customer_id")], tx.id_array)
    lost = np.flatnonzero(code < 0)
    # a Python object per row costs (ten million of them): only when some id is not found
    missing = np.zeros(0, dtype=object)
    if len(lost):
        missing = np.full(len(code), None, dtype=object)
        missing[lost] = id_texts(block.column("customer_id"), lost)
    campaign, campaign_names = categories(block.column("campaign"))
    channel, channel_names = categories(block.column("channel")) if channels else \
        (np.zeros(0, dtype=np.int64), [])
    return {"runs": sorted((int(r), str(i), a) for r, i, a, _ in meta),
            "windows": {int(r): json.loads(w) for r, _, _, w in meta if w is not None},
            "run": run, "code": code,
            "customer_id": missing, "campaign": campaign, "campaigns": campaign_names,
            "channel": channel, "channels": channel_names,
            "allocated": equal(block.column("status"), "allocated"),
            "holdout": _flag(block.column("holdout")),
            "cost": _zero_missing(block.column("cost"))}


def _read_answers(store: Store, tx: Transactions, *, before: dt.date | None) -> pd.DataFrame:
    """read_measured's imported conversions: customer_id, campaign, date, day, code."""
    converted = select(responses.c.customer_id, responses.c.campaign,
                       responses.c.response_date).where(responses.c.outcome == "converted")
    if before is not None:  # a run's learning: only the responses known at its as-of date
        converted = converted.where(known_responses(before))
    with store.reading() as conn, many_rows():
        answers = fetch(conn, converted)
        who, campaign_of, date = arrays(answers, 3)
        del answers
    (code,) = positions_of([who], tx.id_array)
    # date: a date, or ISO text as SQLite gives it back (numpy parses either, in C)
    day = date.astype("datetime64[D]").astype(np.int64) - (EPOCH - dt.date(1970, 1, 1)).days
    return pd.DataFrame({"customer_id": pd.Series(who, dtype=object),
                         "campaign": pd.Series(campaign_of, dtype=object),
                         "date": pd.Series(date, dtype=object), "day": day, "code": code})


def read_with_days(store: Store, tx: Transactions, cache: Sums, names: tuple[str, ...], *,
                   before: dt.date | None = None, channels: bool = False,
                   ahead: Sequence[tuple[int, int, tuple[str, ...]]] = ()) -> Measured:
    """``read_measured``, while the transactions' columns ``names`` are put in day order into
    ``cache`` (Arrow decodes the blocks on the second core, numpy sorts and scatters: both
    without Python's lock), then the imported conversions are read on this core, and then the
    window sums ``ahead`` (first day, last day + 1, figures of WHAT) are made into ``cache``
    while the blocks' read goes on: the windows the caller expects to need (one it did not
    expect is made when asked for, as any). The same arrays as one after the other."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = pool.submit(_read_actioned, store, tx, before=before, channels=channels)
        place = _day_order_of(tx, cache)
        # the amounts and margins put in day order on a core of their own while this one does
        # the codes (numpy's scatter, like the sort, runs without Python's lock)
        values = {"amount": tx.amount, "margin": tx.margin}
        later = {name: pool.submit(placed, values[name], place)
                 for name in names if name in values and place is not None}
        for name in names:
            if name not in later:
                _in_day_order(tx, name, cache)
        # this core's share of the read, while the other reads the blocks (the conversions'
        # ids looked up apart from the blocks': the same positions)
        got = _read_answers(store, tx, before=before)
        # the purchases' windows first (on the codes, ready), then those of the amounts and
        # margins as they are ready
        needs = {"bought": "code", "revenue": "amount", "margin": "margin"}
        for figure in WHAT:
            job = later.pop(needs[figure], None)
            if job is not None:
                cache[(1, 0, needs[figure])] = job.result()
            for first, last, what in ahead:
                if figure in what and (first, last, figure) not in cache:
                    cache[(first, last, figure)] = per_customer(tx, first, last, figure, cache)
        for name, job in later.items():
            cache[(1, 0, name)] = job.result()
        return Measured(**found.result(), answers=got)


def _zero_missing(column: pa.ChunkedArray) -> np.ndarray:
    """The costs, a missing one (null; NaN in a block written by hand) as 0: one copy of the
    column, chunk after chunk into one array (Arrow's fill_null copies even a column without
    a null)."""
    values = np.empty(len(column), dtype=np.float64)
    at = 0
    for chunk in column.chunks:
        into = values[at:at + len(chunk)]
        at += len(chunk)
        into[:] = np.asarray((pc.fill_null(chunk, 0.0) if chunk.null_count else chunk)
                             .to_numpy(zero_copy_only=False), dtype=np.float64)
        nan = np.isnan(into)
        if nan.any():
            into[nan] = 0.0
    return values


def _flag(column: pa.ChunkedArray) -> np.ndarray:
    """True/False, a missing one as False: written chunk after chunk into one array."""
    flags = np.empty(len(column), dtype=bool)
    at = 0
    for chunk in column.chunks:
        flags[at:at + len(chunk)] = np.asarray(
            (pc.fill_null(chunk, False) if chunk.null_count else chunk)
            .to_numpy(zero_copy_only=False), dtype=bool)
        at += len(chunk)
    return flags


def groups(m: Measured) -> Iterator[tuple[int, str, np.ndarray]]:
    """(run, campaign, the rows of its actioned customers as recorded), in run then campaign
    order (campaigns in text order)."""
    # the rows come in run order: each run's rows found by binary search, not by a pass over
    # every row (the runs listed are those read)
    runs = np.array([r for r, _, _ in m.runs], dtype=np.int64)
    if len(m.run) and not len(runs):
        runs = m.run[np.r_[0, np.flatnonzero(np.diff(m.run)) + 1]]
    if len(runs) and int(np.max(runs)) <= np.iinfo(m.run.dtype).max:
        runs = runs.astype(m.run.dtype)  # as m.run's: searched without a wider copy of it
    bounds = [*np.searchsorted(m.run, runs, side="left").tolist(), len(m.run)]
    few = len(m.campaigns) <= FEW
    kind = np.int16 if len(m.campaigns) < np.iinfo(np.int16).max else np.int64
    for k, run in enumerate(runs):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if lo == hi:
            continue
        segment = m.campaign[lo:hi]
        if few:  # a pass per campaign: each group's rows as recorded (as the stable sort)
            present = np.bincount(segment + 1, minlength=len(m.campaigns) + 1)[1:]
            for j in np.flatnonzero(present):
                yield int(run), m.campaigns[int(j)], np.flatnonzero(segment == j) + lo
            continue
        # a stable sort of small integers (a radix sort): each group keeps the recorded order
        order = np.argsort(segment.astype(kind), kind="stable") + lo
        codes = m.campaign[order]
        cuts = np.flatnonzero(np.diff(codes)) + 1
        for a, b in zip([0, *cuts], [*cuts, len(codes)], strict=True):
            if codes[a] >= 0:  # a row without a campaign belongs to none
                yield int(run), m.campaigns[int(codes[a])], order[a:b]


FEW = 16  # campaigns up to which a run's groups are found by a pass each, not a sort


def by_campaign(got: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(k): g for k, g in got.groupby("campaign", sort=False)}


Sums = dict[tuple[int, int, str], np.ndarray]
WHAT = ("bought", "revenue", "margin")


def _sums(tx: Transactions, codes: np.ndarray, first: int, last: int, cache: Sums,
          what: tuple[str, ...] = WHAT) -> tuple[np.ndarray, ...]:
    """Per customer (``codes``; -1: no transaction at all) the figures ``what`` of purchases
    (count), revenue, margin on days first .. last - 1 (one pass over the window's
    transactions per window and figure, shared by the campaigns)."""
    lost = bool(len(codes)) and int(codes.min()) < 0
    ok = codes >= 0 if lost else None
    at = np.maximum(codes, 0) if lost else codes
    out = []
    for name in what:
        if (first, last, name) not in cache:
            _forget_old_windows(cache)
            cache[(first, last, name)] = per_customer(tx, first, last, name, cache)
        found = cache[(first, last, name)][at]
        # a customer without any transaction: 0 (one pass more only when there is one)
        out.append(np.where(ok, found, 0) if ok is not None else found)
    return tuple(out)


KEEP = 8  # window sums kept: a run's four and the previous run's (a window may recur)


def _forget_old_windows(cache: Sums) -> None:
    """Drop the oldest window sums past KEEP: runs come in order and rarely share a window,
    and a freed array's memory is reused for the next one instead of fresh pages for each
    (a million customers: 8 MB a window and figure, 40 windows and figures for 10 runs)."""
    windows = [k for k in cache if k[0] <= k[1]]  # (1, 0, ...): the rows in day order
    for k in windows[:max(len(windows) - KEEP + 1, 0)]:
        del cache[k]


def per_customer(tx: Transactions, first: int, last: int, name: str,
                 cache: Sums) -> np.ndarray:
    """One bincount over the window's slice of the rows in day order: each customer's figures
    summed in that order (ties as they come), as always. Purchases are counted over the
    positive rows alone, kept apart once, so that no window masks its rows."""
    n = len(tx.customer_ids)
    if name == "bought":
        code = _in_day_order(tx, "bought", cache)
        lo, hi = _bound(first, cache, "bought_starts"), _bound(last, cache, "bought_starts")
        return np.bincount(code[lo:hi], minlength=n)
    code = _in_day_order(tx, "code", cache)
    values = _in_day_order(tx, "amount" if name == "revenue" else "margin", cache)
    lo, hi = _bound(first, cache), _bound(last, cache)
    return np.bincount(code[lo:hi], weights=values[lo:hi], minlength=n)


def outcomes(m: Measured, rows: np.ndarray, answers: pd.DataFrame, tx: Transactions,
             day0: int, days: int, cache: Sums) -> tuple[np.ndarray, ...]:
    """Per customer of ``rows`` (a group of ``m``): converted (as ``conversions``), revenue
    and margin on days day0 .. day0 + days - 1, and the margin over the same number of days
    before it (the CUPED covariate)."""
    codes = m.code[rows]
    revenue, margin = _sums(tx, codes, day0, day0 + days, cache, ("revenue", "margin"))
    (before,) = _sums(tx, codes, day0 - days, day0, cache, ("margin",))
    return conversions(m, rows, answers, tx, day0, days, cache, codes), revenue, margin, before


def conversions(m: Measured, rows: np.ndarray, answers: pd.DataFrame, tx: Transactions,
                day0: int, days: int, cache: Sums, codes: np.ndarray | None = None
                ) -> np.ndarray:
    """Per customer of ``rows``: converted (1.0 or 0.0: a purchase in the transactions or an
    imported conversion of the campaign, ``answers``, on days day0 .. day0 + days - 1). The
    one definition of a conversion: cvm measure and learning (engine.history.learn) both use
    it. ``codes``: the rows' codes, if the caller has them already."""
    codes = m.code[rows] if codes is None else codes
    (bought,) = _sums(tx, codes, day0, day0 + days, cache, ("bought",))
    converted: np.ndarray = ((bought > 0) | responded(m, rows, answers, tx, day0, days, codes)
                             ).astype(float)
    return converted


def responded(m: Measured, rows: np.ndarray, answers: pd.DataFrame, tx: Transactions,
              day0: int, days: int, codes: np.ndarray | None = None) -> np.ndarray:
    """Per customer of ``rows``: an imported conversion of the campaign (``answers``) on days
    day0 .. day0 + days - 1."""
    codes = m.code[rows] if codes is None else codes
    # on the columns' arrays (a data frame's filter per group and window costs more than its
    # sums)
    day = answers["day"].to_numpy()
    inside = (day >= day0) & (day < day0 + days)
    # by code (customer_id is kept only for customers absent from the transactions)
    known = np.zeros(len(tx.customer_ids) + 1, dtype=bool)
    known[answers["code"].to_numpy(dtype=np.int64)[inside]] = True  # -1: the spare last slot
    found: np.ndarray = known[codes]  # a customer without a code (-1): by id below
    lost = codes < 0
    if lost.any():
        ids = answers["customer_id"].to_numpy(dtype=object)[inside]
        found[lost] = pd.Index(pd.unique(ids)).get_indexer(m.customer_id[rows][lost]) >= 0
    return found


def by_response_alone(m: Measured, rows: np.ndarray, answers: pd.DataFrame,
                      tx: Transactions, day0: int, days: int, cache: Sums) -> np.ndarray:
    """Per customer of ``rows``: converted by an imported response alone (no purchase in the
    window): what a tool that knows only the contacted customers adds to the treated."""
    codes = m.code[rows]
    (bought,) = _sums(tx, codes, day0, day0 + days, cache, ("bought",))
    return responded(m, rows, answers, tx, day0, days, codes) & ~(bought > 0)


def _in_day_order(tx: Transactions, name: str, cache: Sums) -> np.ndarray:
    """The transactions' customer codes (``code``), amounts, margins, or the codes of the
    positive rows alone (``bought``: purchases), in day order (ties as they come: the order
    each customer's figures are summed in), each made once, when first asked for, and kept in
    ``cache``, so that a window is a slice, not a pass over every row. Also kept: where each
    day starts in them. Every fresh array of ten million rows costs its pages: the days are
    counted a block of rows at a time, the purchases are marked in one byte a row (not a
    float gathered to be compared), and when every row is a purchase (no refund, no zero) the
    purchases are the codes themselves, not a copy."""
    if (1, 0, name) not in cache:
        place = _day_order_of(tx, cache)
        if name == "bought":
            positive = tx.amount > 0
            low = int(cache[(1, 0, "low")][0])
            code = _in_day_order(tx, "code", cache)
            if positive.all():
                cache[(1, 0, "bought_starts")] = cache[(1, 0, "starts")]
                cache[(1, 0, name)] = code
            else:
                # bought_starts[d - low]: the first positive row dated d or later
                cache[(1, 0, "bought_starts")] = starts(tx.day, low, positive)
                cache[(1, 0, name)] = code[positive if place is None else
                                           placed(positive, place)]
        else:
            values = {"code": tx.code, "amount": tx.amount, "margin": tx.margin}[name]
            cache[(1, 0, name)] = values if place is None else placed(values, place)
    return cache[(1, 0, name)]


def _day_order_of(tx: Transactions, cache: Sums) -> np.ndarray | None:
    """Each row's place in day order (None: the rows are in day order), made once and kept
    in ``cache`` with where each day starts."""
    if (1, 0, "starts") not in cache:  # (1, 0): never a window (first > last)
        day = tx.day
        low = int(day.min()) if len(day) else 0
        ordered = bool(np.all(day[1:] >= day[:-1])) if len(day) else True
        # starts[d - low]: the first row dated d or later
        cache[(1, 0, "starts")] = starts(day, low, None)
        cache[(1, 0, "low")] = np.array([low])
        if not ordered:
            cache[(1, 0, "place")] = places(day, low, cache[(1, 0, "starts")])
    return cache.get((1, 0, "place"))


def _bound(day: int, cache: Sums, starts: str = "starts") -> int:
    """The first row (in day order; of the positive rows with ``bought_starts``) dated
    ``day`` or later."""
    at = cache[(1, 0, starts)]
    return int(at[min(max(day - int(cache[(1, 0, "low")][0]), 0), len(at) - 1)])
