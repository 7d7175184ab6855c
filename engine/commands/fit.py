"""``cvm fit``: fit BG/NBD, Pareto/NBD and Gamma-Gamma, print parameters with standard errors
and log-likelihoods, and check predictions against a holdout period."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from engine.clv_models import rfm
from engine.commands.common import project_config
from engine.errors import InputError, Problem, UsageError
from engine.features import REPEAT_SPEND, build_features
from engine.load import EPOCH, Transactions, load_transactions
from engine.output import write_csv, write_text
from engine.output_commit import writing
from engine.output_folder import check_folder, guard_for, output_target


def run(*, project: Path | None, config_file: Path | None, out: Path | None,
        calibration_end: dt.date | None, quiet: bool) -> int:
    from engine.models._common import ConvergenceError
    from engine.models.bgnbd import BetaGeoFitter
    from engine.models.gamma_gamma import GammaGammaFitter
    from engine.models.pareto_nbd import ParetoNBDFitter
    from engine.models.rfm import calibration_holdout, holdout_check, plot_holdout

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
    x, t_x, big_t = rfm(frame, unit)
    spend = frame[REPEAT_SPEND].to_numpy()
    lines = [f"Fitted on {len(frame):,} customers as of {tx.as_of} (time unit {unit:g} days)"]
    results: dict[str, dict[str, object]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitters: dict[str, BetaGeoFitter | ParetoNBDFitter] = {
            "bgnbd": BetaGeoFitter(), "pareto_nbd": ParetoNBDFitter()}
        for name, fitter in fitters.items():
            try:
                fitter.fit(x, t_x, big_t)
            except (ConvergenceError, ValueError) as exc:
                raise InputError(Problem(f"{name} could not be fitted: {exc}",
                                         file=config.display(config.data.transactions))) from None
        ok = (x > 0) & (spend > 0)
        gg = GammaGammaFitter().fit(x[ok], spend[ok])
    titles = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}
    for name, model in [*fitters.items(), ("gamma_gamma", gg)]:
        results[name] = {"params": dict(model.params_),
                         "standard_errors": dict(model.standard_errors_),
                         "log_likelihood": float(model.log_likelihood_)}
        params = "  ".join(f"{k} {v:.4g} (se {model.standard_errors_[k]:.2g})"
                           for k, v in model.params_.items())
        lines.append(f"  {titles[name]:<12} {params}  LL {model.log_likelihood_:,.2f}")
    lines.append(f"  Gamma-Gamma fitted on {int(ok.sum()):,} repeat buyers")

    cal = calibration_holdout(purchases, customer_col="customer", date_col="date",
                              calibration_end=cal_end, observation_end=observation_end,
                              time_unit_days=unit)
    bg_cal = BetaGeoFitter().fit(cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    check = holdout_check(bg_cal, cal)
    total = check.loc["total"]
    error = (float(total["predicted_total"]) / float(total["actual_total"]) - 1.0) \
        if total["actual_total"] else float("nan")
    lines.append(f"Holdout check: BG/NBD fitted to {cal_end}, predicting "
                 f"{cal_end + dt.timedelta(days=1)} .. {observation_end} "
                 f"({len(cal):,} customers)")
    lines.append("  calibration repeat purchases  customers  actual mean  predicted mean")
    for label, row in check.iterrows():
        lines.append(f"  {label!s:>28}  {int(row['n_customers']):>9,}  "
                     f"{row['actual_mean']:>11.3f}  {row['predicted_mean']:>14.3f}")
    lines.append(f"  predicted {float(total['predicted_total']):,.0f} repeat purchases, actual "
                 f"{float(total['actual_total']):,.0f} ({error:+.1%})")
    folder = target.path / "fit"
    with writing(target, guard, "fit") as stage:
        write_csv(check.reset_index(), stage.path("fit/holdout.csv"))
        plot_holdout(check, stage.path("fit/holdout.svg"))
        write_text(json.dumps(
            {"as_of": str(tx.as_of), "time_unit_days": unit, "calibration_end": str(cal_end),
             "models": results, "holdout_error": error}, indent=2, sort_keys=True) + "\n",
            stage.path("fit/params.json"))
    if not quiet:
        typer.echo("\n".join(lines))
        typer.echo(f"wrote {config.display(folder)}/holdout.csv, holdout.svg, params.json")
    return 0


def _purchases(tx: Transactions) -> pd.DataFrame:
    buy = tx.amount > 0
    days = np.datetime64(EPOCH.isoformat(), "D") + tx.day[buy].astype("timedelta64[D]")
    return pd.DataFrame({"customer": tx.code[buy], "date": days.astype("datetime64[s]"),
                         "value": tx.amount[buy]})

