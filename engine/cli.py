"""The ``cvm`` command: a thin Typer layer over the library. Each command lives in
``engine/commands/`` and returns an exit code; errors become one message, never a traceback.

Exit codes: 0 success; 1 a problem in an input (data, cvm.yaml, rules, policies, templates);
2 a command-line usage error; 3 the output cannot be written; 4 an internal error (a bug);
141 the reader closed the standard output (``cvm ... | head``).
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from engine import __version__, interrupts, memory, notices
from engine.commands.options import (
    AsNoHistoryOpt,
    ConfigOpt,
    EngineOpt,
    JsonOpt,
    OutOpt,
    PartitionsOpt,
    ProjectOpt,
    QuietOpt,
    SchedulerOpt,
    ScratchOpt,
    date_option,
)
from engine.commands.paths import check_kinds
from engine.commands.usage import conventional_usage
from engine.errors import EXIT_INTERNAL, CvmError
from engine.interrupts import EXIT_BROKEN_PIPE, Terminated, on_sigterm, quiet_stdout, stdout_closed
from engine.project.location import config_named
from engine.project.report_settings import MAX_ACTIVE_WINDOW, MIN_ACTIVE_WINDOW
from engine.terminal import error_text

app = conventional_usage(typer.Typer(  # FILE on the usage lines, not Typer 0.29's {file}
    name="cvm", no_args_is_help=True, add_completion=True, rich_markup_mode=None,
    help="CVM Engine: customer value, lifecycle stages, policy decisions, channel allocation.",
    pretty_exceptions_enable=False,
))

F = TypeVar("F", bound=Callable[..., Any])


def handled(fn: F) -> F:
    """Turn CvmError into its message and exit code; anything else is a bug (exit 4)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:  # quiet: the one switch for warnings
            with on_sigterm(), notices.quiet(bool(kwargs.get("quiet"))), \
                    config_named(kwargs.get("config")):
                check_kinds(kwargs, fn.__name__)  # a folder for a file, a file for a folder
                code = fn(*args, **kwargs)
        except CvmError as exc:
            typer.echo(error_text(exc), err=True)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except (KeyboardInterrupt, Terminated) as stop:  # Ctrl-C, SIGTERM
            typer.echo("terminated" if isinstance(stop, Terminated) else "interrupted", err=True)
            raise typer.Exit(143 if isinstance(stop, Terminated) else 130) from None
        except Exception as exc:  # a bug: say so plainly, the traceback only on request
            if isinstance(exc, BrokenPipeError) and stdout_closed():  # cvm ... | head
                quiet_stdout()
                raise typer.Exit(EXIT_BROKEN_PIPE) from None
            if os.environ.get("CVM_DEBUG"):
                traceback.print_exc()
            typer.echo(f"internal error: {type(exc).__name__}: {exc}\n  hint: this is a bug in "
                       "CVM Engine; rerun with CVM_DEBUG=1 for the traceback and report it",
                       err=True)
            raise typer.Exit(EXIT_INTERNAL) from None
        raise typer.Exit(code or 0)

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cvm-engine {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """CVM Engine: customer value, lifecycle stages, policy decisions, channel allocation."""


@app.command()
@handled
def score(project: ProjectOpt = None, config: ConfigOpt = None, out: OutOpt = None,
          quiet: QuietOpt = False, json_out: JsonOpt = False, engine: EngineOpt = "local",
          scheduler: SchedulerOpt = None, partitions: PartitionsOpt = None,
          scratch: ScratchOpt = None) -> int:
    """Build the customer value table (CSV and Parquet) and print a summary."""
    from engine.commands import score as cmd
    from engine.distributed.cluster import check_engine

    check_engine(engine, scheduler=scheduler, partitions=partitions, scratch=scratch)
    return cmd.run(project=project, config_file=config, out=out, quiet=quiet,
                   json_out=json_out, engine=engine, scheduler=scheduler,
                   partitions=partitions, scratch=scratch)


@app.command()
@handled
def validate(project: ProjectOpt = None, config: ConfigOpt = None,
             strict: Annotated[bool, typer.Option(
                 "--strict", help="Fail (exit 1) on warnings too.")] = False,
             quiet: QuietOpt = False, json_out: JsonOpt = False,
             audience: Annotated[bool, typer.Option(
                 "--audience", help="Also score today's customers and print how many each "
                 "lifecycle rule, segment and policy matches and wins (writes nothing).")
             ] = False) -> int:
    """Check cvm.yaml, rules/, policies/, templates/ and policy_tests/; report every problem
    with its line."""
    from engine.commands import validate as cmd

    return cmd.run(project=project, config_file=config, strict=strict, quiet=quiet,
                   audience=audience, json_out=json_out)


@app.command()
@handled
def init(folder: Annotated[Path, typer.Argument(
             help="The new project's folder (created if missing). Default: the current one.",
)] = Path("."),
         source: Annotated[Path | None, typer.Option(
             "--from", help="A transactions file (CSV or Parquet): guess its delimiter, "
             "encoding, date format and column mapping for cvm.yaml.")] = None,
         contracts: Annotated[bool | None, typer.Option(
             "--contracts/--transactions", help="Read --from as contracts (one row per "
             "contract) or as transactions. Default: guessed.")] = None,
         quiet: QuietOpt = False) -> int:
    """Scaffold a project: cvm.yaml, starter rules, policies, templates and policy tests."""
    from engine.commands import init as cmd

    return cmd.run(folder=folder, source=source, quiet=quiet, contracts=contracts)


@app.command(name="test")
@handled
def test_cmd(files: Annotated[list[Path] | None, typer.Argument(
                 help="Test files to run. Default: every policy_tests/*.yaml of the project."
                 )] = None,
             project: ProjectOpt = None, config: ConfigOpt = None,
             quiet: QuietOpt = False) -> int:
    """Run the project's policy tests: customers and what the engine must decide for them."""
    from engine.commands import test as cmd

    return cmd.run(project=project, config_file=config, files=files, quiet=quiet)


@app.command()
@handled
def decide(project: ProjectOpt = None, config: ConfigOpt = None, out: OutOpt = None,
           quiet: QuietOpt = False) -> int:
    """Write the per-customer decision table (stage, action, service level, channels)."""
    from engine.commands import decide as cmd

    return cmd.run(project=project, config_file=config, out=out, quiet=quiet)


@app.command()
@handled
def explain(customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
            project: ProjectOpt = None, config: ConfigOpt = None,
            json_out: JsonOpt = False, no_history: AsNoHistoryOpt = False) -> int:
    """Explain one customer as cvm run decides now: value breakdown, stage and rule, every
    policy, the winner."""
    from engine.commands import explain as cmd

    return cmd.run(project=project, config_file=config, customer_id=customer_id,
                   json_out=json_out, history=not no_history)


@app.command(name="run")
@handled
def run_cmd(project: ProjectOpt = None, config: ConfigOpt = None, out: OutOpt = None,
            fmt: Annotated[str, typer.Option(
                "--format", "-f", help="Action list format: csv, jsonl or parquet.")] = "csv",
            no_history: Annotated[bool, typer.Option(
                "--no-history", help="Neither read nor record the history: value-change "
                "attributes take their first-run values, every campaign uses its declared "
                "response rates, and no contact policy or opt-out applies (they count what the "
                "history recorded).")
            ] = False,
            quiet: QuietOpt = False, engine: EngineOpt = "local",
            scheduler: SchedulerOpt = None, partitions: PartitionsOpt = None,
            scratch: ScratchOpt = None) -> int:
    """The main job: score, stage, decide, allocate, render briefs; write the run folder."""
    from engine.commands import run as cmd
    from engine.distributed.cluster import check_engine
    from engine.run.formats import check_format

    check_format(fmt, key="--format")
    check_engine(engine, scheduler=scheduler, partitions=partitions, scratch=scratch)
    return cmd.run(project=project, config_file=config, out=out, fmt=fmt, quiet=quiet,
                   history=not no_history, engine=engine, scheduler=scheduler,
                   partitions=partitions, scratch=scratch)


@app.command()
@handled
def plan(
    project: ProjectOpt = None, config: ConfigOpt = None,
    proposed: Annotated[Path | None, typer.Option(
        "--proposed", help="A folder laid out like the project: with cvm.yaml, the complete "
        "project; else each of rules/, policies/, templates/ it holds replaces the baseline's "
        "whole (a file it lacks is deleted).")] = None,
    overlay: Annotated[bool, typer.Option(
        "--overlay", help="Lay the --proposed folder's files over the baseline's one by one "
        "(for a folder holding only the files that change).")] = False,
    proposed_ref: Annotated[str | None, typer.Option(
        "--proposed-ref", help="A git revision of the project (main~1, a branch, a tag).")
    ] = None,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="Compare against this folder instead of the current project.")
    ] = None,
    baseline_ref: Annotated[str | None, typer.Option(
        "--baseline-ref", help="Compare against this git revision of the project.")] = None,
    report_file: Annotated[Path | None, typer.Option(
        "--report", help="Also write the plan as a Markdown (.md) or HTML (.html) file.")
    ] = None,
    changes_file: Annotated[Path | None, typer.Option(
        "--changes", help="Also write one row per changed customer (CSV).")] = None,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode", help="Exit 0 when nothing changes, 2 when something does, "
        "1 on errors.")] = False,
    quiet: QuietOpt = False, json_out: JsonOpt = False, engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None, partitions: PartitionsOpt = None,
    scratch: ScratchOpt = None, no_history: AsNoHistoryOpt = False,
) -> int:
    """Dry-run a change: compare the proposed settings, rules, policies and templates with the
    current ones."""
    from engine.commands import plan as cmd
    from engine.distributed.cluster import check_engine

    check_engine(engine, scheduler=scheduler, partitions=partitions, scratch=scratch)
    return cmd.run(project=project, config_file=config, proposed=proposed,
                   proposed_ref=proposed_ref, baseline=baseline, baseline_ref=baseline_ref,
                   report_file=report_file, changes_file=changes_file,
                   detailed_exitcode=detailed_exitcode, quiet=quiet, overlay=overlay,
                   json_out=json_out, engine=engine, scheduler=scheduler,
                   partitions=partitions, scratch=scratch, history=not no_history)


