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
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer

from engine import notices
from engine.commands.common import project_of, warn_if_ahead
from engine.data.load import EPOCH, Transactions, load_transactions
from engine.errors import InputError, Problem, UsageError
from engine.output.commit import writing
from engine.output.folder import check_folder, guard_for, output_target
from engine.output.writers import write_csv, write_text
from engine.project.config import Config
from engine.project.location import config_shown
from engine.terminal import display, shell_path
from engine.value.clv_models import TITLES, rfm
from engine.value.features import REPEAT_SPEND, build_features
from engine.words import counted


def model_hint(use: str, failing: str | None = None) -> str:
    """A failed fit's hint: what the value table needs of the models under ``use`` (not
    ``failing``, when another model is named), then what to check."""
    where = f"models.use: {use} in {config_shown()}"
    if use == "none":
        needs = f"the value table uses no model ({where}): these fits are for comparison only"
    elif use == "auto":
        needs = (f"under {where} the value table uses the purchase model auto chooses on "
                 "the holdout, with Gamma-Gamma, and keeps the formulas if that model cannot "
                 "be fitted on all the data")
    else:
        needs = f"the value table needs only {TITLES.get(use, use)} ({where}) and Gamma-Gamma"
        if failing is not None and failing != use:
            needs += f"; {TITLES.get(failing, failing)} is not needed"
        else:  # the named model itself: cvm score refuses it where it cannot be fitted
            needs += ("; models.use: auto would use the model that predicts the holdout best, "
                      "or keep the formulas where none can be fitted")
    return (f"{needs}; when a model fails, check that models.time_unit_days (the unit of "
            "recency and T) suits how often customers buy, and that a few hundred customers "
            "bought more than once")


SPEND_HINT = ("the value table needs Gamma-Gamma beside the purchase model; it needs a few "
              "hundred repeat buyers (their mean spend per purchase day is its data), whose "
              "mean spends differ between customers; the time unit plays no part in it")


