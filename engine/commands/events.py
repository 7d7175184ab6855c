"""``cvm events FILE``: replay an events file, in time order, against the project's triggers
and the latest run's customer value table; print what fired."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import typer

from engine import notices
from engine.commands.common import project_of, today
from engine.errors import InputError, Problem, printable
from engine.output.folder import output_target
from engine.policy.triggers import Event, Fired, TriggerEngine
from engine.run.job import file_sha256
from engine.workflow.events_file import read_events
from engine.workflow.json_output import document

TABLE = "customers.parquet"
SHOWN = 20  # unknown customer ids named


def replay(project: Path | None, config_file: Path | None, file: Path,
           out: Path | None = None) -> dict[str, Any]:
    """The replay's figures and every trigger fired, oldest first."""
    setup = project_of(project, config_file)
    events = read_events(file, setup.triggers.event_types)
    if (ahead := _after_today(events)) is not None:  # replayed as dated, but said
        notices.warn(f"{file.name}: {ahead}")
    folder = output_target(setup.config, out)
    if folder.path.is_file():  # as cvm serve --run says it
        raise InputError(Problem("is a file, expected the folder of a run",
                                 file=str(folder.path), key=folder.option,
                                 hint="point it at the run's output folder"))
    table_path = folder.path / TABLE
    if not table_path.is_file():
        raise InputError(Problem("no customer value table: the customers' attributes come from "
                                 "the latest run", file=str(table_path),
                                 hint="run `cvm run` (or `cvm score`) first"))
    ids = list(dict.fromkeys(e.customer_id for e in events))
    note = not_the_run(table_path)
    if note:
        typer.echo(f"warning: {note}", err=True)
    table = pd.read_parquet(table_path)
    table = table.assign(customer_id=table["customer_id"].astype(str))
    known = table[table["customer_id"].isin(ids)].drop_duplicates("customer_id")
    attributes = {row["customer_id"]: row for row in known.astype(object)
                  .where(known.notna(), None).to_dict("records")}
    unknown = [i for i in ids if i not in attributes]
    engine = TriggerEngine(setup.triggers)
    fired: list[Fired] = []
    try:
        for event in events:
            fired += engine.advance(event.at)
            fired += engine.post(event, attributes.get(event.customer_id))
        pending = engine.pending()
    finally:
        engine.close()
    return {"file": file.name, "events": len(events), "customers": len(ids),
            "unknown_customers": len(unknown), "unknown_customer_ids": unknown[:SHOWN],
            "triggers": len(setup.triggers.triggers), "pending": pending,
            "fired": [_row(f) for f in fired]}


def _after_today(events: list[Event]) -> str | None:
    """The events dated after today (the machine's day, as ``cvm responses import`` counts
    it; an event's time is read as UTC): a year mistyped, most often."""
    day = today()
    later = [e for e in events if (e.at.astimezone(dt.timezone.utc) if e.at.tzinfo
                                   else e.at).date() > day]
    if not later:
        return None
    first = later[0]
    return (f"{_count(len(later), 'event')} dated after today ({day}), the first "
            f"{first.at.isoformat()} (customer {first.customer_id}): replayed as dated; is a year "
            "mistyped?")


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def not_the_run(table_path: Path) -> str | None:
    """Why the value table is not the one of the run in its folder (written since, by `cvm
    score` or by hand: without the run's lifecycle stages and segments), None when it is or
    no run says."""
    try:
        manifest = json.loads((table_path.parent / "manifest.json").read_text(encoding="utf-8"))
        recorded = manifest["outputs"][TABLE]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    if file_sha256(table_path) == recorded:
        return None
    return (f"{table_path.name} is not the one run {manifest.get('run_id')} wrote (written "
            "since, e.g. by cvm score): the customers' lifecycle stages and segments may be "
            "missing; run `cvm run` to replay against the run's table")


def _row(f: Fired) -> dict[str, Any]:
    return {"at": f.at.isoformat(), "customer_id": f.customer_id, "trigger": f.trigger_id,
            "action": f.action, "campaign": f.campaign, "channel": f.channel,
            "priority": f.priority, "description": f.description,
            "event_ids": list(f.event_ids), "reason": f.reason}


def run(*, project: Path | None, config_file: Path | None, file: Path, out: Path | None,
        json_out: bool, quiet: bool) -> int:
    result = replay(project, config_file, file, out)
    if json_out:
        typer.echo(document("events", result))
        return 0
    if quiet:
        return 0
    lines = [f"{'at':<19}  {'customer':<12} {'trigger':<24} {'action':<28} priority  reason"]
    for f in result["fired"]:
        lines.append(f"{f['at']:<19}  {f['customer_id']:<12} {f['trigger']:<24} "
                     f"{f['action']:<28} {f['priority']:>8}  {f['reason']}")
    lines.append(f"{_count(result['events'], 'event')} of "
                 f"{_count(result['customers'], 'customer')}: "
                 f"{len(result['fired'])} fired, {result['pending']} waiting for an absence "
                 "to be decided")
    if result["unknown_customers"]:
        lines.append(f"  {result['unknown_customers']} customer(s) not in the latest run's "
                     "value table, evaluated with every attribute missing: "
                     + ", ".join(result["unknown_customer_ids"]))
    typer.echo(printable("\n".join(lines)))  # an id from the events file: shown escaped
    return 0
