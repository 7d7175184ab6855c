"""``cvm measure``: each campaign of each recorded run against its holdout (README "Measuring
campaigns: `cvm measure`")."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import typer

from engine.commands.common import project_of
from engine.data.load import load_transactions
from engine.errors import InputError, Problem
from engine.history import open_history
from engine.history.checks import check_readable
from engine.history.measure import measure
from engine.history.measure_verdict import interval_text
from engine.notices import warn
from engine.output.commit import writing
from engine.output.folder import check_folder, guard_for, output_target
from engine.output.writers import write_csv
from engine.terminal import shell_path


def run(*, project: Path | None, config_file: Path | None, out: Path | None,
        quiet: bool) -> int:
    setup = project_of(project, config_file)
    config = setup.config
    target, guard = output_target(config, out), guard_for(config)
    check_folder(target, guard)
    check_readable(config)  # a history validate refuses is not read (exit 1)
    store = open_history(config, create=False)
    if store is None:
        raise InputError(Problem(
            "there is no history to measure: no run has been recorded yet",
            hint="cvm run records each run (unless --no-history); measure after the "
                 "campaigns' attribution windows"))
    from engine.history.queries import list_runs

    if not list_runs(store):  # a history made by `cvm responses import` alone
        store.close()
        raise InputError(Problem(
            "there is no run to measure: the history holds no recorded run yet",
            hint="cvm run records each run (unless --no-history); measure after the "
                 "campaigns' attribution windows"))
    # every transaction, the ones after the runs' as-of dates included: they are the results
    tx = load_transactions(dataclasses.replace(config, as_of=None))
    try:
        table = measure(store, tx, setup.channels)
    finally:
        store.close()
    for said in table.attrs.get("warnings", []):  # conversions imported for one side only
        warn(f"{said}\n  hint: import the holdout's conversions too (the tool's "
             "whole audience), or read the margin and revenue uplifts")
    with writing(target, guard, "measure") as stage:
        write_csv(table, stage.path("measure.csv"))
    if not quiet:
        typer.echo(format_table(table, config.currency))
        if older := table.attrs.get("today_s_windows"):
            typer.echo(f"note: run{'s' if len(older) > 1 else ''} "
                       f"{', '.join(map(str, older))} {'were' if len(older) > 1 else 'was'} "
                       "recorded before the history kept each run's attribution windows: "
                       "measured over today's policies/campaigns.yaml")
        typer.echo(f"wrote {shell_path(target.path / 'measure.csv')}")
    return 0


def format_table(table: pd.DataFrame, currency: str) -> str:
    """The terminal table: one line per run and campaign."""
    if table.empty:
        return "no campaign in the recorded runs"
    head = (f"{'run':>3}  {'as of':<10}  {'campaign':<22} {'treated':>8} {'holdout':>8} "
            f"{'conv. uplift':>13}  {'margin uplift / customer (95% CI)':<36} "
            f"{'incr. margin':>13} {'incr. revenue':>13} {'cost':>10} {'ROS':>9}  verdict")
    lines = [head]
    for r in table.itertuples(index=False):
        conv = "-" if pd.isna(r.conversion_uplift) else f"{100 * r.conversion_uplift:+.2f} pt"
        marg = interval_text(_num(r.margin_uplift), _num(r.margin_low), _num(r.margin_high),
                             r.treated, r.holdout, " .. ")
        incr = "-" if pd.isna(r.incremental_margin) else f"{r.incremental_margin:,.2f}"
        revenue = "-" if pd.isna(r.incremental_revenue) else f"{r.incremental_revenue:,.2f}"
        ros = "-" if r.return_on_spend is None or pd.isna(r.return_on_spend) else \
            f"{r.return_on_spend:,.2f}"
        lines.append(f"{r.run:>3}  {r.as_of:<10}  {r.campaign:<22} {r.treated:>8,} "
                     f"{r.holdout:>8,} {conv:>13}  {marg:<36} {incr:>13} {revenue:>13} "
                     f"{r.cost:>10,.2f} {ros:>9}  {r.verdict}")
    lines.append(f"(amounts in {currency}; uplift = treated - holdout, intention to treat; "
                 "margin CUPED-adjusted)")
    return "\n".join(lines)


def _num(v: object) -> float | None:
    """A figure of measure's table (None or NaN where there is none) as a float or None."""
    return None if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]
