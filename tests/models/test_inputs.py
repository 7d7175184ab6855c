"""Bad inputs are refused with messages that say how many rows and the first one."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.value.models import (
    BetaGeoFitter,
    ConvergenceError,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    NotFittedError,
    ParetoNBDFitter,
)


@pytest.mark.parametrize(("frequency", "recency", "T", "message"), [
    ([1, 2], [5, 4], [4, 4],
     "recency > T in 1 row (first at index 0: recency=5.0, T=4.0; both are measured from the "
     "first purchase, in the same time unit)"),
    ([-1, 0, -2], [0, 0, 0], [1, 1, 1],
     "frequency is negative in 2 rows (first at index 0: frequency=-1.0)"),
    ([0, 1, np.nan], [0, 1, 1], [2, 2, 2],
     "frequency is NaN or infinite in 1 row (first at index 2: frequency=nan)"),
    ([1, 1], [1, 1], [2, np.inf],
     "T is NaN or infinite in 1 row (first at index 1: T=inf)"),
    ([1, 0, 0], [1, 3, 2], [5, 5, 5],
     "frequency == 0 with recency > 0 in 2 rows (first at index 1: recency=3.0; recency is "
     "the time from the first to the last purchase)"),
    ([1.5, 1], [1, 1], [2, 2],
     "frequency is not a whole number of repeat purchases in 1 row (first at index 0: "
     "frequency=1.5)"),
    ([1, 2], [1, 1, 1], [2, 2, 2],
     "inputs have different lengths: {'frequency': 2, 'recency': 3, 'T': 3}"),
])
@pytest.mark.parametrize("model_cls", [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter])
def test_bad_rfm_rows(model_cls: type, frequency: list[float], recency: list[float],
                      T: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        model_cls().fit(frequency, recency, T)


def test_bad_weights_and_settings() -> None:
    with pytest.raises(ValueError, match=r"^weights has 2 values for 3 customers$"):
        BetaGeoFitter().fit([0, 1, 2], [0, 1, 2], [3, 3, 3], weights=[1, 1])
    with pytest.raises(ValueError, match=re.escape(
            "weights is negative in 1 row (first at index 1: weights=-1.0)")):
        BetaGeoFitter().fit([0, 1, 2], [0, 1, 2], [3, 3, 3], weights=[1, -1, 1])
    with pytest.raises(ValueError, match=r"^penalizer must be a finite number >= 0, got -1$"):
        BetaGeoFitter(penalizer=-1)


def test_gamma_gamma_inputs() -> None:
    with pytest.raises(ValueError, match=re.escape(
            "monetary_value <= 0 with frequency > 0 in 1 row (first at index 1: "
            "monetary_value=0.0; the Gamma-Gamma model needs positive spend)")):
        GammaGammaFitter().fit([1, 2, 0], [10.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=re.escape(
            "monetary_value is NaN or infinite in 1 row (first at index 0: "
            "monetary_value=nan)")):
        GammaGammaFitter().fit([1, 2], [np.nan, 3.0])
    rng = np.random.default_rng(0)
    x = np.r_[rng.integers(1, 6, 300), [0, 0]].astype(float)
    m = np.r_[rng.gamma(5.0, 6.0, 300), [0.0, 0.0]]
    with pytest.warns(UserWarning, match=r"^GammaGammaFitter: 2 customers with frequency == 0 "
                                         r"excluded from the fit"):
        gg = GammaGammaFitter().fit(x, m)
    assert gg.n_excluded_ == 2 and gg.n_customers_ == 300


@pytest.mark.parametrize("model", [BetaGeoFitter(), ModifiedBetaGeoFitter(), ParetoNBDFitter()])
def test_not_fitted(model: BetaGeoFitter | ModifiedBetaGeoFitter | ParetoNBDFitter) -> None:
    name = type(model).__name__
    message = f"^{name} is not fitted yet: call fit\\(\\) first$"
    for call in (lambda: model.p_alive(1, 1, 2), lambda: model.expected_purchases(1, 1, 1, 2),
                 lambda: model.expected_purchases_new(1), lambda: model.summary()):
        with pytest.raises(NotFittedError, match=message):
            call()
    assert isinstance(NotFittedError("x"), RuntimeError)


def test_gamma_gamma_not_fitted() -> None:
    with pytest.raises(NotFittedError,
                       match=r"^GammaGammaFitter is not fitted yet: call fit\(\) first$"):
        GammaGammaFitter().expected_average_spend([1], [10.0])


def test_no_repeat_purchases_is_an_input_error() -> None:
    t = np.linspace(1, 39, 200)
    for model in (BetaGeoFitter(), ModifiedBetaGeoFitter(), ParetoNBDFitter()):
        with pytest.raises(ValueError, match=f"^{type(model).__name__}: no customer has a "
                                             r"repeat purchase \(all frequency == 0\)"):
            model.fit(np.zeros(200), np.zeros(200), t)


@pytest.mark.parametrize("model_cls", [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter])
def test_unidentified_model_fails_loudly(model_cls: type) -> None:
    """Everyone buys every week and nobody leaves: no heterogeneity to estimate."""
    t = np.arange(10, 40, dtype=float).repeat(5)
    with pytest.raises(ConvergenceError) as info:
        model_cls().fit(t, t, t)
    text = str(info.value)
    assert text.startswith(f"{model_cls.__name__}: ")
    assert "Try: more data" in text and "penalizer" in text and "time units" in text
    assert isinstance(info.value, RuntimeError)


def test_absurd_parameter_message() -> None:
    t = np.arange(10, 40, dtype=float).repeat(5)
    with pytest.raises(ConvergenceError, match=r"^BetaGeoFitter: parameter r = \S+ is outside "
                                               r"\[1e-08, 1e\+06\]: the data do not identify"):
        BetaGeoFitter().fit(t, t, t)


def test_prediction_arguments() -> None:
    bg = BetaGeoFitter()
    bg.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    with pytest.raises(ValueError, match=r"^t must be finite and >= 0, got -1$"):
        bg.expected_purchases(-1, 1, 1, 2)
    with pytest.raises(ValueError, match=r"^horizon must be a whole number of steps >= 0, "
                                         r"got 1.5$"):
        bg.discounted_expected_purchases(1, 1, 2, horizon=1.5, discount_rate_per_period=0.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^recency > T in 1 row"):
        bg.p_alive([1, 1], [1, 3], [2, 2])
    gg = GammaGammaFitter()
    gg.params_ = {"p": 1.0, "q": 0.9, "gamma": 10.0}
    with pytest.raises(ValueError, match=r"^q = 0.9 <= 1: the Gamma-Gamma mean spend is "
                                         r"infinite$"):
        gg.expected_average_spend([1], [10.0])


def test_pareto_nbd_without_heterogeneous_dropout_says_so() -> None:
    """Pareto/NBD data in which every customer has the same drop-out rate (0.01 per week):
    the likelihood keeps rising as s and beta grow together, so it has no finite estimate;
    the fit says so, with the mean drop-out rate, instead of wandering up the ridge."""
    rng = np.random.default_rng(5)
    n = 3000
    t = rng.integers(7, 1095, n) / 7.0
    lam = rng.gamma(0.7, 1 / 7.0, n)
    alive_for = np.minimum(rng.exponential(100.0, n), t)
    x = rng.poisson(lam * alive_for).astype(float)
    tx = np.where(x > 0, alive_for * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    with pytest.raises(ConvergenceError) as info:
        ParetoNBDFitter().fit(x, tx, t)
    found = re.fullmatch(
        r"ParetoNBDFitter: the likelihood still rises at s = 20 \(the upper bound of the "
        r"search\), with a mean drop-out rate s/beta = (\S+) per time unit: drop-out "
        r"rates hardly vary between customers in these data, and the Pareto/NBD has no finite "
        r"estimate \(its limit, s -> infinity, gives every customer that one rate\)\.",
        info.value.reason)
    assert found and float(found.group(1)) == pytest.approx(0.01, rel=0.1)