@app.command()
@handled
def report(project: ProjectOpt = None, config: ConfigOpt = None, out: OutOpt = None,
           spend: Annotated[Path | None, typer.Option(
               "--spend", help="Marketing-spend file (CSV month,acquisition_cost,retention_cost "
               "or YAML). Default: report.spend in cvm.yaml, else marketing_spend.csv/.yaml in "
               "the project folder or beside the transactions; none means zero cost.")
           ] = None,
           active_window: Annotated[int | None, typer.Option(
               "--active-window", min=MIN_ACTIVE_WINDOW, max=MAX_ACTIVE_WINDOW,
               help="Days without a purchase after which a customer "
               "no longer counts as active. Default: 2 x period_days. Not used with "
               "subscriptions (a customer is active while a contract of theirs runs).")] = None,
           quiet: QuietOpt = False) -> int:
    """Customer equity and KPI report: one self-contained HTML file, charts, monthly CSV."""
    from engine.commands import report as cmd

    return cmd.run(project=project, config_file=config, out=out, spend=spend, quiet=quiet,
                   active_window=active_window)


@app.command()
@handled
def fit(project: ProjectOpt = None, config: ConfigOpt = None, out: OutOpt = None,
        calibration_end: Annotated[str | None, typer.Option(
            "--calibration-end", help="Last day of the calibration period (YYYY-MM-DD). "
            "Default: models.holdout_days (default the horizon) before the data's end (the "
            "as-of date, or the export's last day if earlier), at most half the data.")] = None,
        quiet: QuietOpt = False, json_out: JsonOpt = False) -> int:
    """Fit MBG/NBD, BG/NBD, Pareto/NBD, Gamma-Gamma (sBG with subscriptions); check a holdout."""
    from engine.commands import fit as cmd

    return cmd.run(project=project, config_file=config, out=out, quiet=quiet,
                   calibration_end=date_option(calibration_end, "--calibration-end"),
                   json_out=json_out)


