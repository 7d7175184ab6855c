"""``cvm validate``: check every YAML file and template of a project; report every problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from engine.commands.common import project_config
from engine.errors import CvmError, Problem
from engine.history.checks import check_history
from engine.output.folder import check_folder, guard_for, output_target
from engine.policy.validation import validated_rulebook
from engine.project.channels import ChannelSetup, channel_ids, load_channels
from engine.project.config import Config
from engine.project.contact_policies import ContactPolicies, load_contact_policies
from engine.project.files import unread_files
from engine.project.rulebook import Rulebook
from engine.project.tiers import TierSpec, load_tiers
from engine.project.trigger_attributes import trigger_types, trigger_values
from engine.project.triggers import Triggers, check_triggers
from engine.render.briefs import check_templates
from engine.run.pipeline import types_for
from engine.terminal import styled
from engine.workflow.audience import audience_of
from engine.workflow.json_output import validate_json
from engine.workflow.policy_tests import check_test_files


@dataclass(frozen=True)
class Checked:
    """What ``cvm validate`` read: every problem, and each part that could be read (None when
    it could not, or, for the rulebook, when its files have errors)."""

    problems: list[Problem]
    config: Config | None = None
    tiers: TierSpec | None = None
    channels: ChannelSetup | None = None
    rulebook: Rulebook | None = None
    contacts: ContactPolicies | None = None
    triggers: Triggers | None = None


def collect(project: Path | None, config_file: Path | None,
            rules_from: Path | None = None) -> list[Problem]:
    """Every error and warning: cvm.yaml, value tiers, rules, policies, channels, templates,
    and (for the project itself, not a plan's proposed folder) the output folder of cvm.yaml."""
    return check(project, config_file, rules_from).problems


def check(project: Path | None, config_file: Path | None,
          rules_from: Path | None = None) -> Checked:
    """``collect``'s problems with the parts read, so that a caller (``cvm plan``) reads each
    file once."""
    problems: list[Problem] = []

    def attempt(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except CvmError as exc:
            problems.extend(exc.problems)
            return None

    config = attempt(lambda: project_config(project, config_file))
    if config is None:
        return Checked(problems)
    folder = rules_from or config.project
    tiers = attempt(lambda: load_tiers(folder))
    types = types_for(config)
    values = {"value_tier": tiers.names} if tiers is not None else None
    found = len(problems)
    channels = attempt(lambda: load_channels(folder, types))
    campaigns = list(channels.campaigns) if channels is not None else None
    # the rulebook's problems first: the channel stage's follow
    book, found_in_rulebook = validated_rulebook(
        folder, types, values=values, channels=channel_ids(folder, channels),
        campaigns=campaigns, read_defaults=False)
    problems[found:found] = found_in_rulebook
    contacts = None
    if channels is not None:  # policies/contact_policies.yaml names declared ones only
        contacts = attempt(lambda: load_contact_policies(
            folder, [ch.id for ch in channels.channels], campaigns))
    triggers, found_in_triggers = check_triggers(  # triggers/*.yaml (issue 14)
        folder, trigger_types(types, book), trigger_values(book, tiers.names if tiers else None),
        [ch.id for ch in channels.channels] if channels is not None else None)
    problems.extend(found_in_triggers)
    problems.extend(check_templates(folder))

    problems.extend(check_test_files(  # policy_tests/*.yaml (issue 17)
        folder, types, book,
        [ch.id for ch in channels.channels] if channels is not None else (),
        tiers.names if tiers is not None else ()))
    problems.extend(unread_files(folder))  # .yml files and sub-folders of rules/, policies/
    if rules_from is None:  # `cvm run` would refuse it: say so now, at the line of `output:`
        attempt(lambda: check_folder(output_target(config, None), guard_for(config)))
        problems.extend(check_history(config))
    return Checked(problems, config, tiers, channels, book, contacts, triggers)


def report(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    colour = {"error": "red", "warning": "yellow"}  # on a colour terminal only (issue 17)
    lines = [f"{styled(p.severity + ':', colour.get(p.severity, 'red'), err=True)} "
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
    sizes, code = None, 0
    if audience and not errors:
        try:
            sizes = audience_of(project_config(project, config_file))
        except CvmError as exc:  # the data's problems, found while scoring
            if not json_out:
                raise
            problems, errors, code = [*problems, *exc.problems], list(exc.problems), \
                exc.exit_code
    if json_out:  # issue 17: the same findings for a script, in the document
        typer.echo(validate_json(problems, sizes, strict))
        return code or (1 if errors or (strict and problems) else 0)
    # warnings fail a --strict run, so they are then its errors; else --quiet silences them
    text = report(problems if strict or not quiet else errors)
    if text:  # on stderr: stdout holds only the result (and the audience table)
        typer.echo(text, err=True)
    elif not quiet:
        typer.echo("valid: cvm.yaml, rules/, policies/ and templates/ have no problems")
    if sizes is not None and not quiet:
        typer.echo(sizes.format())
    if errors or (strict and problems):
        return 1
    return 0
