"""``cvm report``: the monthly customer-equity figures, charts and one offline HTML page.

Writes ``<out or output>/report/``: ``report.html``, ``monthly_figures.csv`` and ``charts/*.svg``,
all at once (the folder is replaced only when everything is written).
"""

from __future__ import annotations

from pathlib import Path

import typer

from engine.commands.common import project_config
from engine.errors import InputError, Problem
from engine.output import atomic_folder, csv_writer
from engine.report import MIN_ACTIVE_WINDOW, default_active_window, report_config
from engine.report.html import build_report
from engine.report.spend import Spend, find_spend, load_spend

REPORT_FOLDER = "report"


def run(*, project: Path | None, config_file: Path | None, out: Path | None,
        spend: Path | None, quiet: bool, active_window: int | None = None) -> int:
    """Build and write the report; returns the exit code (0)."""
    config = project_config(project, config_file)
    settings = report_config(config)
    window = active_window or settings.active_window_days or \
        default_active_window(config.period_days)
    if window < MIN_ACTIVE_WINDOW:
        raise InputError(Problem(f"found {window}, expected a number of days of at least "
                                 f"{MIN_ACTIVE_WINDOW}", key="--active-window",
                                 hint="a customer who bought during a month must count as "
                                 "active at its end"))
    path = spend or settings.spend or find_spend(config.project, config.data.transactions)
    spend_data = load_spend(path.resolve(), config.display(path.resolve())) if path else \
        Spend(None)
    base = (out or config.output).resolve()
    report = build_report(config, spend=spend_data, active_window_days=window, run_folder=base)
    target = base / REPORT_FOLDER
    with atomic_folder(target) as tmp:
        (tmp / "report.html").write_text(report.html, encoding="utf-8")
        csv_writer(report.figures)(tmp / "monthly_figures.csv")
        (tmp / "charts").mkdir()
        for name, svg in sorted(report.charts.items()):
            (tmp / "charts" / f"{name}.svg").write_text(svg, encoding="utf-8")
    if not quiet:
        typer.echo("\n".join(report.summary))
        typer.echo(f"wrote {config.display(target / 'report.html')}, monthly_figures.csv and "
                   f"{len(report.charts)} charts in charts/")
    return 0