def run(*, project: Path | None, config_file: Path | None, out: Path | None,
        calibration_end: dt.date | None, quiet: bool, json_out: bool = False) -> int:
    from engine.commands.fit_compare import (
        as_json,
        by_frequency_csv,
        comparison_csv,
        holdout,
        param_text,
        penalty_note,
        tracking_chart,
    )
    from engine.commands.fit_compare import lines as compare_lines
    from engine.value.model_choice import calibration_frame, holdout_split
    from engine.value.models.rfm import holdout_check, plot_holdout
    from engine.value.models.value_table import fit_failed, purchase_model

    config = project_of(project, config_file, scope="config").config
    target, guard = output_target(config, out), guard_for(config)
    check_folder(target, guard)
    tx = load_transactions(config)
    warn_if_ahead(config, tx.as_of, EPOCH + dt.timedelta(days=int(tx.day[tx.amount > 0].max())),
                  tx.report.dated_ahead)
    split = holdout_split(config, tx)  # auto's holdout: to the data's end
    observation_end, default_end = split.observation_end, split.calibration_end
    cal_end = calibration_end or default_end
    purchases = _purchases(tx)
    first = purchases["date"].min()
    if not first < pd.Timestamp(cal_end) < pd.Timestamp(observation_end):
        # checked before the fits, which take long
        bought = "payment" if config.subscriptions is not None else "purchase"
        inside = (f"expected a day after the first {bought} ({first.date()}) and before the "
                  f"last day of the data ({observation_end})")
        if calibration_end is not None:
            raise UsageError(Problem(
                f"found {cal_end}, {inside}", key="--calibration-end",
                hint=f"the calibration period must end after the first {bought} and before "
                "the last day of the data"))
        raise InputError(Problem(
            f"the default calibration end {cal_end} (see models.holdout_days) is not "
            f"inside the data: {inside}", file=config.display(config.data.transactions),
            hint="pass --calibration-end DATE, or use data that spans more than the horizon"))
    if config.subscriptions is not None:  # contracts: the sBG retention model
        from engine.commands import fit_subscriptions

        return fit_subscriptions.run(config, tx, target, guard, cal_end, quiet, json_out)
    unit = config.models.time_unit_days
    frame = build_features(tx, period_days=config.period_days,
                           horizon_periods=config.horizon_periods)
    shown = display(("fit", "holdout check"), quiet=quiet or json_out)  # issue 17: bars
    with shown or contextlib.nullcontext():
        if shown is not None:
            shown("fit")
        fitted, failed = _fit_all(frame, unit, config.models.penalizer)
    source = config.display(config.data.transactions)
    if not fitted:
        last = len(failed) - 1
        raise InputError([Problem(f"{TITLES[name]} could not be fitted: {reason}",
                                  file=source, hint=model_hint(config.models.use)
                                  if i == last else None)
                          for i, (name, reason) in enumerate(failed.items())])
    lines = [f"Fitted on {counted(len(frame), 'customer')} as of {tx.as_of} "
             f"(time unit {unit:g} days"
             f"{penalty_note(config.models.penalizer, 'LL, AIC and BIC')})"]
    for name in TITLES:
        if name in fitted:
            lines.append(f"  {TITLES[name]:<12} {param_text(fitted[name])}")
        elif name in failed:
            lines.append(f"  {TITLES[name]:<12} not fitted (see the warning)")
    if "gamma_gamma" in fitted:
        lines.append(f"  Gamma-Gamma fitted on {fitted['gamma_gamma'].n_customers_:,} "
                     "repeat buyers")

    cal = calibration_frame(tx, cal_end, observation_end, unit)
    with shown or contextlib.nullcontext():
        if shown is not None:
            shown("holdout check")
        held = holdout(cal, purchases, use=config.models.use,
                       penalizer=config.models.penalizer, max_error=config.models.max_holdout_error,
                       cal_end=cal_end,
                       observation_end=observation_end, unit=unit,
                       full_frequency=frame["frequency"], full_spend=_mean_repeat_spend(frame))
    # the value table's purchase model as cvm score decides it: a model named by models.use is
    # fitted on all the data whatever --calibration-end (auto's is chosen on the default one)
    model = purchase_model(config.models.use, held.chosen, cal_end == default_end)
    formulas = _keeps_formulas(config, frame, None)
    # a fit that fails on all the data fails cvm score's too, said in its words and order
    failing = None if formulas is not None else next(
        (n for n in (model, "gamma_gamma") if n is not None and n in failed), None)
    if failing is not None:
        formulas = fit_failed(failing, TITLES[failing], failed[failing])
    if formulas is None:
        formulas = _keeps_formulas(config, frame, fitted.get("gamma_gamma"))
    lines.extend(compare_lines(held, cal_end=cal_end, observation_end=observation_end,
                               customers=len(cal), use=config.models.use,
                               default_end=default_end, formulas=formulas))
    folder = target.path / "fit"
    written = ["comparison.csv", "holdout.csv", "params.json"]
    chart = tracking_chart(held, unit)
    with writing(target, guard, "fit") as stage:
        write_csv(comparison_csv(held), stage.path("fit/comparison.csv"))
        write_csv(by_frequency_csv(held), stage.path("fit/holdout.csv"))
        chosen = held.comparison.scores.get(held.chosen or "")
        if chosen is not None and chosen.fitted:
            plot_holdout(holdout_check(chosen.model, cal), stage.path("fit/holdout.svg"),
                         model=chosen.title)
            written.append("holdout.svg")
        if held.tracking is not None and chart is not None:
            write_csv(held.tracking, stage.path("fit/tracking.csv"))
            write_text(chart, stage.path("fit/tracking.svg"))
            written += ["tracking.csv", "tracking.svg"]
        error = chosen.relative_error if chosen is not None else float("nan")
        fitted_params: dict[str, Any] = {
            "as_of": str(tx.as_of), "time_unit_days": unit, "calibration_end": str(cal_end),
            # what the terminal's "value table model" says: null when there is none
            "purchase_model": model if formulas is None else None,
            "models": _results(fitted), "not_fitted": failed,
            "holdout_error": error}
        write_text(json.dumps(_finite(
            {**fitted_params, "penalizer": config.models.penalizer,
             "calibration": held.as_dict()}), indent=2, sort_keys=True, default=_json) + "\n",
            stage.path("fit/params.json"))
    _warn(config, failed)
    if formulas is not None and config.models.use != "none":
        verdict = ("the value table keeps the formulas" if config.models.use == "auto" else
                   f"cvm score will refuse models.use: {config.models.use}")
        notices.warn(Problem(f"{verdict}: {formulas}", file=config.display(config.file),
                             key="models", hint=penalty_hint(
                                 "the models need a spend per purchase with a finite mean"
                                 if formulas.startswith("Gamma-Gamma q") else SPEND_HINT
                                 if failing == "gamma_gamma" else
                                 model_hint(config.models.use, failing),
                                 config.models.penalizer)).format())
    if json_out:  # issue 17; the holdout comparison as the terminal shows it (issue 15)
        from engine.workflow.json_output import fit_json

        typer.echo(fit_json({
            "mode": "purchases", **fitted_params,
            "holdout": as_json(held, cal_end=cal_end, observation_end=observation_end,
                               customers=len(cal)),
            "wrote": [f"{config.display(folder)}/{f}" for f in written]}))
    elif not quiet:
        typer.echo("\n".join(lines))
        typer.echo(f"wrote {shell_path(folder)}/{', '.join(written)}")
    return 0


