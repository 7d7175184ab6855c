"""``cvm validate``: check every YAML file and template of a project; report every problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from engine.commands.common import ahead_of_today, long_after_data
from engine.data.object_store import stores_checked
from engine.data.preflight import check_files
from engine.errors import CvmError, Problem, in_file_order, printable
from engine.history.checks import check_history
from engine.output.folder import check_folder, guard_for, output_target
from engine.project.config import Config
from engine.project.database_source import DatabaseSource
from engine.project.location import project_folder
from engine.run.build import Built, build
from engine.terminal import problem_lines


def collect(project: Path | None, config_file: Path | None,
            rules_from: Path | None = None) -> list[Problem]:
    """Every error and warning: cvm.yaml, value tiers, rules, policies, channels, templates,
    and (for the project itself, not a plan's proposed folder) the output folder of cvm.yaml."""
    return check(project, config_file, rules_from).problems


def check(project: Path | None, config_file: Path | None,
          rules_from: Path | None = None) -> Built:
    """What the one builder (``engine.run.build``) found, with the rulebook's warnings, and,
    for the project itself, what ``cvm run`` would refuse about where it writes: so that a
    project that validates builds and runs. The project built comes with it (``cvm plan``
    runs it: each file read once)."""
    built = build(project, config_file, rules_from=rules_from, lint=True)
    config = built.config
    if config is None or rules_from is not None:
        return built
    # `cvm run` would refuse it: say so now, at the line of `output:`
    try:
        check_folder(output_target(config, None), guard_for(config))
    except CvmError as exc:
        built.problems.extend(exc.problems)
    built.problems.extend(check_history(config, deep=True))
    if config.as_of is not None and (ahead := ahead_of_today(config, config.as_of)):
        built.problems.append(ahead)  # the transactions' own dates: when a command reads them
    source: list[Problem] = []
    if isinstance(config.data.transactions, DatabaseSource):  # it answers (drivers: now)
        from engine.data.database import check_source

        source = check_source(config)
        built.problems.extend(source)
    stores, reached = stores_checked(config)  # reached, holding data: their headers read
    built.problems.extend(stores)
    files = check_files(config, stores=reached)
    built.problems.extend(files)
    from engine.value.first_rows import check_first_rows  # (pyarrow: once the files are there)

    first = check_first_rows(config, skip={p.file for p in files if p.file},
                             skip_database=bool(source))
    built.problems.extend(first)
    if not any(p.severity == "error" for p in (*source, *stores, *files)):
        from engine.value.every_row import check_every_row  # what run checks over every row

        every, as_of, dated = check_every_row(config)
        if config.as_of is None and as_of is not None and (
                ahead := ahead_of_today(config, as_of, dated)):
            built.problems.append(ahead)  # said first: it may be why a check below fails
        # a column's first problem in the first rows is its first over every row too: said
        # once, as run says it (how many rows have it counted over every row)
        over_all = {(p.file, p.line, p.key): p for p in every}
        built.problems[:] = [over_all.pop((p.file, p.line, p.key), p) if p in first else p
                             for p in built.problems]
        built.problems.extend(over_all.values())
    return built


def report(problems: list[Problem], *, summary: bool = True) -> str:
    """The problems as every command prints them, then (``summary``) their count."""
    problems = in_file_order(problems)
    errors = sum(p.severity == "error" for p in problems)
    lines = problem_lines(problems)  # as every command prints its errors
    warnings = len(problems) - errors
    files = len({p.file for p in problems})
    if problems and summary:
        lines.append(f"{errors} error(s), {warnings} warning(s) in {files} file(s)")
    return "\n".join(lines)


def _data_checked(config: Config) -> str:
    """How far a clean validation read the data (a new user took "valid" for "run works")."""
    from engine.value.first_rows import FIRST_ROWS

    source = config.data.transactions
    every = (f"the columns, the first {FIRST_ROWS:,} rows and every row's customer id, date "
             "and numbers")
    if isinstance(source, DatabaseSource):
        read = f"{every} of the table or query checked"
    elif isinstance(source, Path):
        read = f"{every} of each file checked"
    else:  # on object storage: the headers only
        return "  data: the columns of each file checked; the other rows are checked by cvm " \
            "run, or now by cvm validate --audience"
    return f"  data: {read}; the other values are checked by cvm run, or now by cvm validate " \
        "--audience"


def _checked(built: Built) -> str:
    """What a clean validation covered: the project's parts, triggers and policy tests when
    it has them ("cvm.yaml, rules/, policies/, templates/, triggers/ and policy_tests/"); the
    configuration file as given (``-c``), relative to the project when inside it."""
    config = built.config
    parts = [config.display(config.file) if config is not None else "cvm.yaml", "rules/",
             "policies/", "templates/"]
    if built.project is not None and built.project.triggers.files:
        parts.append("triggers/")
    if built.project is not None and built.project.tests.tests:
        parts.append("policy_tests/")
    return _listed(parts)


def not_checked(built: Built, project: Path | None, config_file: Path | None) -> list[str]:
    """The project's folders left unread because its cvm.yaml (or -c file) has errors: the
    attributes, consents and channels they may name are declared there."""
    if built.config is not None:
        return []
    try:
        folder = project_folder(project, config_file)
    except CvmError:
        return []
    if not (config_file or folder / "cvm.yaml").is_file():
        return []  # no configuration to read: the error says so
    return [f"{name}/" for name in ("rules", "policies", "templates", "triggers", "policy_tests")
            if (folder / name).is_dir()]


def channels_unchecked(built: Built) -> tuple[str, list[str]] | None:
    """What is not checked while the channels cannot be read (a marketer fixed one file's
    errors, validated, and met the next's), and the file that must read first: the channels
    the policies name, when channels.yaml itself is broken, and those the contact policies
    name."""
    from engine.project.channels import CAMPAIGNS_FILE, CHANNELS_FILE, channel_ids
    from engine.project.contact_policies import CONTACT_POLICIES_FILE

    if built.config is None or built.channels is not None or not any(
            p.severity == "error" and p.file in (str(CHANNELS_FILE), str(CAMPAIGNS_FILE))
            for p in built.problems):
        return None
    own = channel_ids(built.config.project, None) is None
    names = [*(["the policies"] if own else []), *(["the contact policies"] if (
        built.config.project / CONTACT_POLICIES_FILE).is_file() else [])]
    broken = CHANNELS_FILE if own or any(p.severity == "error" and p.file == str(CHANNELS_FILE)
                                         for p in built.problems) else CAMPAIGNS_FILE
    return (str(broken), [f"the channels {' and '.join(names)} name"]) if names else None


# what the rulebook's warnings and the checks built on it cover (engine.run.build, lint)
RULEBOOK_CHECKS = ["the rules' and policies' conditions (compiled, never matching, shadowed, "
                   "out of range)", "the campaigns they name", "the templates rendered"]


def rulebook_unchecked(built: Built) -> tuple[str, list[str]] | None:
    """What is not checked while the rules and policies have errors (the rulebook does not
    load: a marketer fixed one error, validated, and met warnings and errors unsaid before),
    and the file that must read first: the first with an error."""
    from engine.project.channels import CAMPAIGNS_FILE, CHANNELS_FILE
    from engine.project.contact_policies import CONTACT_POLICIES_FILE
    from engine.project.tiers import TIERS_FILE

    if built.config is None or built.rulebook is not None:
        return None
    others = {str(f) for f in (CAMPAIGNS_FILE, CHANNELS_FILE, CONTACT_POLICIES_FILE,
                               TIERS_FILE)}
    broken = next((p.file for p in built.problems if p.severity == "error" and p.file
                   and p.file.startswith(("rules/", "policies/")) and p.file not in others),
                  None)
    return (broken, RULEBOOK_CHECKS) if broken is not None else None


def _listed(parts: list[str]) -> str:
    """'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def run(*, project: Path | None, config_file: Path | None, strict: bool, quiet: bool,
        audience: bool = False, json_out: bool = False) -> int:
    built = check(project, config_file)
    problems = built.problems
    errors = [p for p in problems if p.severity == "error"]
    sizes, code = None, 0
    if audience and not errors and built.project is not None:
        from engine.workflow.audience import audience as audience_sizes  # the scoring's
        from engine.workflow.audience import unreached_rules

        try:
            sizes = audience_sizes(built.project)
            # the as-of date as the scoring commands say it (after today: said above for
            # as_of: in cvm.yaml, here for the default date the rows give)
            config, as_of = built.project.config, dt.date.fromisoformat(sizes.as_of)
            late = [p for p in (
                ahead_of_today(config, as_of, sizes.dated_ahead) if config.as_of is None
                else None,
                None if sizes.last_purchase is None else long_after_data(
                    config, as_of, sizes.last_purchase)) if p is not None and p not in problems]
            problems = [*problems, *late, *unreached_rules(built.project.rulebook, sizes),
                        *sizes.warnings, *sizes.errors]  # the date first: it may be why
            errors = [*errors, *sizes.errors]  # rules give none; then what run stops at
        except CvmError as exc:  # the data's problems, found while scoring
            if not json_out:
                raise
            problems, errors, code = [*problems, *(p for p in exc.problems if p not in problems)], \
                [p for p in exc.problems if p.severity == "error"], exc.exit_code
    if json_out:  # issue 17: the same findings for a script, in the document
        from engine.workflow.json_output import validate_json

        unread = not_checked(built, project, config_file)
        parts = [part for part in (channels_unchecked(built), rulebook_unchecked(built))
                 if part is not None]
        until, unread = (errors[0].file, unread) if unread else (
            parts[0][0], [item for part in parts for item in part[1]]) if parts \
            else (None, [])
        typer.echo(validate_json(in_file_order(problems), sizes, strict, unread, until))
        return code or (1 if errors or (strict and problems) else 0)
    # warnings fail a --strict run, so they are then its errors; else --quiet silences them
    # (--quiet: the problems only, as README says, no count and no "not checked" line)
    text = report(problems if strict or not quiet else errors, summary=not quiet)
    if text:  # on stderr: stdout holds only the result (and the audience table)
        typer.echo(text, err=True)
        if not quiet and (unread := not_checked(built, project, config_file)):
            typer.echo(f"not checked until {printable(str(errors[0].file), lines=False)} reads: "
                       f"{_listed(unread)} (what "
                       "they may name is declared there)", err=True)
        elif not quiet:
            for part in (channels_unchecked(built), rulebook_unchecked(built)):
                if part is not None:  # a file's name as the problems show it (escaped)
                    typer.echo(f"not checked until {printable(part[0], lines=False)} reads: "
                               f"{_listed(part[1])}", err=True)
    elif not quiet:
        typer.echo(f"valid: {_checked(built)} have no problems")
        if sizes is None and built.config is not None:
            typer.echo(_data_checked(built.config))
    if sizes is not None and not quiet:
        typer.echo(sizes.format())
    if errors or (strict and problems):
        return 1
    return 0
