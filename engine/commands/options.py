"""The options the ``cvm`` commands share, declared once (used by engine.cli)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import Problem, UsageError
from engine.project.hints import date_hint
from engine.project.iso_time import iso_date

ProjectOpt = Annotated[Path | None, typer.Option(
    "--project", "-p", help="The CVM project folder (holding cvm.yaml). Default: the nearest "
    "folder at or above the current one with a cvm.yaml.")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", "-c", help="Use this configuration file instead of PROJECT/cvm.yaml.")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Output folder. Default: `output` in cvm.yaml (relative to the project).")]
# (a file named is refused by each command: exit 3 where it writes, as `output:` naming one is;
# exit 1 where it reads a run, cvm events)
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
# issue 16: the Dask engine (engine/distributed/)
EngineOpt = Annotated[str, typer.Option(
    "--engine", help="local (one process) or dask (partitioned by customer on a Dask "
    "cluster; needs the [dask] extra).")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="With --engine dask: the address of a running Dask scheduler "
    "(tcp://host:8786); default a local cluster of two workers.")]
PartitionsOpt = Annotated[int | None, typer.Option(
    "--partitions", help="With --engine dask: how many partitions the customers are hashed "
    "into (default: from the size of the data).")]
ScratchOpt = Annotated[Path | None, typer.Option(
    "--scratch", help="With --engine dask: a folder where the rows wait between the two "
    "passes, which every worker can read and write, never inside a folder the project "
    "reads whole (default: the system's temporary folder, which a remote cluster's workers "
    "do not share).")]
JsonOpt = Annotated[bool, typer.Option(
    "--json", help="Print the result as one JSON document (schema: engine/schemas/"
    "output-COMMAND.schema.json).")]
# cvm explain and cvm plan: decide without the history, as `cvm run --no-history` does
AsNoHistoryOpt = Annotated[bool, typer.Option(
    "--no-history", help="Decide as cvm run --no-history does: the history is not read "
    "(value-change attributes take their first-run values, the declared response rates, no "
    "contact policy or opt-out).")]


def date_option(value: str | None, name: str) -> dt.date | None:
    """A date given on the command line (``--calibration-end``); None when not given."""
    if value is None:
        return None
    try:
        return iso_date(value)  # YYYY-MM-DD on every Python (3.11 took 20240630 too)
    except ValueError:
        raise UsageError(Problem(f"found {value!r}, expected a date such as 2024-06-30",
                                 key=name, hint=date_hint(value))) from None
