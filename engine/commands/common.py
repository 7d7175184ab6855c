"""What several commands share: the project the command line names, read once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from engine.project import as_of_today
from engine.project.as_of_today import ahead_of_today as ahead_of_today
from engine.project.location import project_folder

if TYPE_CHECKING:
    import pandas as pd

    from engine.data.load import LoadReport
    from engine.errors import Problem
    from engine.project.config import Config
    from engine.project.project import Project
    from engine.value.score import Scored


def project_config(project: Path | None, config_file: Path | None) -> Config:
    """cvm.yaml alone (``cvm init``'s checks and tests; every command takes ``project_of``)."""
    from engine.project.config import load_config

    return load_config(project_folder(project, config_file), config_file=config_file)


def project_of(project: Path | None, config_file: Path | None, *, scope: str = "full",
               test_files: list[Path] | None = None) -> Project:
    """The project the command line names (--project, --config, or the folder above), read
    and checked once by ``engine.run.build`` (``scope``: the parts the command uses)."""
    folder = project_folder(project, config_file)  # none: said before the modules that read one
    from engine.run.build import load_project

    return load_project(folder, config_file, scope=scope, test_files=test_files)


def money(value: float, currency: str) -> str:
    return f"{currency} {value:,.2f}"


def today() -> dt.date:
    """The day on this machine's clock (``engine.project.as_of_today``'s: the tests set it)."""
    return as_of_today.today()


def long_after_data(config: Config, as_of: dt.date, last: dt.date) -> Problem | None:
    """A warning when ``as_of:`` is set more than a period (``period_days``) after the data's
    last purchase ``last``: every customer then looks lapsed by days the export does not
    cover. The default as-of date (the day after the last transaction) never is."""
    quiet = (as_of - last).days - 1  # the days between, none of them in the data
    if config.as_of is None or quiet <= config.period_days:
        return None
    return dataclasses.replace(config.problem(
        "as_of", f"{as_of} is {quiet + 1} days after the last purchase in the data ({last}): "
        f"{quiet} days without data, more than a period (period_days {config.period_days}): "
        "recency, P(alive) and the stages count them as days without purchases",
        hint=f"if the export ends on {last}, set as_of to {last + dt.timedelta(days=1)} or "
        "remove it (the day after the last transaction)"), severity="warning")


def as_of_warnings(config: Config, as_of: dt.date, last: dt.date | None = None,
                   dated: str = "") -> list[Problem]:
    """What is odd about the as-of date: ``ahead_of_today`` (``dated``: the rows dated after
    today, LoadReport.dated_ahead), and ``long_after_data`` given the data's last purchase
    ``last``."""
    return [p for p in (ahead_of_today(config, as_of, dated),
                        long_after_data(config, as_of, last) if last is not None else None)
            if p is not None]


def warn_if_ahead(config: Config, as_of: dt.date, last: dt.date | None = None,
                  dated: str = "") -> None:
    """Say ``as_of_warnings`` on standard error, never in an output."""
    from engine import notices

    for problem in as_of_warnings(config, as_of, last, dated):
        notices.warn(problem.format())


def warn_if_none_retained(config: Config, scored: Scored) -> None:
    """Say ``none_retained`` on standard error: every formula CLV is 0."""
    import numpy as np

    from engine import notices
    from engine.value.retention import none_retained

    gaps = scored.table["avg_interpurchase_days"].to_numpy(dtype=float, na_value=np.nan)
    if (problem := none_retained(config, scored.retention, gaps)) is not None:
        notices.warn(problem.format())


def last_purchase(table: pd.DataFrame) -> dt.date | None:
    """The data's last purchase day (``engine.value.features.last_purchase_day``)."""
    from engine.value.features import last_purchase_day

    return last_purchase_day(table)


def netted(report: LoadReport, currency: str) -> list[str]:
    """The summaries' line on the refund rows netted in the scored customers' revenue (none:
    no line): `cvm score`'s and `cvm run`'s alike."""
    from engine.value.score import refund_figures

    refunds = refund_figures(report)
    if not (rows := int(refunds["rows"])):
        return []
    return [f"  netted {rows:,} refund row{'s' * (rows != 1)} "
            f"({money(refunds['amount'], currency)})"]


def left_out(customers: int, report: LoadReport | None = None, currency: str = "") -> list[str]:
    """The summaries' line on the customers left out of the value table (none: no line), with
    their refund rows (``report``), which no customer's revenue nets."""
    if not customers:
        return []
    line = (f"  left out {customers:,} customer{'s' * (customers != 1)} with no purchase left "
            "(only refund rows, or every purchase row skipped above)")
    rows = report.refund_rows_left_out if report is not None else 0
    if report is not None and rows:
        line += (f"; their {rows:,} refund row{'s' * (rows != 1)} "
                 f"({money(report.refund_amount_left_out, currency)}) "
                 f"{'are' if rows != 1 else 'is'} in no customer's revenue")
    return [line]
