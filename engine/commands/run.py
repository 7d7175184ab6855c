"""``cvm run``: the main job."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from engine.activation.budget_words import rounded_over
from engine.commands.common import (
    last_purchase,
    left_out,
    money,
    netted,
    project_of,
    warn_if_ahead,
    warn_if_none_retained,
)
from engine.output.folder import output_target
from engine.project.config import Config
from engine.terminal import display, shell_path
from engine.words import counted

if TYPE_CHECKING:
    from engine.run.job import RunResult

RUN_STEPS = ("load", "features", "value", "models", "lifecycle", "decide", "allocate", "render",
             "write")


def run(*, project: Path | None, config_file: Path | None, out: Path | None, fmt: str,
        quiet: bool, history: bool = True, engine: str = "local",
        scheduler: str | None = None, partitions: int | None = None,
        scratch: Path | None = None) -> int:
    setup = project_of(project, config_file)
    # the pipeline's libraries (pandas, SciPy, ...) once the project is read: an error in it
    # is said without waiting for them
    from engine.run.job import run as run_job

    job = run_job
    if engine == "dask":  # issue 16: scored on a Dask cluster (engine/distributed/)
        from functools import partial

        from engine.distributed.job import run as run_dask

        job = partial(run_dask, scheduler=scheduler, partitions=partitions, scratch=scratch)
    config = setup.config
    was = _model_of(output_target(config, out).path / "manifest.json")  # before it is replaced
    if not history:
        _unread_history(config)
    started = time.perf_counter()
    last = [started]

    def progress(step: str) -> None:
        if not quiet:
            now = time.perf_counter()
            typer.echo(f"  [{now - started:6.1f} s] {step} ...", err=True)
            last[0] = now

    shown = display(RUN_STEPS, quiet=quiet)  # issue 17: bars on a terminal, else the lines
    if shown is not None:
        with shown:
            result = job(setup, out=out, fmt=fmt, progress=shown, history=history)
    else:
        result = job(setup, out=out, fmt=fmt, progress=progress, history=history)
    scored = result.computed.scored
    warn_if_ahead(config, scored.as_of, last_purchase(scored.table),
                  scored.report.dated_ahead)
    warn_if_none_retained(config, scored)
    _warn_if_earlier(result, project, config_file)
    if quiet:
        return 0
    counts, m = result.counts, result.manifest
    lines = [
        f"Run {result.run_id}: {counts['customers']:,} customer"
        f"{'s' * (counts['customers'] != 1)} as of {m['as_of']} "
        f"({config.display(config.data.transactions)})",
        f"  rows: {counts['rows_read']:,} read, {counts['rows_used']:,} used; skipped "
        f"{counts['rows_skipped_after_as_of']:,} on or after the as-of date, "
        f"{counted(counts['rows_skipped_zero_amount'], 'zero amount')}, "
        f"{counted(counts['rows_skipped_duplicates'], 'exact duplicate')}"
        + (" (first kept)" if counts["rows_skipped_duplicates"] else ""),
        *netted(result.computed.scored.report, config.currency),  # as `cvm score` says
        *left_out(counts["customers_without_purchase"], result.computed.scored.report,
                  config.currency),
        *([f"  note: {result.computed.scored.report.margin_note}"]  # as `cvm score` says
          if result.computed.scored.report.margin_note else []),
        *([f"  note: {result.computed.scored.report.as_of_note}"]
          if result.computed.scored.report.as_of_note else []),
        *([f"  note: {result.computed.scored.report.files_note}"]
          if result.computed.scored.report.files_note else []),
        # the customers file's matches (consents), as `cvm score` says them
        *(f"  note: {note}" for note in result.computed.scored.report.notes),
        f"  value model: {m['value_model']['description']}",
        *_model_changed(was, m),
        "  stages: " + _mix(result.computed.table["lifecycle_stage"]),
        "  actions: " + _mix(result.computed.decisions["action"].astype(object).fillna(
            "no_action")),
        f"  actioned {counts['actioned']:,}: {counts['allocated']:,} allocated, "
        f"{counts['holdout']:,} holdout, {counts['not_served']:,} not served"
        + (f", {counts['suppressed']:,} suppressed by a contact policy or an opt-out"
           + (f" ({opted:,} of them for an opt-out)" if (opted := (
               m.get("contact_policies") or {}).get("customers_blocked_per_policy", {}).get(
               "opted_out", 0)) else "")
           if counts["suppressed"] else ""),  # the four add up to the actioned
    ]
    ch = result.summary[result.summary["level"] == "channel"]
    for row in ch.itertuples():
        budget = f" of {money(float(row.budget), config.currency)}" if row.budget == \
            row.budget and row.budget is not None else ""
        n = int(row.contacts)
        lines.append(f"    {row.channel:<16} {n:>7,} contact{'s' * (n != 1)} (capacity "
                     f"{int(row.capacity):,}), {money(float(row.cost), config.currency)}"
                     f"{budget}{rounded_over(row.cost, row.budget, row.budget_used_share)}")
    lines += _unserved(result.computed.actions)
    from engine.activation.preferences import unmatched_preferences  # pandas: loaded by now

    if note := unmatched_preferences(result.computed.table["preferred_channel"],
                                     result.computed.setup.channels):
        lines.append(f"  note: {note}")
    lines.append("  " + result.computed.learned.summary())
    lines += [f"  note: {note}" for note in result.computed.learned.notes()]
    lines.append(f"wrote {shell_path(result.folder)}/: actions.{fmt}, decisions.csv, "
                 "customers.csv, customers.parquet, allocation_summary.csv, briefs/, "
                 "manifest.json")
    if m.get("history"):
        lines += _recorded(result, m["history"]["database"], counts["customers"])
    typer.echo("\n".join(lines))
    return 0


def _unserved(actions: Any) -> list[str]:
    """The customers not served, by reason, most first (a budget of 0 that blocks a whole
    campaign is said where the run is read, not only in the action list)."""
    reasons = actions.loc[actions["status"] == "not_served", "reason"].astype(object)
    counts = sorted(reasons.value_counts().items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    return ["  not served, by reason:", *(f"    {int(n):>7,}  {reason}" for reason, n in counts)
            ] if counts else []


def _recorded(result: RunResult, database: str, customers: int) -> list[str]:
    """Where the run was recorded: its number, and the run of its as-of date it replaces."""
    rec, as_of = result.recorded, result.computed.scored.as_of
    number = f" as run {rec.key}" if rec is not None and rec.key is not None else ""
    lines = [f"recorded in the history ({database}){number}: "
             f"{counted(customers, 'customer')}"]
    if rec is not None and rec.replaces is not None:
        lines.append(f"  replaces run {rec.replaces}, of the same as-of date ({as_of}): later "
                     "runs read this one")
    return lines


def _warn_if_earlier(result: RunResult, project: Path | None, config_file: Path | None
                     ) -> None:
    """A run recorded with an as-of date before a recorded run's: a mistyped date's contacts
    count for every later run (a replay of an old date is allowed, and said). The hint's
    command names the project and configuration as the run was given them: without, it named
    the run's number in another history (a re-trial: -c other.yaml's history: of its own)."""
    import shlex

    from engine.errors import Problem
    from engine.notices import warn
    from engine.terminal import shell_path

    rec, as_of = result.recorded, result.computed.scored.as_of
    if rec is None or rec.later is None:
        return
    run, day = rec.later
    named = "".join(f" {flag} {shlex.quote(shell_path(path))}" for flag, path in (
        ("-p", project), ("-c", config_file)) if path is not None)
    warn(Problem(f"as of {as_of}, before the latest run recorded (run {run}, as of {day}): "
                 "this run's contacts count for the contact policies, learning and "
                 f"measurement of every later run, as made on {as_of}",
                 hint=f"a date mistyped? `cvm history{named} --forget {rec.key}` takes this "
                      "run out "
                      "of the history; `cvm run --no-history` tries a date without recording "
                      "it").format())


def _mix(values: object) -> str:
    import pandas as pd

    counts = pd.Series(values).astype(object).value_counts()
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def _unread_history(config: Config) -> None:
    """``--no-history`` beside a history: its memory (contacts, contact policies, opt-outs, the
    learnt response rates) is not applied to this run, which a marketer must not learn from the
    customers contacted."""
    from engine.errors import CvmError
    from engine.history import settings_for
    from engine.notices import warn

    try:
        settings = settings_for(config)
    except CvmError:  # a history setting it cannot use: --no-history does not use it either
        return
    if settings.file is not None and not settings.file.exists():
        return
    where = config.display(settings.file) if settings.file is not None else settings.masked
    warn(f"--no-history: the history ({where}) is neither read nor recorded into: its "
         "contacts, contact policies and opt-outs are not applied to this run, every "
         "campaign uses its declared response rates (nothing learnt), and value-change "
         "attributes take their first-run values")


def _model_of(manifest: Path) -> tuple[str, str, str] | None:
    """The run id, as-of date and value model of the run a folder holds, from its manifest;
    None without a readable one."""
    import json

    try:
        m = json.loads(manifest.read_text(encoding="utf-8"))
        name = _model_name(m)
        return None if name is None else (str(m["run_id"]), str(m["as_of"]), name)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _model_name(manifest: Mapping[str, Any]) -> str | None:
    """The purchase model's name ("formulas" without one) a manifest records."""
    from engine.value.clv_models import TITLES

    model = manifest.get("value_model")
    if not isinstance(model, Mapping):
        return None
    names = [k for k in model.get("params") or {} if k != "gamma_gamma"]
    return TITLES.get(names[0], names[0]) if model.get("used") and names else "formulas"


def _model_changed(was: tuple[str, str, str] | None, manifest: Mapping[str, Any]) -> list[str]:
    """A note when the folder's previous run used another value model (models.use auto may
    choose another one as the data grow: every potential value, tier and decision moves)."""
    now = _model_name(manifest)
    if was is None or now is None or was[2] == now:
        return []
    return [f"  note: the value model changed since the run this folder held (run {was[0]} as "
            f"of {was[1]}: {was[2]}; now {now}): potential values, tiers and decisions move "
            "with it; set models.use in cvm.yaml to keep one model"]
