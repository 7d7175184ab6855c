"""Purchase models side by side on a calibration/holdout split, and the choice between them.

Each model (MBG/NBD, BG/NBD, Pareto/NBD) is fitted on its own on the calibration period
(``rfm.calibration_holdout``'s ``*_cal`` columns) and scored:

* in calibration: log-likelihood, AIC = 2k - 2 LL and BIC = k ln(n) - 2 LL (k = 4 parameters,
  n customers; with a ``penalizer`` these are of the penalised estimate and only indicative);
* on the holdout: expected repeat purchases of every customer over the holdout, summed, against
  the actual number (the aggregate error), and the by-frequency table (FHL 2005, Figure 5) with
  one predicted column per model.

A model that cannot be fitted (``ConvergenceError``, ``ValueError``) is recorded with its reason;
the others are scored as usual. The weekly tracking series and its chart are in
``engine.value.models.tracking``.

The choice (``choose``): the fitted model with the smallest absolute holdout error of the
total repeat purchases. That is the question a value table asks of the model (how many
purchases will these customers make next), measured on data the fit did not see, in the
business's own units; the likelihood criteria reward fitting the calibration period and do not
compare across models with different support as directly. Errors closer than ``tie_tolerance``
(0.5% of the actual total by default, below what a holdout of a few thousand purchases can tell
apart) are a tie, settled by the preference order: MBG/NBD, BG/NBD, Pareto/NBD. All have four
parameters; MBG/NBD, the value table's default, comes first because it lets one-time buyers
leave; Pareto/NBD last, as its likelihood needs the hypergeometric function (slower) and it
has no finite estimate where drop-out rates hardly vary (more fragile).

Integration: ``cvm fit`` prints ``Comparison.table()`` and ``by_frequency``, writes them as CSV,
the calibration fits into params.json (``Comparison.as_dict()``), and the tracking chart;
``models.use: auto`` uses ``choose(...)`` and prints its reason.
"""

from __future__ import annotations

import hashlib
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from engine.value.models._common import BaseFitter, ConvergenceError
from engine.value.models.bgnbd import BetaGeoFitter
from engine.value.models.mbgnbd import ModifiedBetaGeoFitter
from engine.value.models.messages import reason_of
from engine.value.models.pareto_nbd import ParetoNBDFitter
from engine.value.models.rfm import holdout_check

TITLES = {"mbgnbd": "MBG/NBD", "bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}
PREFERENCE = ("mbgnbd", "bgnbd", "pareto_nbd")  # ties go to the earlier model
FITTERS: dict[str, Callable[[float], BaseFitter]] = {
    "mbgnbd": ModifiedBetaGeoFitter, "bgnbd": BetaGeoFitter, "pareto_nbd": ParetoNBDFitter}
FIT_ERRORS = (ConvergenceError, ValueError, ArithmeticError)


@dataclass(frozen=True)
class ModelScore:
    """One purchase model fitted on the calibration period and scored on the holdout."""

    name: str
    model: Any = None  # the fitted model, None if it failed
    reason: str = ""  # why it failed
    log_likelihood: float = math.nan
    n_params: int = 0
    n_customers: int = 0
    predicted: float = math.nan  # expected repeat purchases in the holdout, all customers
    actual: float = math.nan
    not_candidate: str = ""  # why the choice never takes it ("": a candidate)

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name)

    @property
    def fitted(self) -> bool:
        return self.model is not None

    @property
    def candidate(self) -> bool:
        return not self.not_candidate

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        return self.n_params * math.log(max(self.n_customers, 1)) - 2 * self.log_likelihood

    @property
    def error(self) -> float:
        """Predicted minus actual holdout repeat purchases."""
        return self.predicted - self.actual

    @property
    def relative_error(self) -> float:
        return self.error / self.actual if self.actual else math.nan


