"""``cvm fit``: fit MBG/NBD, BG/NBD, Pareto/NBD and Gamma-Gamma, print parameters with standard
errors and log-likelihoods, and check the value table's purchase model against a holdout period.

Each model is fitted on its own: one that fails is reported (which, why, and a hint) and the
others are printed and written. The exit code is 0 when at least one model fitted (with a
warning per failed model) and 1 when none did.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer

from engine import notices
from engine.commands.common import project_config
from engine.data.load import EPOCH, Transactions, load_transactions
from engine.errors import InputError, Problem, UsageError
from engine.output.commit import writing
from engine.output.folder import check_folder, guard_for, output_target
from engine.output.writers import write_csv, write_text
from engine.project.config import Config
from engine.terminal import display
from engine.value.clv_models import PURCHASE_MODEL, TITLES, rfm
from engine.value.features import REPEAT_SPEND, build_features

HINT = ("the value table needs only the model named by models.use in cvm.yaml (MBG/NBD by "
        "default) and Gamma-Gamma; when a model fails, check that models.time_unit_days (the "
        "unit of recency and T) suits how often customers buy, and that a few hundred "
        "customers bought more than once")


def run(*, project: Path | None, config_file: Path | None, out: Path | None,
        calibration_end: dt.date | None, quiet: bool, json_out: bool = False) -> int:
    from engine.value.models.rfm import calibration_holdout, plot_holdout

    config = project_config(project, config_file)
    target, guard = output_target(config, out), guard_for(config)
    check_folder(target, guard)
    tx = load_transactions(config)
    observation_end = tx.as_of - dt.timedelta(days=1)
    cal_end = calibration_end or observation_end - dt.timedelta(
        days=config.horizon_periods * config.period_days)
    purchases = _purchases(tx)
    first = purchases["date"].min()
    if not first < pd.Timestamp(cal_end) < pd.Timestamp(observation_end):
        # checked before the fits, which take long
        inside = f"expected a day inside the data ({first.date()} .. {observation_end})"
        if calibration_end is not None:
            raise UsageError(Problem(
                f"found {cal_end}, {inside}", key="--calibration-end",
                hint="the calibration period must end after the first purchase and before "
                "the last day of the data"))
        raise InputError(Problem(
            f"the default calibration end {cal_end} (the as-of date minus the horizon) is not "
            f"inside the data: {inside}", file=config.display(config.data.transactions),
            hint="pass --calibration-end DATE, or use data that spans more than the horizon"))
    unit = config.models.time_unit_days
    frame = build_features(tx, period_days=config.period_days,
                           horizon_periods=config.horizon_periods)
    shown = display(("fit", "holdout check"), quiet=quiet or json_out)  # issue 17: bars
    with shown or contextlib.nullcontext():
        if shown is not None:
            shown("fit")
        fitted, failed = _fit_all(frame, unit)
    source = config.display(config.data.transactions)
    if not fitted:
        last = len(failed) - 1
        raise InputError([Problem(f"{TITLES[name]} could not be fitted: {reason}",
                                  file=source, hint=HINT if i == last else None)
                          for i, (name, reason) in enumerate(failed.items())])
    lines = [f"Fitted on {len(frame):,} customers as of {tx.as_of} (time unit {unit:g} days)"]
    for name in TITLES:
        if name in fitted:
            model = fitted[name]
            params = "  ".join(f"{k} {v:.4g} (se {model.standard_errors_[k]:.2g})"
                               for k, v in model.params_.items())
            lines.append(f"  {TITLES[name]:<12} {params}  LL {model.log_likelihood_:,.2f}")
        elif name in failed:
            lines.append(f"  {TITLES[name]:<12} not fitted (see the warning)")
    if "gamma_gamma" in fitted:
        lines.append(f"  Gamma-Gamma fitted on {fitted['gamma_gamma'].n_customers_:,} "
                     "repeat buyers")

    name = PURCHASE_MODEL.get(config.models.use, "mbgnbd")
    cal = calibration_holdout(purchases, customer_col="customer", date_col="date",
                              calibration_end=cal_end, observation_end=observation_end,
                              time_unit_days=unit)
    with shown or contextlib.nullcontext():
        if shown is not None:
            shown("holdout check")
        holdout = _holdout(name, cal)
    check, error = None, float("nan")
    if isinstance(holdout, str):
        failed[f"holdout check ({TITLES[name]} on the calibration period)"] = holdout
    else:
        check, error = holdout
        lines.extend(_holdout_lines(name, cal_end, observation_end, len(cal), check, error))
    folder = target.path / "fit"
    written = ["params.json"]
    with writing(target, guard, "fit") as stage:
        if check is not None:
            write_csv(check.reset_index(), stage.path("fit/holdout.csv"))
            plot_holdout(check, stage.path("fit/holdout.svg"))
            written[:0] = ["holdout.csv", "holdout.svg"]
        fitted_params: dict[str, Any] = {
            "as_of": str(tx.as_of), "time_unit_days": unit, "calibration_end": str(cal_end),
            "purchase_model": name, "models": _results(fitted), "not_fitted": failed,
            "holdout_error": error}
        write_text(json.dumps(fitted_params, indent=2, sort_keys=True) + "\n",
                   stage.path("fit/params.json"))
    _warn(config, failed)
    if json_out:  # issue 17
        from engine.workflow.json_output import fit_json

        typer.echo(fit_json({**fitted_params, "wrote": [
            f"{config.display(folder)}/{f}" for f in written]}))
    elif not quiet:
        typer.echo("\n".join(lines))
        typer.echo(f"wrote {config.display(folder)}/{', '.join(written)}")
    return 0


def _fit_all(frame: pd.DataFrame, unit: float) -> tuple[dict[str, Any], dict[str, str]]:
    """Every model fitted on its own: (fitted models by name, reason of each failure)."""
    from engine.value.models import (
        BetaGeoFitter,
        ConvergenceError,
        GammaGammaFitter,
        ModifiedBetaGeoFitter,
        ParetoNBDFitter,
    )

    x, t_x, big_t = rfm(frame, unit)
    spend = frame[REPEAT_SPEND].to_numpy()
    ok = (x > 0) & (spend > 0)
    jobs: dict[str, Callable[[], Any]] = {
        "mbgnbd": lambda: ModifiedBetaGeoFitter().fit(x, t_x, big_t),
        "bgnbd": lambda: BetaGeoFitter().fit(x, t_x, big_t),
        "pareto_nbd": lambda: ParetoNBDFitter().fit(x, t_x, big_t),
        "gamma_gamma": lambda: GammaGammaFitter().fit(x[ok], spend[ok]),
    }
    fitted: dict[str, Any] = {}
    failed: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, job in jobs.items():
            try:
                fitted[name] = job()
            except (ConvergenceError, ValueError) as exc:
                failed[name] = _without_class(exc)
    return fitted, failed


def _holdout(name: str, cal: pd.DataFrame) -> tuple[pd.DataFrame, float] | str:
    """The purchase model fitted on the calibration period against the holdout: (check,
    relative error of the total), or the reason it could not be fitted."""
    from engine.value.models import BetaGeoFitter, ConvergenceError, ModifiedBetaGeoFitter
    from engine.value.models.rfm import holdout_check

    model = ModifiedBetaGeoFitter() if name == "mbgnbd" else BetaGeoFitter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    except (ConvergenceError, ValueError) as exc:
        return _without_class(exc)
    check = holdout_check(model, cal)
    total = check.loc["total"]
    error = (float(total["predicted_total"]) / float(total["actual_total"]) - 1.0) \
        if total["actual_total"] else float("nan")
    return check, error


def _holdout_lines(name: str, cal_end: dt.date, observation_end: dt.date, customers: int,
                   check: pd.DataFrame, error: float) -> list[str]:
    total = check.loc["total"]
    lines = [f"Holdout check: {TITLES[name]} fitted to {cal_end}, predicting "
             f"{cal_end + dt.timedelta(days=1)} .. {observation_end} ({customers:,} customers)",
             "  calibration repeat purchases  customers  actual mean  predicted mean"]
    for label, row in check.iterrows():
        lines.append(f"  {label!s:>28}  {int(row['n_customers']):>9,}  "
                     f"{row['actual_mean']:>11.3f}  {row['predicted_mean']:>14.3f}")
    lines.append(f"  predicted {float(total['predicted_total']):,.0f} repeat purchases, actual "
                 f"{float(total['actual_total']):,.0f} ({error:+.1%})")
    return lines


def _without_class(exc: Exception) -> str:
    """The reason, without the fitter's class name that starts it (the model is named)."""
    reason = str(getattr(exc, "reason", exc))
    head, sep, rest = reason.partition(": ")
    return rest if sep and head.endswith("Fitter") else reason


def _results(fitted: dict[str, Any]) -> dict[str, dict[str, object]]:
    return {name: {"params": dict(model.params_),
                   "standard_errors": dict(model.standard_errors_),
                   "log_likelihood": float(model.log_likelihood_)}
            for name, model in fitted.items()}


def _warn(config: Config, failed: dict[str, str]) -> None:
    source = config.display(config.data.transactions)
    for name, reason in failed.items():
        title = TITLES.get(name, name)
        notices.warn(Problem(f"{title} was not fitted: {reason}", file=source,
                             hint=HINT).format())


def _purchases(tx: Transactions) -> pd.DataFrame:
    buy = tx.amount > 0
    days = np.datetime64(EPOCH.isoformat(), "D") + tx.day[buy].astype("timedelta64[D]")
    return pd.DataFrame({"customer": tx.code[buy], "date": days.astype("datetime64[s]"),
                         "value": tx.amount[buy]})
