"""``cvm history [CUSTOMER_ID] [--json]``: the runs recorded, or one customer's timeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from engine.commands.common import project_of
from engine.errors import InputError, Problem
from engine.history import open_history, settings_for
from engine.history.checks import check_readable
from engine.history.queries import list_runs, timeline
from engine.history.response_checks import money_text


def run(*, project: Path | None, config_file: Path | None, customer_id: str | None,
        as_json: bool) -> int:
    config = project_of(project, config_file, scope="config").config
    settings = settings_for(config)
    where = config.display(settings.file) if settings.file is not None else settings.masked
    check_readable(config)  # a history validate refuses is not read (exit 1)
    store = open_history(config, create=False)
    if store is None:
        raw: Any = [] if customer_id is None else {"customer_id": customer_id,
                                                   "runs_recorded": 0, "snapshots": [],
                                                   "responses": [], "events": [],
                                                   "interactions": []}
    else:
        try:
            raw = list_runs(store) if customer_id is None else timeline(store, customer_id)
        finally:
            store.close()
    if customer_id is not None and not any(
            raw[k] for k in ("snapshots", "responses", "events", "interactions")):
        runs = f"none of the {raw['runs_recorded']:,} runs recorded" if raw["runs_recorded"] \
            else "no run (none is recorded yet)"
        raise InputError(Problem(
            f"customer {customer_id!r} is in {runs} and has no response, event or interaction",
            file=where, key="CUSTOMER_ID", hint="customer ids are matched exactly, as text"))
    if as_json:
        if customer_id is not None:  # total_value to the cent, as customers.csv shows it (the
            for snap in raw["snapshots"]:  # history keeps it exact: the next run's change %)
                if snap.get("total_value") is not None:
                    snap["total_value"] = cents_as_written(snap["total_value"])
        typer.echo(json.dumps(raw, indent=2, sort_keys=True))
    elif customer_id is None:
        typer.echo(_runs_text(raw, where))
    else:
        typer.echo(_timeline_text(raw, where))
    return 0


def cents_as_written(value: float) -> float:
    """A money figure rounded as the output files round it (engine.decimals: half up on the
    decimal value, whose 33.055 is 33.06 where Python's round gives 33.05)."""
    from engine.decimals import figure

    return figure(float(value), 2)


def _runs_text(rows: list[dict[str, Any]], where: str) -> str:
    if not rows:
        return f"No run recorded yet in {where}: `cvm run` records each run."
    lines = [f"{len(rows):,} run(s) recorded in {where}:",
             f"  {'run':>4}  {'run id':<16}  {'as of':<10}  {'recorded at':<25}  "
             f"{'customers':>9}  {'actioned':>8}  {'allocated':>9}  {'holdout':>7}  "
             f"{'not served':>10}  {'suppressed':>10}"]
    for r in rows:
        # a run re-made on its as-of date replaces it: only the latest is looked back on
        replaced = f"  replaced by run {r['replaced_by']}" if r["replaced_by"] else ""
        lines.append(f"  {r['run']:>4}  {r['run_id']:<16}  {r['as_of']:<10}  "
                     f"{r['recorded_at']:<25}  {r['customers']:>9,}  {r['actioned']:>8,}  "
                     f"{r['allocated']:>9,}  {r['holdout']:>7,}  {r['not_served']:>10,}  "
                     f"{r['suppressed']:>10,}{replaced}")
    return "\n".join(lines)


def _timeline_text(raw: dict[str, Any], where: str) -> str:
    lines = [f"Customer {raw['customer_id']} in {where}:"]
    if not raw["snapshots"]:
        lines.append("  in no recorded run")
    for s in raw["snapshots"]:
        decision = s["action"] or "no_action"
        if s["status"]:
            decision += f" ({s['campaign']}: {s['status']}"
            decision += f" on {s['channel']}" if s["channel"] else ""
            # why not contacted, as the action list said (runs recorded before 0007: none)
            why = s["reason"] if s["status"] in ("suppressed", "not_served") else None
            decision += f"; {why})" if why else ")"
        replaced = f"  [replaced by run {s['replaced_by']}]" if s["replaced_by"] else ""
        lines.append(f"  run {s['run']:>3}  {s['as_of']}  {s['value_tier'] or '-':<9} "
                     f"{s['lifecycle_stage'] or '-':<12} total value "
                     f"{_num(s['total_value']):>10}  score {_num(s['value_score']):>6}  "
                     f"{decision}{replaced}")
    for r in raw["responses"]:
        revenue = f", revenue {money_text(r['revenue'])}" if r["revenue"] is not None else ""
        lines.append(f"  response    {r['date']}  {r['campaign']}: {r['outcome']}{revenue}")
    for e in raw["events"]:
        held = e["withheld"]  # fired, but not given: listed below with why
        fired = (f", fired {e['fired']}" + (f" ({held} withheld)" if held else "")
                 if e["fired"] else "")
        lines.append(f"  event       {_minute(e['occurred_at'])}  {e['type']}{fired}")
    for i in raw["interactions"]:
        kind = "served" if i["source"] == "next_best_action" else "triggered"
        told = " -> " + ", ".join(o["outcome"] for o in i["outcomes"]) if i["outcomes"] else ""
        what = i["action"] or "no_action"
        if i["trigger_id"]:
            what = f"{i['trigger_id']}: {what}"
        if i.get("withheld"):  # the trigger's action not given, and why
            what += f" (withheld: {i['withheld']})"
        lines.append(f"  {kind:<11} {i['interaction_id'][:8]}  {i['channel'] or '-'}: "
                     f"{what}{told}  ({_minute(i['recorded_at'])})")
    return "\n".join(lines)


def _minute(stamp: str) -> str:
    """'2026-01-02T10:00:00+00:00' -> '2026-01-02 10:00' (UTC, as recorded)."""
    return stamp[:16].replace("T", " ")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
