"""``cvm score``: write the customer value table and print a summary."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from engine.commands.common import (
    last_purchase,
    left_out,
    money,
    netted,
    project_of,
    warn_if_ahead,
    warn_if_none_retained,
)
from engine.commands.run_folder import refuse_the_run_s_folder, run_holding, warn_replaced
from engine.decimals import percent
from engine.output.folder import check_folder, guard_for, output_target
from engine.terminal import display, shell_path

if TYPE_CHECKING:
    from engine.value.score import Scored

FILES = ("customers.csv", "customers.parquet")
SCORE_STEPS = ("load", "features", "value", "models")


def run(*, project: Path | None, config_file: Path | None, out: Path | None,
        quiet: bool, json_out: bool = False, engine: str = "local",
        scheduler: str | None = None, partitions: int | None = None,
        scratch: Path | None = None) -> int:
    setup = project_of(project, config_file, scope="value")
    # the scoring's libraries once the project is read (an error in it is said at once)
    from engine.output.commit import writing
    from engine.output.writers import write_csv, write_parquet
    from engine.value.score import output_table, score

    config = setup.config
    target, guard = output_target(config, out), guard_for(config)
    check_folder(target, guard)
    # the run whose value table the folder holds (its manifest's hash of it): looked at once
    run_id = run_holding(target.path, FILES[1])
    if out is None and run_id is not None:
        refuse_the_run_s_folder(config, target.path, run_id, "score", FILES, "value table")
    shown = display(SCORE_STEPS, quiet=quiet or json_out)  # issue 17: bars on a terminal
    with shown or contextlib.nullcontext():
        if engine == "dask":  # issue 16: engine/distributed/
            from engine.distributed.job import scored_on_dask

            scored = scored_on_dask(setup, scheduler=scheduler, partitions=partitions,
                                    scratch=scratch, progress=shown)
        else:
            scored = score(config, progress=shown, tiers=setup.tiers)
    warn_if_ahead(config, scored.as_of, last_purchase(scored.table),
                  scored.report.dated_ahead)
    warn_if_none_retained(config, scored)
    frame = output_table(scored.table)  # the run's types: the same schema as its files
    with writing(target, guard, "score") as stage:
        write_csv(frame, stage.path(FILES[0]))
        write_parquet(frame, stage.path(FILES[1]))
    if json_out:  # issue 17
        from engine.workflow.json_output import score_json

        typer.echo(score_json(scored, [config.display(target.path / f) for f in FILES]))
    elif not quiet:
        typer.echo(summary(scored, config.currency))
        typer.echo("wrote " + " and ".join(shell_path(target.path / f) for f in FILES))
    if run_id is not None:
        warn_replaced(target.path, run_id, "score", FILES, "this value table, without the "
                      "run's lifecycle stages and segments")
    return 0


def summary(scored: Scored, currency: str) -> str:
    t, rep, ret = scored.table, scored.report, scored.retention
    from engine.value.score import shown_totals

    revenue, margin = shown_totals(scored)
    rate = f" ({percent(margin / revenue)})" if revenue else ""
    lines = [
        f"Scored {len(t):,} customer{'s' * (len(t) != 1)} as of {scored.as_of} from "
        f"{rep.file}",
        f"  rows: {rep.rows_read:,} read, {rep.rows_used:,} used",
    ]
    for reason, count in rep.skipped():
        if count:
            said = reason.replace("rows", "row", 1) if count == 1 else reason
            lines.append(f"  skipped {count:,} {said}")
    lines += netted(rep, currency)  # the scored customers' refunds
    lines += left_out(rep.customers_refund_only, rep, currency)
    if rep.margin_note:
        lines.append(f"  note: {rep.margin_note}")
    if rep.as_of_note:
        lines.append(f"  note: {rep.as_of_note}")
    if rep.files_note:
        lines.append(f"  note: {rep.files_note}")
    lines += [f"  note: {n}" for n in rep.notes]
    lines.append(f"  revenue {money(revenue, currency)}, gross margin "
                 f"{money(margin, currency)}{rate}")
    lines.append(retention_line(ret))
    lines.append(f"  value model: {scored.model.describe()}")
    if not scored.model.used:
        lines.append("  one-time buyers' potential value (what earlier one-time buyers went on "
                     "to earn): " + scored.newcomers.describe(lambda v: money(v, currency)))
    from engine.value.formulas import MONEY

    counts = t["value_tier"].value_counts()
    places = 2 if scored.tiers.basis in MONEY or scored.tiers.basis == "value_score" else 6
    tiers = []
    for i, name in enumerate(scored.tiers.names):
        cut = (f" ({scored.tiers.basis} >= {_cut(scored.tier_cuts[i], places)})"
               if i < len(scored.tier_cuts) else "")
        tiers.append(f"{name} {int(counts.get(name, 0)):,}{cut}")
    lines.append("  tiers: " + ", ".join(tiers))
    return "\n".join(lines)


def _cut(value: float, places: int) -> str:
    """A tier's cut as the lowest figure written (to ``places`` decimals) that is in the tier:
    the quantile 1,574.6905 of a money basis is 1,574.70 (at two decimals a customer at
    1,574.69 read as in the tier, which they are not; a re-trial found a cut of 1,532.27000017
    shown 1,532.27 even at six)."""
    from engine.decimals import lowest_at

    return f"{lowest_at(value, places):,.{places}f}"


def retention_line(ret: Any) -> str:
    """The summary's retention: overall and per segment, each rounded half up."""
    seg = ", ".join(f"{s.name} {percent(s.rate)}" + (" (pooled: few customers)" if s.pooled
                                                      else "") for s in ret.segments)
    return (f"  retention per period: {percent(ret.overall)} overall ({ret.retained:,} of "
            f"{ret.active:,} over {ret.pairs} period pairs); {seg}")
