"""The shortcuts of measure's and learning's array paths (issue 13's speed round) against the
plain computations: transactions in day order, shuffled or grouped by customer give the same
window sums; every row a purchase (the codes reused, no copy) or not; window sums forgotten
and made again; a run's groups found by a pass per campaign or by a sort; campaign codes in
narrow integers; a few ids looked up in many by hashing the few. And measure's (session 9):
a group's rows put treated first (its figures as slices, not masked copies), conversions on
arrays, the window sums made while the history is read or the run before measured."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from engine.activation.ids import _index_in
from engine.data.load import LoadReport, Transactions
from engine.history import day_order, measured
from engine.history.columnar import categories
from engine.history.measured import Measured, Sums, _sums, groups


def _tx(rng: np.random.Generator, layout: str, refunds: bool) -> Transactions:
    n = int(rng.integers(1, 15))
    per = rng.integers(0, 8, n)
    code = np.repeat(np.arange(n), per).astype(np.intp)  # grouped by customer
    day = rng.integers(200, 200 + int(rng.integers(1, 40)), len(code)).astype(np.int32)
    order = {"customer": np.arange(len(code)), "shuffled": rng.permutation(len(code)),
             "day": np.argsort(day, kind="stable")}[layout]
    amount = np.round(rng.uniform(0.5, 90, len(code)), 2)
    if refunds:
        amount[rng.random(len(code)) < 0.2] *= -1
        amount[rng.random(len(code)) < 0.1] = 0.0
    margin = np.round(amount * rng.random(len(code)), 3)
    ids = np.array([f"K{i:03d}" for i in range(n)], dtype=object)
    return Transactions(ids, pa.array(ids.tolist()), code[order], day[order], amount[order],
                        margin[order], None, None, (), dt.date(2001, 1, 1), LoadReport("t"))


def _plain(tx: Transactions, codes: np.ndarray, first: int, last: int) -> list[tuple]:
    """Each customer's rows in day order (ties in row order), summed one by one."""
    rows = sorted(range(len(tx.day)), key=lambda i: (int(tx.day[i]), i))
    out = []
    for c in codes:
        mine = [i for i in rows if tx.code[i] == c and first <= tx.day[i] < last]
        revenue = margin = 0.0
        for i in mine:
            revenue += float(tx.amount[i])
            margin += float(tx.margin[i])
        out.append((sum(1 for i in mine if tx.amount[i] > 0), revenue, margin))
    return out


