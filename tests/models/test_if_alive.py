"""potential_value under the models is the expected margin *if the customer is retained*: it
is computed given alive, not as the discounted expectation divided back by P(alive), which is
0 / 0 when P(alive) underflows (a very heavy buyer lapsed for long)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from engine.project.config import load_config
from engine.value.models.mbgnbd import ModifiedBetaGeoFitter
from engine.value.score import score
from tests.conftest import ROOT, copy_example_project

# the bundled example's MBG/NBD fit; 90-day periods, H = 4, models in weeks, 10% a year
PARAMS = {"r": 2.209, "alpha": 14.42, "a": 0.2806, "b": 0.5679}
D = 1.1 ** (90 / 365) - 1


def _if_alive(x: float, t_x: float, big_t: float) -> float:
    fitter = ModifiedBetaGeoFitter()
    fitter.params_ = dict(PARAMS)
    out = fitter.discounted_expected_purchases(
        [x], [t_x], [big_t], horizon=4, discount_rate_per_period=D, periods_per_step=90 / 7,
        given_alive=True)
    return float(out[0])


def test_the_if_alive_purchases_need_no_p_alive() -> None:
    """x = 500 repeat purchases, the last 70 weeks after the first, 400 weeks ago: P(alive)
    underflows to 0, and dividing by it gave NaN (0 / 0), written as a potential value of 0."""
    heavier, heavy = _if_alive(500, 70, 400), _if_alive(300, 70, 400)
    assert round(heavy, 1) == 34.8
    assert np.isfinite(heavier) and heavier >= heavy > 0
    fitter = ModifiedBetaGeoFitter()
    fitter.params_ = dict(PARAMS)
    assert fitter.p_alive([500], [70], [400])[0] == 0.0  # the case: it does underflow
    # where P(alive) does not underflow, given alive x P(alive) is the expectation
    plain = fitter.discounted_expected_purchases(
        [3, 10], [20, 50], [60, 80], horizon=4, discount_rate_per_period=D,
        periods_per_step=90 / 7)
    alive = fitter.p_alive([3, 10], [20, 50], [60, 80])
    assert np.allclose([_if_alive(3, 20, 60) * alive[0], _if_alive(10, 50, 80) * alive[1]],
                       plain, rtol=1e-12)


def test_a_heavy_long_lapsed_buyer_keeps_a_potential_value(tmp_path: Path) -> None:
    """The bundled example with one more customer: a purchase every day for 520 days, the first
    400 weeks before the as-of date. On main their potential value was 0."""
    project = copy_example_project(tmp_path)
    tx = (ROOT / "examples" / "retail" / "transactions.csv").read_text()
    first = dt.date(2026, 1, 1) - dt.timedelta(weeks=400)
    rows = [f"H{k:05d},HEAVY,{first + dt.timedelta(days=k)},Toys,web,1,40.00,20.00"
            for k in range(520)]
    (project / "tx.csv").write_text(tx + "\n".join(rows) + "\n")
    config = (project / "cvm.yaml").read_text()
    (project / "cvm.yaml").write_text(
        config.replace(f"{ROOT}/examples/retail/transactions.csv", "tx.csv"))
    scored = score(load_config(project))
    assert scored.model.used
    heavy = scored.table.set_index("customer_id").loc["HEAVY"]
    assert heavy["frequency"] == 519 and heavy["p_alive"] == 0.0
    assert heavy["clv_model"] == 0.0  # expected over the horizon: they have surely left
    # if retained: about 40 purchase days a period at a margin of 20, over four periods
    assert np.isfinite(heavy["potential_value"]) and heavy["potential_value"] > 1000
