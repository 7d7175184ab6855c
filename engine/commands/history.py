"""``cvm history [CUSTOMER_ID] [--json]``: the runs recorded, or one customer's timeline;
``cvm history --forget RUN [--yes]``: a run taken out of the history."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from engine.commands.common import project_of
from engine.errors import InputError, Problem, UsageError
from engine.history import open_history, settings_for
from engine.history.checks import check_readable
from engine.history.queries import list_runs, timeline
from engine.history.response_checks import money_text


def run(*, project: Path | None, config_file: Path | None, customer_id: str | None,
        as_json: bool, forget: list[int] | None = None, yes: bool = False) -> int:
    if len(forget or []) > 1:  # a re-trial: Typer kept the last, --forget 2 said nothing
        raise UsageError(Problem(
            f"found --forget {len(forget or []):,} times, expected one run at a time",
            key="--forget", hint="forget each run with its own command, reading what it "
                                 "says of the others"))
    if forget or yes:
        return _forget(project, config_file, forget[0] if forget else None, yes=yes,
                       beside=customer_id is not None or as_json)
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


def _forget(project: Path | None, config_file: Path | None, number: int | None, *,
             yes: bool, beside: bool) -> int:
    """Take run ``number`` out of the history (engine.history.record.forget_run), after
    saying what it was and what forgetting it changes; asked on a terminal, else --yes."""
    from engine.history.record import forget_run

    if number is None or beside:
        raise UsageError(Problem(
            "--yes goes with --forget RUN" if number is None else
            "--forget RUN takes a run out of the history: no CUSTOMER_ID or --json beside it",
            key="--forget", hint="cvm history --forget RUN --yes (RUN: a number of the run "
                                 "list that `cvm history` prints)"))
    config = project_of(project, config_file, scope="config").config
    settings = settings_for(config)
    where = config.display(settings.file) if settings.file is not None else settings.masked
    check_readable(config)
    store = open_history(config, create=False)  # read-only: a missing history not made
    try:
        rows = [] if store is None else list_runs(store)
    finally:
        if store is not None:
            store.close()
    found = next((r for r in rows if r["run"] == number), None)
    if found is None:
        raise InputError(Problem(
            f"found run {number}, expected " + (
                f"one of the runs recorded ({_numbers([r['run'] for r in rows])})" if rows
                else "a run: none is recorded yet"),
            file=where, key="--forget",
            hint="the run's number is the first column of `cvm history`"))
    said = forgetting(found, rows)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(Problem(
                f"forgetting run {number} cannot be undone, and there is no terminal to ask "
                "on", key="--forget", hint=f"cvm history --forget {number} --yes"))
        typer.echo("\n".join(said), err=True)
        if not typer.confirm(f"Forget run {number}?", default=False, err=True):
            typer.echo("Nothing forgotten.")
            return 0
    gone = InputError(Problem(
        f"run {number} is no longer the run described: the history changed meanwhile "
        "(nothing forgotten)", file=where, key="--forget",
        hint="look at `cvm history` again and name the run to forget"))
    if settings.file is not None and not settings.file.is_file():
        raise gone  # removed meanwhile: not made again (create=True would make it)
    store = open_history(config, create=True)  # it exists, at this version (checked above)
    assert store is not None
    try:
        if not forget_run(store, number, found["run_id"]):
            raise gone
    finally:
        store.close()
    typer.echo("\n".join([f"Forgot {said[0]} in {where}.", *said[1:]]))
    return 0


def forgetting(run: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """What run ``run`` is and what forgetting it changes, from the run list (list_runs)."""
    number, day = run["run"], run["as_of"]
    lines = [f"run {number} (as of {day}, recorded at {run['recorded_at']}: "
             f"{run['customers']:,} customers, {run['allocated']:,} contacts allocated)"]
    if run["replaced_by"] is None:
        earlier = [r["run"] for r in rows if r["as_of"] == day and r["run"] < number]
        if earlier:  # the latest of the others of its date is looked back on again
            lines.append(f"  run {earlier[-1]}, of the same as-of date, is looked back on "
                         f"again for {day}")
    else:
        lines.append(f"  replaced by run {run['replaced_by']} of the same as-of date: the "
                     "next runs do not read it either way")
    read, maybe = _readers(number, day, rows)  # a replaced run too, before its replacement
    if read:
        lines.append(f"  {len(read):,} later run(s) ({_numbers(read)}) read it when they were "
                     "made (contacts, changes, learning): what they recorded stays as made" + (
                         "; the next runs no longer count its contacts"
                         if run["replaced_by"] is None else ""))
    if maybe:
        lines.append(f"  {len(maybe):,} later run(s) ({_numbers(maybe)}) may have read it: "
                     "a run forgotten before them, its date not known now, may have been the "
                     "one of its date they read")
    lines.append("  its output folder and the responses imported are not touched")
    return lines


def _readers(number: int, day: str, rows: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """The runs that read run ``number`` (as of ``day``) when they were made: recorded after it,
    dated after it, and no run of its date recorded between them (they read that one,
    engine.history.lookback); those past a forgotten run (a gap in the numbers) only may
    have."""
    present = {r["run"] for r in rows}
    read: list[int] = []
    maybe: list[int] = []
    for r in rows:
        if r["as_of"] <= day or r["run"] <= number or any(
                s["as_of"] == day and number < s["run"] < r["run"] for s in rows):
            continue
        gap = any(k not in present for k in range(number + 1, r["run"]))
        (maybe if gap else read).append(r["run"])
    return read, maybe


def _numbers(numbers: list[int]) -> str:
    """'1-3, 5' for [1, 2, 3, 5]."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


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