@dataclass(frozen=True)
class Comparison:
    """The scores of every model asked for, in order, and the side-by-side holdout table."""

    scores: dict[str, ModelScore]
    by_frequency: pd.DataFrame = field(repr=False)

    def fitted(self) -> list[ModelScore]:
        return [s for s in self.scores.values() if s.fitted]

    def table(self) -> pd.DataFrame:
        """One row per model: fitted, log-likelihood, AIC, BIC, holdout predicted/actual/error."""
        rows = {s.name: {"model": s.title, "fitted": s.fitted,
                         "log_likelihood": s.log_likelihood, "aic": s.aic, "bic": s.bic,
                         "holdout_predicted": s.predicted, "holdout_actual": s.actual,
                         "holdout_error": s.error, "holdout_relative_error": s.relative_error,
                         "reason": s.reason, "auto_candidate": s.candidate,
                         "not_candidate_reason": s.not_candidate}
                for s in self.scores.values()}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("name")

    def as_dict(self) -> dict[str, dict[str, object]]:
        """JSON-ready: per model its parameters, standard errors and scores (or its reason),
        and whether the choice may take it (or why not)."""
        out: dict[str, dict[str, object]] = {}
        for s in self.scores.values():
            candidate = {"auto_candidate": s.candidate,
                         "not_candidate_reason": s.not_candidate or None}
            if not s.fitted:
                out[s.name] = {"fitted": False, "reason": s.reason, **candidate}
                continue
            out[s.name] = {"fitted": True, **candidate, "params": dict(s.model.params_),
                           "standard_errors": dict(s.model.standard_errors_),
                           "log_likelihood": s.log_likelihood, "aic": s.aic, "bic": s.bic,
                           "holdout": {"predicted": s.predicted, "actual": s.actual,
                                       "error": s.error, "relative_error": s.relative_error}}
        return out


@dataclass(frozen=True)
class Choice:
    name: str
    reason: str

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name)


def _calibration(cal_holdout: pd.DataFrame) -> tuple[np.ndarray, ...]:
    missing = [c for c in ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout",
                           "duration_holdout") if c not in cal_holdout]
    if missing:
        raise ValueError(f"cal_holdout has no column {missing[0]!r}: build it with "
                         "engine.value.models.rfm.calibration_holdout")
    return tuple(cal_holdout[c].to_numpy(dtype=np.float64)
                 for c in ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout",
                           "duration_holdout"))


# A model's score is a function of its calibration columns, the penalizer and the fitter
# alone: the last few are kept for the process (``score``), so that the same data valued again
# in it (cvm plan's baseline and proposal, a reload of cvm serve, a script scoring twice) fit
# once. The Pareto/NBD search alone takes 0.4 s on the retail example's 2,000 customers.
_SCORES: OrderedDict[tuple[object, ...], ModelScore] = OrderedDict()
_SCORES_KEPT = 8
_SCORES_LOCK = threading.Lock()


def score(name: str, cal_holdout: pd.DataFrame, *, penalizer: float = 0.0,
          fitter: Callable[[float], BaseFitter] | None = None) -> ModelScore:
    """Fit one model on the calibration columns and score it; failures become the reason.
    The same columns, penalizer and fitter give the score computed before, kept for the
    process (the last ``_SCORES_KEPT``): the same fit, not another one."""
    columns = _calibration(cal_holdout)
    make = fitter or FITTERS[name]
    digest = hashlib.blake2b(digest_size=16)
    for column in columns:
        digest.update(len(column).to_bytes(8, "little"))
        digest.update(np.ascontiguousarray(column).tobytes())
    key = (name, make, getattr(make, "fit", None), float(penalizer), digest.digest())
    with _SCORES_LOCK:
        kept = _SCORES.get(key)
        if kept is not None:
            _SCORES.move_to_end(key)
            return kept
    scored = _fit_and_score(name, make, penalizer, *columns)
    with _SCORES_LOCK:
        _SCORES[key] = scored
        while len(_SCORES) > _SCORES_KEPT:
            _SCORES.popitem(last=False)
    return scored


def _fit_and_score(name: str, make: Callable[[float], BaseFitter], penalizer: float,
                   x: np.ndarray, tx: np.ndarray, t: np.ndarray, actual: np.ndarray,
                   duration: np.ndarray) -> ModelScore:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model: Any = make(penalizer)
            model.fit(x, tx, t)
            predicted = float(np.sum(model.expected_purchases(duration, x, tx, t)))
    except FIT_ERRORS as exc:
        return ModelScore(name, reason=reason_of(exc))
    if not math.isfinite(predicted):
        return ModelScore(name, reason="its holdout prediction is not finite")
    return ModelScore(name, model, "", float(model.log_likelihood_), len(model.param_names),
                      len(x), predicted, float(actual.sum()))


