"""``cvm validate``: check every YAML file and template of a project; report every problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from engine.briefs import check_templates
from engine.channels import load_channels
from engine.commands.common import project_config
from engine.errors import CvmError, Problem
from engine.output_folder import check_folder, guard_for, output_target
from engine.pipeline import types_for
from engine.rulebook import validate_rulebook
from engine.tiers import load_tiers


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
                                              campaigns=campaigns)
    problems.extend(check_templates(folder))
    if rules_from is None:  # `cvm run` would refuse it: say so now, at the line of `output:`
        attempt(lambda: check_folder(output_target(config, None), guard_for(config)))
    return problems


def report(problems: list[Problem]) -> str:
    lines = [f"{p.severity}: {p.format()}" for p in problems]
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    files = len({p.file for p in problems})
    if problems:
        lines.append(f"{errors} error(s), {warnings} warning(s) in {files} file(s)")
    return "\n".join(lines)


def run(*, project: Path | None, config_file: Path | None, strict: bool, quiet: bool) -> int:
    problems = collect(project, config_file)
    errors = [p for p in problems if p.severity == "error"]
    # warnings fail a --strict run, so they are then its errors; else --quiet silences them
    text = report(problems if strict or not quiet else errors)
    if text:
        typer.echo(text, err=bool(errors))
    elif not quiet:
        typer.echo("valid: cvm.yaml, rules/, policies/ and templates/ have no problems")
    if errors or (strict and problems):
        return 1
    return 0
