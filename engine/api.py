"""The Python API: what the CLI does, callable from a campaign tool without a shell.

    from engine import api
    project = api.load_project("path/to/project")  # every file read and checked, once
    result = api.run(project)                    # the main job; writes the run folder
    result.actions                               # the action list (pandas DataFrame)
    scored = api.score(project)                  # nothing written (a folder works too)
    scored.table                                 # the customer value table, as customers.csv
    problems = api.validate("path/to/project")   # every error and warning in the YAML files

Errors in inputs raise ``engine.errors.InputError`` (``.problems`` lists them); a bad argument
raises ``engine.errors.UsageError``; an output that cannot be written (or a folder the engine
refuses to write into) raises ``engine.errors.OutputError``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.errors import Problem
from engine.project.project import Project
from engine.run.build import load_project as _load_project
from engine.run.job import RunResult
from engine.run.job import run as _run
from engine.run.pipeline import Progress
from engine.value.score import output_frame, refund_figures, row_counts
from engine.value.score import score as _score

__all__ = ["Project", "RunResult", "ScoreResult", "load_project", "run", "score", "validate"]


@dataclass(frozen=True)
class ScoreResult:
    """What ``score`` returns: the customer value table and what it is based on."""

    table: pd.DataFrame
    """One row per customer, the columns and rounding of ``customers.csv`` (README "The customer
    value table"), sorted by customer_id."""
    as_of: dt.date
    """The day the values are for: transactions before it are used."""
    counts: dict[str, int]
    """rows_read, rows_used, rows_skipped_after_as_of, rows_skipped_zero_amount,
    rows_skipped_duplicates, customers and customers_without_purchase: the same keys as
    ``RunResult.counts``."""
    value_model: str
    """Which value model gave potential value (the probabilistic models or the formulas), and
    why."""
    refunds: dict[str, int | float]
    """The refund rows used and their amount: ``rows``, ``amount`` of the customers scored
    (netted in their revenue), ``left_out_rows``, ``left_out_amount`` of the customers left
    out (in no customer's revenue): the same keys as ``RunResult.refunds``."""


def load_project(folder: str | Path = ".", *,
                 config_file: str | Path | None = None) -> Project:
    """The project in ``folder``: cvm.yaml (or ``config_file``), the value tiers, rules,
    policies, channels and campaigns, read and checked once (templates compiled); raises
    InputError with the problems found."""
    return _project(Path(folder), config_file)


def _project(project: str | Path | Project, config_file: str | Path | None, *,
             scope: str = "full") -> Project:
    """``project`` itself, or the project in that folder, read once (``scope``: as the
    command doing the same reads it)."""
    if isinstance(project, Project):
        return project
    return _load_project(Path(project), Path(config_file) if config_file else None,
                         scope=scope)


def run(project: str | Path | Project = ".", *, config_file: str | Path | None = None,
        out: str | Path | None = None, fmt: str = "csv",
        progress: Progress | None = None, history: bool = True) -> RunResult:
    """Score, stage, decide, allocate and render; write the run folder; return the result.
    ``project``: a ``Project`` (``load_project``) or its folder; ``history=False``: neither
    read nor record the project's history (``--no-history``)."""
    return _run(_project(project, config_file), out=Path(out) if out else None, fmt=fmt,
                progress=progress, history=history)


def score(project: str | Path | Project = ".", *,
          config_file: str | Path | None = None) -> ScoreResult:
    """The customer value table (nothing is written); ``project`` as for ``run``."""
    read = _project(project, config_file, scope="value")  # as `cvm score` reads it
    scored = _score(read.config, tiers=read.tiers)
    return ScoreResult(output_frame(scored.table), scored.as_of, row_counts(scored),
                       scored.model.describe(), refund_figures(scored.report))


def validate(project: str | Path = ".", *,
             config_file: str | Path | None = None) -> list[Problem]:
    """Every error and warning in cvm.yaml, rules/, policies/ and templates/ (empty: valid)."""
    from engine.commands.validate import collect

    return collect(Path(project), Path(config_file) if config_file else None)