def _fit_all(frame: pd.DataFrame, unit: float, penalizer: float = 0.0
             ) -> tuple[dict[str, Any], dict[str, str]]:
    """Every model fitted on its own: (fitted models by name, reason of each failure)."""
    from engine.value.models import (
        BetaGeoFitter,
        ConvergenceError,
        GammaGammaFitter,
        ModifiedBetaGeoFitter,
        ParetoNBDFitter,
    )
    from engine.value.models.messages import reason_of

    x, t_x, big_t = rfm(frame, unit)
    spend = frame[REPEAT_SPEND].to_numpy()
    ok = (x > 0) & (spend > 0)
    jobs: dict[str, Callable[[], Any]] = {
        "mbgnbd": lambda: ModifiedBetaGeoFitter(penalizer).fit(x, t_x, big_t),
        "bgnbd": lambda: BetaGeoFitter(penalizer).fit(x, t_x, big_t),
        "pareto_nbd": lambda: ParetoNBDFitter(penalizer).fit(x, t_x, big_t),
        "gamma_gamma": lambda: GammaGammaFitter(penalizer).fit(x[ok], spend[ok]),
    }
    fitted: dict[str, Any] = {}
    failed: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, job in jobs.items():
            try:
                fitted[name] = job()
            except (ConvergenceError, ValueError) as exc:
                failed[name] = reason_of(exc)
    return fitted, failed


def _keeps_formulas(config: Config, frame: pd.DataFrame, spend_model: Any) -> str | None:
    """Why ``cvm score`` keeps the formulas on these data (its own decision), or None."""
    from engine.value.models.value_table import keeps_formulas

    x = frame["frequency"].to_numpy()
    repeaters = int(((x > 0) & (frame[REPEAT_SPEND].to_numpy() > 0)).sum())
    return keeps_formulas(config.models.use, repeaters, config.models.min_repeat_customers,
                          spend_model)


def _mean_repeat_spend(frame: pd.DataFrame) -> np.ndarray:
    """Gamma-Gamma's input: the mean gross spend of the repeat purchase days (0 without)."""
    x = frame["frequency"].to_numpy(dtype=np.float64)
    return np.asarray(np.where(x > 0, frame[REPEAT_SPEND].to_numpy(), 0.0), dtype=np.float64)


def _finite(value: Any) -> Any:
    """``value`` with every float that is not finite as None (json.dumps writes a NaN float
    as NaN, which is not JSON: ``default`` sees only what it cannot write)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _json(value: object) -> object:
    """NaN and numpy scalars as JSON: NaN becomes null."""
    number = float(value)  # type: ignore[arg-type]
    return None if number != number else number


def _results(fitted: dict[str, Any]) -> dict[str, dict[str, object]]:
    return {name: {"params": dict(model.params_),
                   "standard_errors": dict(model.standard_errors_),
                   "log_likelihood": float(model.log_likelihood_)}
            for name, model in fitted.items()}


def _warn(config: Config, failed: dict[str, str]) -> None:
    source = config.display(config.data.transactions)
    for name, reason in failed.items():
        title = TITLES.get(name, name)
        # on all the data: the holdout's fit, to the calibration end, may say other figures
        notices.warn(Problem(f"{title} was not fitted on all the data: {reason}", file=source,
                             hint=penalty_hint(SPEND_HINT if name == "gamma_gamma"
                                               else model_hint(config.models.use, name),
                                               config.models.penalizer)).format())


def penalty_hint(hint: str, penalizer: float) -> str:
    """A fit's hint, naming the L2 penalty when there is one: it can be the cause."""
    if penalizer <= 0:
        return hint
    return (f"models.penalizer is {penalizer:g} in {config_shown()}: the penalty shrinks every "
            "parameter towards 0 and can itself make a fit fail; try it at 0 (or 0.0001) "
            f"with cvm fit; else {hint}")


def _purchases(tx: Transactions) -> pd.DataFrame:
    buy = tx.amount > 0
    days = np.datetime64(EPOCH.isoformat(), "D") + tx.day[buy].astype("timedelta64[D]")
    return pd.DataFrame({"customer": tx.code[buy], "date": days.astype("datetime64[s]"),
                         "value": tx.amount[buy]})
