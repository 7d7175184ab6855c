"""``cvm decide``: the per-customer decision table (stage, action, service level, channels)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from engine.commands.common import last_purchase, project_of, warn_if_ahead
from engine.commands.run_folder import refuse_the_run_s_folder, run_holding, warn_replaced
from engine.output.folder import check_folder, guard_for, output_target
from engine.terminal import shell_path

if TYPE_CHECKING:
    import pandas as pd

FILES = ("decisions.csv",)


def run(*, project: Path | None, config_file: Path | None, out: Path | None,
        quiet: bool) -> int:
    setup = project_of(project, config_file)  # every file is checked before the data is read
    # the scoring's libraries once the project is read (an error in it is said at once)
    from engine.history import with_changes
    from engine.history.checks import check_readable
    from engine.output.commit import writing
    from engine.output.writers import write_csv
    from engine.policy.decisions import decide
    from engine.policy.lifecycle import assign_stages
    from engine.value.score import score

    config = setup.config
    target, guard = output_target(config, out), guard_for(config)
    check_folder(target, guard)
    run_id = run_holding(target.path, "decisions.csv")
    if out is None and run_id is not None:
        refuse_the_run_s_folder(config, target.path, run_id, "decide", FILES, "decisions")
    check_readable(config)  # a history validate refuses is not read (exit 1)
    scored = score(config, tiers=setup.tiers)
    warn_if_ahead(config, scored.as_of, last_purchase(scored.table),
                  scored.report.dated_ahead)
    table = assign_stages(with_changes(config, scored), setup.rulebook)
    decisions = decide(table, setup.rulebook)
    with writing(target, guard, "decide") as stage:
        write_csv(decisions, stage.path(FILES[0]))
    if not quiet:
        typer.echo(f"Decided for {len(decisions):,} customer{'s' * (len(decisions) != 1)} as "
                   f"of {scored.as_of}")
        typer.echo("  stages: " + _mix(table["lifecycle_stage"]))
        typer.echo("  actions: " + _mix(decisions["action"]))
        typer.echo("  service levels: " + _mix(decisions["service_level"]))
        typer.echo(f"wrote {shell_path(target.path / 'decisions.csv')}")
    if run_id is not None:
        warn_replaced(target.path, run_id, "decide", FILES, "these decisions, which the run's "
                      "actions and briefs were not made from")
    return 0


def _mix(values: pd.Series) -> str:
    counts = values.astype(object).fillna("(none)").value_counts()
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