app.add_typer(responses_app := typer.Typer(
    name="responses", no_args_is_help=True, rich_markup_mode=None,
    help="Campaign responses: import them into the history."))


@responses_app.command(name="import")
@handled
def responses_import(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet: customer_id, campaign, date, "
                                         "outcome and (optional) revenue.")],
    project: ProjectOpt = None, config: ConfigOpt = None, quiet: QuietOpt = False) -> int:
    """Import responses into the history (a response already there is not added again)."""
    from engine.commands import responses as cmd

    return cmd.run_import(project=project, config_file=config, file=file, quiet=quiet)


@app.command()
@handled
def events(file: Annotated[Path, typer.Argument(help="Events: CSV or JSON Lines.")],
           project: ProjectOpt = None, config: ConfigOpt = None, out: OutOpt = None,
           json_out: JsonOpt = False, quiet: QuietOpt = False) -> int:
    """Replay events against the triggers of triggers/ and print what fired."""
    from engine.commands import events as cmd

    return cmd.run(project=project, config_file=config, file=file, out=out, json_out=json_out,
                   quiet=quiet)


@app.command()
@handled
def measure(project: ProjectOpt = None, config: ConfigOpt = None, out: OutOpt = None,
            quiet: QuietOpt = False) -> int:
    """Measure each campaign of each recorded run against its holdout (measure.csv)."""
    from engine.commands import measure as cmd

    return cmd.run(project=project, config_file=config, out=out, quiet=quiet)


