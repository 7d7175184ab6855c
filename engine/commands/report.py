"""``cvm report``: the monthly customer-equity figures, charts and one offline HTML page.

Writes ``<out or output>/report/``: ``report.html``, ``monthly_figures.csv`` and ``charts/*.svg``,
all at once, through engine.output.folder (recorded as the ``report`` command's files).
"""

from __future__ import annotations

from pathlib import Path

import typer

from engine.commands.common import project_of, warn_if_ahead
from engine.errors import InputError, Problem, UsageError
from engine.history.checks import check_readable
from engine.output.commit import writing
from engine.output.folder import check_folder, guard_for, output_target
from engine.output.writers import write_csv, write_text
from engine.project.report_settings import (
    MIN_ACTIVE_WINDOW,
    NO_WINDOW_WITH_CONTRACTS,
    default_active_window,
    report_config,
)
from engine.report.html import build_report
from engine.report.spend import Spend, find_spend, load_spend
from engine.terminal import shell_path

REPORT_FOLDER = "report"


def run(*, project: Path | None, config_file: Path | None, out: Path | None,
        spend: Path | None, quiet: bool, active_window: int | None = None) -> int:
    """Build and write the report; returns the exit code (0)."""
    setup = project_of(project, config_file, scope="report")
    config = setup.config
    settings = report_config(config)
    window = active_window or settings.active_window_days or \
        default_active_window(config.period_days)
    if active_window is not None and config.subscriptions is not None:
        raise UsageError(Problem(f"found {active_window}, which is not used with subscriptions "
                                 f"({NO_WINDOW_WITH_CONTRACTS})", key="--active-window",
                                 hint="leave --active-window out"))
    if window < MIN_ACTIVE_WINDOW:
        raise InputError(Problem(f"found {window}, expected a number of days of at least "
                                 f"{MIN_ACTIVE_WINDOW}", key="--active-window",
                                 hint="a customer who bought during a month must count as "
                                 "active at its end"))
    path = spend or settings.spend or find_spend(config.project, config.data.transactions
                                                           if isinstance(config.data.transactions,
                                                                         Path)
                                                           else config.file)
    spend_data = load_spend(path.resolve(), config.display(path.resolve())) if path else \
        Spend(None)
    target = output_target(config, out)
    guard = guard_for(config, files=[path])
    check_folder(target, guard)
    check_readable(config)  # a history validate refuses is not read (exit 1)
    report = build_report(setup, spend=spend_data, active_window_days=window,
                          run_folder=target.path)
    with writing(target, guard, "report") as stage:
        write_text(report.html, stage.path(f"{REPORT_FOLDER}/report.html"))
        write_csv(report.figures, stage.path(f"{REPORT_FOLDER}/monthly_figures.csv"))
        for name, svg in sorted(report.charts.items()):
            write_text(svg, stage.path(f"{REPORT_FOLDER}/charts/{name}.svg"))
    if report.as_of is not None:
        warn_if_ahead(config, report.as_of, report.last_purchase, report.dated_ahead)
    if not quiet:
        typer.echo("\n".join(report.summary))
        typer.echo(f"wrote {shell_path(target.path / REPORT_FOLDER / 'report.html')}, "
                   f"monthly_figures.csv and {len(report.charts)} charts in charts/")
    return 0