@pytest.mark.parametrize("layout", ["customer", "shuffled", "day"])
@pytest.mark.parametrize("refunds", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_window_sums_whatever_the_row_order(layout: str, refunds: bool, seed: int,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    tx = _tx(rng, layout, refunds)
    monkeypatch.setattr(measured, "KEEP", 2)  # windows forgotten and made again
    monkeypatch.setattr(day_order, "BLOCK", 7)  # the days counted and placed over several blocks
    cache: Sums = {}
    n = len(tx.customer_ids)
    codes = rng.integers(-1, n, 12)
    windows = [(int(rng.integers(195, 245)), int(rng.integers(0, 25))) for _ in range(5)]
    for first, days in windows + windows[::-1]:
        found = _sums(tx, codes, first, first + days, cache)
        plain = _plain(tx, codes, first, first + days)
        for k, c in enumerate(codes):
            want = plain[k] if c >= 0 else (0, 0.0, 0.0)
            assert (found[0][k], found[1][k], found[2][k]) == want
    if not refunds and len(tx.day):  # every row a purchase: the codes are the purchases
        assert cache[(1, 0, "bought")] is cache[(1, 0, "code")]


@pytest.mark.parametrize("seed", range(15))
def test_groups_by_pass_and_by_sort_agree(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(0, 60))
    run = np.sort(rng.choice([3, 5, 9], rows))
    names = ["a", "b", "c", "d"][:int(rng.integers(1, 5))]
    campaign = rng.integers(-1, len(names), rows).astype(np.int8)
    runs = [(r, f"r{r}", "2025-01-01") for r in (3, 5, 7, 9)]  # run 7 has no row
    m = Measured(runs, run, np.zeros(rows, dtype=np.int64), np.zeros(0, dtype=object),
                 campaign, names, np.zeros(0, dtype=np.int64), [], np.zeros(rows, bool),
                 np.zeros(rows, bool), np.zeros(rows), pd.DataFrame())
    by_pass = [(r, k, g.tolist()) for r, k, g in groups(m)]
    monkeypatch.setattr(measured, "FEW", 0)
    by_sort = [(r, k, g.tolist()) for r, k, g in groups(m)]
    plain = [(r, k, [i for i in range(rows) if run[i] == r and names[campaign[i]] == k
                     and campaign[i] >= 0]) for r in (3, 5, 9) for k in names]
    assert by_pass == by_sort == [g for g in plain if g[2]]


def test_campaign_codes_in_narrow_integers() -> None:
    texts = [f"c{k:03d}" for k in range(300)]
    column = pa.chunked_array([pa.array(["c002", None, "c001"]).dictionary_encode(),
                               pa.array([*texts, None]).dictionary_encode()])
    codes, words = categories(column)
    assert codes.dtype == np.int16 and words == sorted(texts)
    assert codes.tolist() == [2, -1, 1, *range(300), -1]
    small, few = categories(pa.chunked_array([pa.array(["x", "y", None, "x"])]))
    assert small.dtype == np.int8 and small.tolist() == [0, 1, -1, 0] and few == ["x", "y"]


@pytest.mark.parametrize("seed", range(30))
def test_a_few_ids_looked_up_in_many(seed: int) -> None:
    rng = np.random.default_rng(seed)
    value_set = pa.array([f"C{int(i)}" for i in rng.integers(0, 300, 200)])  # repeats
    chunks = [pa.array([None if rng.random() < 0.1 else f"C{int(i)}"
                        for i in rng.integers(0, 320, int(rng.integers(0, 20)))],
                       type=pa.string()) for _ in range(3)]
    found = pa.chunked_array(chunks, type=pa.string())
    want = np.asarray(pc.index_in(found, value_set=value_set).fill_null(-1).to_numpy())
    assert _index_in(found, value_set).tolist() == want.tolist()


# measure's groups (session 9): a group's rows put treated first (figures as slices), the
# conversions on arrays, the window sums made while the history is read


def _group(rng: np.random.Generator, tx: Transactions) -> tuple[Measured, np.ndarray]:
    """A measured run of random rows (a customer absent from the transactions: -1, with its
    id), and a group of them (its rows in the recorded order)."""
    n, rows = len(tx.customer_ids), int(rng.integers(0, 40))
    code = rng.integers(-1, n, rows)
    ids = np.array([f"X{k}" if c < 0 else tx.customer_ids[c] for k, c in enumerate(code)],
                   dtype=object)
    held = rng.random(rows) < rng.choice([0.0, 0.3, 1.0])
    m = Measured([(1, "r1", "2001-01-01")], np.ones(rows, dtype=np.int64), code, ids,
                 np.zeros(rows, dtype=np.int8), ["c"], np.zeros(0, dtype=np.int64), [],
                 rng.random(rows) < 0.5, held, np.round(rng.uniform(0, 2, rows), 2),
                 pd.DataFrame())
    return m, np.sort(rng.choice(rows, int(rng.integers(0, rows + 1)), replace=False))


def _answers(rng: np.random.Generator, m: Measured, tx: Transactions) -> pd.DataFrame:
    """Imported conversions: of customers of the run (some absent from the transactions)
    and of others (-1), on days in and out of the windows."""
    k = int(rng.integers(0, 12))
    who = rng.choice(np.array([*m.customer_id, "Y1", "Y2"], dtype=object), k)
    known = {str(i): c for c, i in enumerate(tx.customer_ids)}
    code = np.array([known.get(str(w), -1) for w in who], dtype=np.int64)
    day = rng.integers(195, 250, k)
    return pd.DataFrame({"customer_id": pd.Series(who, dtype=object), "campaign": "c",
                         "date": pd.Series([None] * k, dtype=object), "day": day,
                         "code": code})


@pytest.mark.parametrize("seed", range(20))
def test_treated_first_keeps_each_side_as_recorded(seed: int) -> None:
    from engine.history.measure import treated_first
    rng = np.random.default_rng(seed)
    m, rows = _group(rng, _tx(rng, "shuffled", False))
    found, n_t = treated_first(m, rows)
    plain = [r for r in rows if not m.holdout[r]] + [r for r in rows if m.holdout[r]]
    assert found.tolist() == plain and n_t == sum(1 for r in rows if not m.holdout[r])


@pytest.mark.parametrize("seed", range(30))
def test_conversions_are_the_plain_ones(seed: int) -> None:
    from engine.history.measured import conversions
    rng = np.random.default_rng(seed)
    tx = _tx(rng, ["customer", "shuffled", "day"][seed % 3], bool(seed % 2))
    m, rows = _group(rng, tx)
    answers = _answers(rng, m, tx)
    first, days = int(rng.integers(195, 245)), int(rng.integers(0, 25))
    found = conversions(m, rows, answers, tx, first, days, {})
    inside = answers[(answers["day"] >= first) & (answers["day"] < first + days)]
    plain = []
    for r in rows:
        c = int(m.code[r])
        bought = _plain(tx, [c], first, first + days)[0][0] if c >= 0 else 0
        answered = (inside["code"] == c).any() if c >= 0 else \
            (inside["customer_id"] == m.customer_id[r]).any()
        plain.append(1.0 if bought > 0 or answered else 0.0)
    assert found.tolist() == plain


def _row_by_masks(m: Measured, rows: np.ndarray, answers: pd.DataFrame, tx: Transactions,
                  day0: int, days: int) -> dict[str, object]:
    """measure's row as it was computed before the groups were put treated first: the figures
    of the rows as recorded, subsets taken by masks."""
    import math

    from engine.activation import money
    from engine.history.measure import _unobserved
    from engine.history.measure_verdict import judge
    from engine.history.measured import outcomes
    from engine.history.uplift import uplift
    converted, revenue, margin, before = outcomes(m, rows, answers, tx, day0, days, {})
    held = m.holdout[rows]
    t, h = ~held, held
    conv = uplift(converted[t], converted[h])
    marg = uplift(margin[t], margin[h], before[t], before[h])
    rev = uplift(revenue[t], revenue[h], before[t], before[h])
    cost = money.units(m.cost[rows][t])  # exact: measure shows the run's costs apportioned
    incremental = marg.uplift * int(t.sum())
    verdict, significant = judge(marg, int(t.sum()), int(h.sum()), day0, days, 230)

    def r(v: float, k: int = 4) -> float | None:
        from engine.decimals import figure  # half up, as measure.csv is written

        return figure(v, k) if math.isfinite(v) else None

    row = {
        "run": 1, "run_id": "r1", "as_of": "2001-01-01", "campaign": "c",
        "window_days": days, "treated": int(t.sum()),
        "contacted": int(m.allocated[rows].sum()), "holdout": int(h.sum()),
        "conversion_treated": r(conv.treated_mean), "conversion_holdout": r(conv.holdout_mean),
        "conversion_uplift": r(conv.uplift), "conversion_low": r(conv.low),
        "conversion_high": r(conv.high),
        "revenue_treated": r(float(revenue[t].mean()) if t.any() else math.nan, 2),
        "revenue_holdout": r(float(revenue[h].mean()) if h.any() else math.nan, 2),
        "revenue_uplift": r(rev.uplift, 2), "revenue_low": r(rev.low, 2),
        "revenue_high": r(rev.high, 2),
        "margin_treated": r(float(margin[t].mean()) if t.any() else math.nan, 2),
        "margin_holdout": r(float(margin[h].mean()) if h.any() else math.nan, 2),
        "margin_uplift": r(marg.uplift, 2), "margin_low": r(marg.low, 2),
        "margin_high": r(marg.high, 2), "cuped_theta": r(marg.theta),
        "mde": r(marg.mde, 2), "incremental_margin": r(incremental, 2),
        "incremental_revenue": r(rev.uplift * int(t.sum()), 2),
        "cost": cost,
        "return_on_spend": r(incremental / (cost / money.SCALE))
        if cost > 0 and significant is not None else None,
        "significant": significant, "verdict": verdict,
    }
    # a window after the last transaction (day 230): what measure says of it, the same way
    # whichever way the row was made (tests/test_measure.py checks what that is)
    return row if day0 < 230 else _unobserved(row, answers, day0, days, 230)


@pytest.mark.parametrize("seed", range(40))
def test_a_row_from_slices_is_the_row_from_masks(seed: int) -> None:
    from engine.history.measure import WARNING, _row
    rng = np.random.default_rng(seed)
    tx = _tx(rng, ["customer", "shuffled", "day"][seed % 3], bool(seed % 2))
    m, rows = _group(rng, tx)
    answers = _answers(rng, m, tx)
    day0, days = int(rng.integers(200, 235)), int(rng.integers(1, 25))
    found = _row(1, "r1", "2001-01-01", "c", days, m, rows, answers, tx, day0, 230, {})
    found.pop(WARNING, None)  # a warning beside the row (one-sided imported conversions)
    assert found == _row_by_masks(m, rows, answers, tx, day0, days)


@pytest.mark.parametrize("seed", range(2))
def test_windows_made_while_reading_are_those_made_when_asked(
        seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """measure over a history of three runs (one re-made on its date, one campaign with a
    window of its own): the window sums made while the history is read, or on the second core
    while the run before is measured, give the table the sums made when each group asks for
    them gives."""
    from engine.history import measure as measure_module
    from engine.history.record import record_run
    from engine.run.build import load_project
    from tests.history_runs import ROOT, open_history, snapshot

    rng = np.random.default_rng(seed)
    setup = load_project(ROOT).channels
    some = next(iter(setup.campaigns.values()))
    setup = dataclasses.replace(setup, campaigns={
        **setup.campaigns, some.id: dataclasses.replace(some, attribution_days=9)})
    tx = _tx(rng, "shuffled", bool(seed % 2))
    n = len(tx.customer_ids)
    store = open_history(str(tmp_path / "h.sqlite"), tmp_path)
    try:
        for k, as_of in enumerate(["1970-07-22", "1970-07-29", "1970-07-29"]):
            frame = snapshot(n, seed + k, id_digits=3)
            frame["customer_id"] = [f"K{i:03d}" for i in range(n)]
            frame["campaign"] = np.where(frame["status"].isna(), None,
                                         rng.choice([some.id, "other"], n))
            record_run(store, run_id=f"r{k}", as_of=dt.date.fromisoformat(as_of),
                       project="t", inputs={}, snapshot=frame)
        assert measure_module.expected_windows(store, setup)
        # the first run's windows made while reading, each next run's while a run is measured
        piped = measure_module.measure(store, tx, setup)
        monkeypatch.setattr(measure_module, "PIPELINE", False)
        monkeypatch.setattr(measure_module, "AHEAD", 16)  # every run's made while reading
        ahead = measure_module.measure(store, tx, setup)
        monkeypatch.setattr(measure_module, "AHEAD", 0)  # none guessed: each made when asked
        assert not measure_module.expected_windows(store, setup)
        asked = measure_module.measure(store, tx, setup)
        # the first run's made when asked, the next ones made ahead, some forgotten
        monkeypatch.setattr(measure_module, "PIPELINE", True)
        monkeypatch.setattr(measured, "KEEP", 2)
        partly = measure_module.measure(store, tx, setup)
    finally:
        store.close()
    assert len(asked) > 2 and asked["margin_treated"].abs().sum() > 0  # sums, not zeros
    for other in (piped, ahead, partly):
        pd.testing.assert_frame_equal(other, asked, check_exact=True)