@app.command()
@handled
def history(
    customer_id: Annotated[str | None, typer.Argument(
        help="One customer's timeline; without it, the runs recorded.")] = None,
    project: ProjectOpt = None, config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    forget: Annotated[list[int] | None, typer.Option(
        "--forget", metavar="RUN", help="Take run RUN (its number in the run list) out of "
        "the history, as if it had been made with --no-history.")] = None,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="With --forget: do not ask (needed without a terminal).")] = False,
) -> int:
    """The runs recorded in the history, or one customer's timeline; --forget RUN takes a
    run out of it."""
    from engine.commands import history as cmd

    return cmd.run(project=project, config_file=config, customer_id=customer_id,
                   as_json=as_json, forget=forget, yes=yes)


@app.command()
@handled
def serve(
    folder: Annotated[Path | None, typer.Argument(
        help="The project folder (default: as --project).",
        show_default=False)] = None,
    project: ProjectOpt = None, config: ConfigOpt = None,
    run: Annotated[Path | None, typer.Option(
        "--run", help="The run folder to serve. Default: `output` in cvm.yaml.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    key_file: Annotated[Path | None, typer.Option(
        "--key-file", help="A file holding the clients' key (default: CVM_SERVE_KEY).")
    ] = None,
    no_history: Annotated[bool, typer.Option(
        "--no-history", help="Record nothing in the history.")] = False,
    watch: Annotated[float, typer.Option(
        help="Seconds between looks at the run's manifest.json (a new run is loaded); "
        "0: only on POST /v1/admin/reload.", min=0)] = 2.0,
    no_docs: Annotated[bool, typer.Option(
        "--no-docs", help="Do not serve the OpenAPI documentation (/docs, /openapi.json).")
    ] = False,
    quiet: QuietOpt = False) -> int:
    """Serve next best actions, profiles, events and outcomes over HTTP (FastAPI)."""
    from engine.commands import serve as cmd

    return cmd.run(folder=folder, project=project, config_file=config, run_folder=run,
                   host=host, port=port, key_file=key_file, history=not no_history,
                   watch_seconds=watch, quiet=quiet, docs=not no_docs)


def main() -> None:
    interrupts.as_program()  # a stop once the command has ended is not a failed command
    if memory.applies_to(sys.argv[1:]):  # a batch command: freed memory reused, not refaulted
        memory.keep_freed_memory()
    # Typer prints usage errors itself (exit 2); everything else goes through ``handled``.
    app(prog_name="cvm")


if __name__ == "__main__":  # pragma: no cover
    main()
