"""Learning for a run uses only what was known at its as-of date (engine.history.lookback):
responses and purchases dated before it. A replay with an older as-of date, on a history and
transactions that reach past it, learns the same figures as on the day."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np

from engine.data.load import EPOCH
from engine.history.learn import learn
from engine.history.responses import import_responses
from tests.test_learning import TWO_RUNS, planted, setup_of, transactions

AS_OF = dt.date(2025, 4, 15)  # the second run's window (04-01 .. 04-30) is not over


def test_what_comes_on_or_after_the_as_of_date_does_not_change_the_learnt_figures(
        history_url: str, tmp_path: Path) -> None:
    store, ids = planted(history_url, tmp_path, TWO_RUNS)
    try:
        tx = transactions(ids, AS_OF.isoformat())
        before = learn(store, tx, setup_of(), as_of=AS_OF, campaigns=["win_back"],
                       source="t").as_dict()
        # every customer buys on the as-of date and after it (the transactions read whole,
        # as cvm measure reads them), and the second run's customers convert on those days
        later = [(AS_OF - EPOCH).days + k for k in (0, 1, 5)]
        n = len(tx.customer_ids)
        code = np.concatenate([tx.code, *[np.arange(n)] * len(later)])
        day = np.concatenate([tx.day, *[np.full(n, d, dtype=np.int32) for d in later]])
        more = dataclasses.replace(tx, code=code, day=day,
                                   amount=np.full(len(code), 10.0),
                                   margin=np.full(len(code), 4.0))
        rows = [f"{c},win_back,{d},converted" for c in ids if "2025-04-01" in c
                for d in ("2025-04-15", "2025-04-16")]
        (tmp_path / "late.csv").write_text("customer_id,campaign,date,outcome\n"
                                           + "\n".join(rows) + "\n")
        import_responses(store, tmp_path / "late.csv", "late.csv")
        after = learn(store, more, setup_of(), as_of=AS_OF, campaigns=["win_back"],
                      source="t").as_dict()
    finally:
        store.close()
    assert after == before
    got = after["campaigns"]["win_back"]
    # the first run alone: email 40 of 200 against the holdout's 6 of 60, (5 + 200 x 0.1) / 300
    assert after["runs_counted"] == 1
    assert (got["holdout_windows"], got["holdout_converted"]) == (60, 6)
    email = got["channels"]["email"]
    assert (email["contacted"], email["windows"], email["converted"]) == (200, 200, 40)
    assert email["response"] == round(25 / 300, 6)
