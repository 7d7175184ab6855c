"""``cvm validate``: check every YAML file and template of a project; report every problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from engine.commands.common import project_config
from engine.errors import CvmError, Problem
from engine.history.checks import check_history
from engine.output.folder import check_folder, guard_for, output_target
from engine.policy.validation import validate_rulebook
from engine.project.channels import channel_ids, load_channels
from engine.project.contact_policies import load_contact_policies
from engine.project.files import unread_files
from engine.project.rulebook import load_rulebook
from engine.project.tiers import load_tiers
from engine.render.briefs import check_templates
from engine.run.pipeline import types_for
from engine.terminal import styled
from engine.workflow.audience import audience_of
from engine.workflow.json_output import validate_json
from engine.workflow.policy_tests import check_test_files


def collect(project: Path | None, config_file: Path | None,
            rules_from: Path | None = None) -> list[Problem]:
    """Every error and warning: cvm.yaml, value tiers, rules, policies, channels, templates,
    and (for the project itself, not a plan's proposed folder) the output folder of cvm.yaml."""
    problems: list[Problem] = []

    def attempt(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except CvmError as exc:
            problems.extend(exc.problems)
            return None

    config = attempt(lambda: project_config(project, config_file))
    if config is None:
        return problems
    folder = rules_from or config.project
    tiers = attempt(lambda: load_tiers(folder))
    types = types_for(config)
    values = {"value_tier": tiers.names} if tiers is not None else None
    found = len(problems)
    channels = attempt(lambda: load_channels(folder, types))
    campaigns = list(channels.campaigns) if channels is not None else None
    # the rulebook's problems first: the channel stage's follow
    problems[found:found] = validate_rulebook(folder, types, values=values,
                                              channels=channel_ids(folder, channels),
                                              campaigns=campaigns, read_defaults=False)
    if channels is not None:  # policies/contact_policies.yaml names declared ones only
        attempt(lambda: load_contact_policies(folder, [ch.id for ch in channels.channels],
                                              campaigns))
    problems.extend(check_templates(folder))
    problems.extend(check_test_files(  # policy_tests/*.yaml (issue 17)
        folder, types, lambda: load_rulebook(folder, types, values=values),
        [ch.id for ch in channels.channels] if channels is not None else (),
        tiers.names if tiers is not None else ()))
    problems.extend(unread_files(folder))  # .yml files and sub-folders of rules/, policies/
    if rules_from is None:  # `cvm run` would refuse it: say so now, at the line of `output:`
        attempt(lambda: check_folder(output_target(config, None), guard_for(config)))
        problems.extend(check_history(config))
    return problems


def report(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    colour = {"error": "red", "warning": "yellow"}  # on a colour terminal only (issue 17)
    lines = [f"{styled(p.severity + ':', colour.get(p.severity, 'red'), err=bool(errors))} "
             f"{p.format()}" for p in problems]
    warnings = len(problems) - errors
    files = len({p.file for p in problems})
    if problems:
        lines.append(f"{errors} error(s), {warnings} warning(s) in {files} file(s)")
    return "\n".join(lines)


def run(*, project: Path | None, config_file: Path | None, strict: bool, quiet: bool,
        audience: bool = False, json_out: bool = False) -> int:
    problems = collect(project, config_file)
    errors = [p for p in problems if p.severity == "error"]
    sizes = audience_of(project_config(project, config_file)) if audience and not errors else None
    if json_out:  # issue 17: the same findings for a script
        typer.echo(validate_json(problems, sizes))
        return 1 if errors or (strict and problems) else 0
    # warnings fail a --strict run, so they are then its errors; else --quiet silences them
    text = report(problems if strict or not quiet else errors)
    if text:
        typer.echo(text, err=bool(errors))
    elif not quiet:
        typer.echo("valid: cvm.yaml, rules/, policies/ and templates/ have no problems")
    if sizes is not None and not quiet:
        typer.echo(sizes.format())
    if errors or (strict and problems):
        return 1
    return 0
