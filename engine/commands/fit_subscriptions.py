"""``cvm fit`` for a subscription business (``subscriptions:`` in cvm.yaml): the sBG retention
model on all customers, its retention curve, and a holdout check of the survivors.

Holdout: the customers who paid before the calibration end, with their renewals up to it and
whether a contract still ran then (a payment in its last billing period), fitted alone; the
model predicts how many of those then active still pay in the holdout's last billing period,
sum over them of S(n + h) / S(n) (h the whole billing periods in the holdout), against the
actual number. A holdout shorter than one billing period (nothing to renew in it) is not
checked, nor one on which the calibration fit fails (no customer churned by then, say): the
full-data fit is shown and the holdout marked "not checked" with the reason."""

from __future__ import annotations

import datetime as dt
import json
import warnings

import numpy as np
import typer

from engine.data.load import EPOCH, Transactions
from engine.decimals import percent
from engine.errors import InputError, Problem
from engine.output.commit import writing
from engine.output.folder import Guard, Target
from engine.output.writers import write_text
from engine.project.config import Config
from engine.terminal import shell_path
from engine.value.subscriptions import Coverage, paid_between
from engine.words import counted


def run(config: Config, tx: Transactions, target: Target, guard: Guard,
        cal_end: dt.date, quiet: bool, json_out: bool = False) -> int:
    from engine.commands.fit_compare import penalty_note
    from engine.value.models._common import ConvergenceError
    from engine.value.models.messages import reason_of
    from engine.value.models.sbg import ShiftedBetaGeoFitter

    assert config.subscriptions is not None and tx.active is not None
    billing = config.subscriptions.billing_days
    # the customers the value table values: a billing period paid (a contract starting after
    # the as-of date, or a refund alone, pays none), each period once (billing_periods)
    paid = Coverage.of(tx, billing)  # sorted once, counted through two days
    payments = paid.periods().astype(np.float64)
    valued = payments > 0
    n_customers = int(valued.sum())
    cal_day, obs_day = (cal_end - EPOCH).days, tx.as_of_day - 1
    paid_cal = paid.periods(through=cal_day).astype(np.float64)
    active_cal = paid_between(tx, cal_day - billing, cal_day)
    active_end = paid_between(tx, obs_day - billing, obs_day)
    cohort = paid_cal > 0
    periods = ((obs_day - cal_day) // billing)
    source = config.display(config.data.transactions)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = ShiftedBetaGeoFitter(config.models.penalizer).fit(
                payments[valued] - 1, (~tx.active[valued]).astype(np.float64))
    except (ConvergenceError, ValueError) as exc:
        raise InputError(Problem(f"sBG could not be fitted: {reason_of(exc)}",
                                 file=source, hint="check subscriptions.billing_days and that "
                                 "some customers renewed and some left")) from exc
    alive = cohort & active_cal
    # the holdout checks the model only if it spans a billing period: a renewal to predict
    not_checked = (f"the holdout ({obs_day - cal_day} days) is shorter than one billing "
                   f"period ({billing} days); set models.holdout_days or --calibration-end "
                   "earlier") if periods < 1 else None
    cal: ShiftedBetaGeoFitter | None = None
    if not_checked is None:
        try:  # as in purchase mode, a calibration fit that fails leaves the full fit shown
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cal = ShiftedBetaGeoFitter(config.models.penalizer).fit(
                    paid_cal[cohort] - 1, (~active_cal[cohort]).astype(np.float64))
        except (ConvergenceError, ValueError) as exc:
            not_checked = f"the sBG could not be fitted to {cal_end}: {reason_of(exc)}"
    predicted: float | None = None
    actual: int | None = None
    error: float | None = None
    if cal is not None:
        n_alive = paid_cal[alive] - 1
        predicted = float(np.sum(cal.survival(n_alive + periods) / cal.survival(n_alive)))
        actual = int((alive & active_end).sum())
        error = predicted / actual - 1 if actual else float("nan")
    # a list, in renewal order (keys "1".."12" would sort as text in params.json)
    curve = [{"renewal": t, "retention": float(v)}
             for t, v in zip(range(1, 13), full.retention(np.arange(1, 13)), strict=True)]
    a, b = full.params_["alpha"], full.params_["beta"]
    lines = [f"Fitted on {counted(n_customers, 'customer')} as of {tx.as_of} (billing period "
             f"{billing} days; {int(tx.active[valued].sum()):,} active, "
             f"{int((~tx.active[valued]).sum()):,} left"
             f"{penalty_note(config.models.penalizer, 'LL')})",
             "  sBG          " + "  ".join(f"{k} {v:.4g} (se {full.standard_errors_[k]:.2g})"
                                          for k, v in full.params_.items())
             + f"  LL {full.log_likelihood_:,.2f}",
             f"  churn at the first renewal {percent(a / (a + b))}; retention by renewal 1..6: "
             + ", ".join(percent(c["retention"]) for c in curve[:6]),
             f"Holdout: sBG fitted to {cal_end} ({int(cohort.sum()):,} customers, "
             f"{int(alive.sum()):,} active then), predicting who still pays "
             f"{periods} billing period{'s' if periods != 1 else ''} later, by "
             f"{tx.as_of - dt.timedelta(days=1)}"
             if not_checked is None else
             f"Holdout: {cal_end + dt.timedelta(days=1)} .. "
             f"{tx.as_of - dt.timedelta(days=1)} ({int(cohort.sum()):,} customers paid before, "
             f"{int(alive.sum()):,} active then)",
             f"  not checked: {not_checked}" if not_checked is not None else
             f"  predicted {predicted:,.0f} still active, actual {actual:,} ({error:+.1%})"]
    checked = {"status": "checked" if not_checked is None else "not_checked",
               "reason": not_checked}
    params = {"as_of": str(tx.as_of), "billing_days": billing, "calibration_end": str(cal_end),
              "penalizer": config.models.penalizer, "purchase_model": "sbg",
              "models": {"sbg": {"params": dict(full.params_),
                                 "standard_errors": dict(full.standard_errors_),
                                 "log_likelihood": float(full.log_likelihood_)}},
              "retention_by_renewal": curve,
              "calibration": {"sbg": {
                  "params": dict(cal.params_) if cal is not None else {},
                  "standard_errors": dict(cal.standard_errors_) if cal is not None else {},
                  "holdout": {**checked, "predicted": predicted, "actual": actual,
                              "relative_error": error}}}}
    with writing(target, guard, "fit") as stage:
        write_text(json.dumps(params, indent=2, sort_keys=True) + "\n",
                   stage.path("fit/params.json"))
    if json_out:  # what the terminal shows, the holdout check included (issue 15)
        from engine.workflow.json_output import fit_json

        typer.echo(fit_json({
            "mode": "subscriptions", **params,
            "holdout": {"calibration_end": str(cal_end),
                        "observation_end": str(tx.as_of - dt.timedelta(days=1)),
                        "customers": int(cohort.sum()), "active": int(alive.sum()),
                        "billing_periods": int(periods), **checked, "predicted": predicted,
                        "actual": actual, "relative_error": error},
            "wrote": [f"{config.display(target.path / 'fit')}/params.json"]}))
    elif not quiet:
        typer.echo("\n".join(lines))
        typer.echo(f"wrote {shell_path(target.path / 'fit')}/params.json")
    return 0