def compare(cal_holdout: pd.DataFrame, *, models: Sequence[str] = PREFERENCE,
            penalizer: float = 0.0, max_frequency: int = 7,
            fitters: Mapping[str, Callable[[float], BaseFitter]] | None = None,
            not_candidates: Mapping[str, str] | None = None) -> Comparison:
    """Fit and score each model of ``models`` (names of ``FITTERS``, or of ``fitters``).
    ``not_candidates``: the models ``choose`` never takes, each with why (scored beside the
    others, for comparison).

    ``by_frequency``: rows "0".."7+" and "total" of calibration repeat purchases; columns
    n_customers, actual_mean, then one predicted mean per fitted model (named by title).
    """
    makers = {**FITTERS, **(fitters or {})}
    unknown = [m for m in models if m not in makers]
    if unknown:
        raise ValueError(f"unknown purchase model {unknown[0]!r}; expected one of "
                         f"{', '.join(makers)}")
    scores = {m: replace(score(m, cal_holdout, penalizer=penalizer, fitter=makers[m]),
                         not_candidate=(not_candidates or {}).get(m, "")) for m in models}
    table: pd.DataFrame | None = None
    for s in scores.values():
        if not s.fitted:
            continue
        check = holdout_check(s.model, cal_holdout, max_frequency=max_frequency)
        if table is None:
            table = check[["n_customers", "actual_mean"]].copy()
        table[s.title] = check["predicted_mean"]
    if table is None:
        table = pd.DataFrame(columns=["n_customers", "actual_mean"])
    return Comparison(scores, table)


class OffHoldout(ValueError):
    """The best model fitted misses the holdout total by more than the bound: none is chosen."""


def choose(comparison: Comparison, *, tie_tolerance: float = 0.005,
           candidates: Sequence[str] | None = None, max_error: float | None = None) -> Choice:
    """The fitted model with the smallest absolute holdout error of total repeat purchases
    (ties within ``tie_tolerance`` x actual go to the earlier model in ``PREFERENCE``), among
    ``candidates`` (default: every model scored that is a candidate).

    Raises ``ValueError`` (with every model's reason) when no model was fitted, and
    ``OffHoldout`` when the model taken misses the actual total by more than ``max_error``
    (relative: 0.5 is 50%; no actual repeat purchase at all is missed by any prediction).
    """
    scores = [s for s in comparison.scores.values()
              if (s.candidate if candidates is None else s.name in candidates)]
    fitted = [s for s in scores if s.fitted]
    failed = [s for s in scores if not s.fitted]
    if not fitted:
        raise ValueError("no purchase model could be fitted: " + "; ".join(
            f"{s.title}: {s.reason}" for s in failed))
    # beyond the bound before a tie is settled (NaN: no actual repeat purchase, always beyond)
    within = fitted if max_error is None else \
        [s for s in fitted if abs(s.relative_error) <= max_error]
    if not within:
        _off(fitted, max_error)
    best = min(abs(s.error) for s in within)
    slack = tie_tolerance * abs(within[0].actual)
    tied = [s for s in within if abs(s.error) <= best + slack]
    order = {n: i for i, n in enumerate(PREFERENCE)}
    pick = min(tied, key=lambda s: (order.get(s.name, len(order)), abs(s.error)))
    others = ", ".join(f"{s.title} {_pct(s)}" for s in fitted if s is not pick)
    reason = (f"{pick.title} predicts {pick.predicted:,.0f} repeat purchases in the holdout "
              f"against {pick.actual:,.0f} actual ({_pct(pick)}), "
              + ("the smallest absolute error" if len(fitted) > 1 else
                 "the only candidate fitted"))
    if others:
        reason += f" (other models: {others})"
    if len(tied) > 1:
        names = ", ".join(s.title for s in tied if s is not pick)
        reason += (f"; tied with {names} within {tie_tolerance:.1%} of the actual total, "
                   f"and {pick.title} comes first in the preference order "
                   f"({', '.join(TITLES[n] for n in PREFERENCE)})")
    if failed:
        reason += "; not fitted on the calibration period: " + "; ".join(
            f"{s.title} ({s.reason})" for s in failed)
    return Choice(pick.name, reason)


def _off(fitted: list[ModelScore], max_error: float | None) -> NoReturn:
    closest = min(fitted, key=lambda s: abs(s.error))
    if not closest.actual:
        raise OffHoldout("no repeat purchase in the holdout: nothing to measure the purchase "
                         "models against (" + ", ".join(
                             f"{s.title} predicts {s.predicted:,.0f}" for s in fitted) + ")")
    best_of = "the best candidate fitted" if len(fitted) > 1 else "the only candidate fitted"
    raise OffHoldout(f"{closest.title}, {best_of}, predicts {closest.predicted:,.0f} repeat "
                     f"purchases in the holdout against {closest.actual:,.0f} actual "
                     f"({_pct(closest)}), more than models.max_holdout_error "
                     f"{(max_error or 0) * 100:g}% off")


def _pct(s: ModelScore) -> str:
    return f"{s.relative_error:+.1%}" if math.isfinite(s.relative_error) else "n/a"
