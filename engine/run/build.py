"""The one builder of a ``Project``: every file a project declares, read once and checked, with
every problem of every file collected together.

``build`` is what ``cvm validate`` reports and what every other command loads
(``load_project``: the same call, raising the errors it collected), so that a project that
validates builds. It reads, in this order (the order problems are reported in): cvm.yaml, the
value tiers, the rulebook (lifecycle, segments, policies), the channels and campaigns, the
contact policies, the triggers, templates/ (compiled in the render stage's sandbox), the policy
tests, and the files rules/ and policies/ hold that are not read.

It lives in ``engine.run`` (not ``engine.project``) because checking a project goes beyond its
files' shapes: the templates are compiled by ``engine.render`` and, for ``cvm validate``, the
conditions by durable-rules (``engine.policy.validation``).

A command reads what it uses (``SCOPES``): ``cvm score`` and ``cvm fit`` the value settings
only, so that a project of cvm.yaml and its value tiers can be scored; a part a scope does not
read is left empty in the ``Project``.

A new kind of project file joins here: one reading step in ``build`` (its problems appended
in its place) and one field of ``engine.project.project.Project``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from engine.errors import CvmError, InputError, Problem, errors_only
from engine.project.channel_warnings import low_campaign_budgets, unrequired_consents
from engine.project.channels import (
    STAKE_HINT,
    Campaign,
    ChannelSetup,
    channel_ids,
    load_channels,
    stakes_without_model,
)
from engine.project.conditions import attributes
from engine.project.config import Config, load_config
from engine.project.contact_policies import NONE, ContactPolicies, load_contact_policies
from engine.project.files import unread_files
from engine.project.location import config_shown, project_folder
from engine.project.policy_tests import NO_TESTS, read_policy_tests, unread_test_folders
from engine.project.project import Project
from engine.project.rulebook import Rulebook, check_rulebook
from engine.project.schema import MODEL_COLUMNS, attribute_types
from engine.project.templates import NO_TEMPLATES, read_templates
from engine.project.tiers import TierSpec, load_tiers
from engine.project.trigger_attributes import trigger_types, trigger_values
from engine.project.triggers import NONE as NO_TRIGGERS
from engine.project.triggers import Triggers, check_triggers

T = TypeVar("T")

LIFECYCLE_RULES = Path("rules") / "lifecycle.yaml"
# what each scope reads besides cvm.yaml
SCOPES: dict[str, tuple[str, ...]] = {
    "config": (),  # cvm history, cvm responses: the history's settings only
    "value": ("tiers",),  # cvm score, cvm fit
    # cvm report: the stages when the project has lifecycle rules; the channels when it can
    # (the measured campaigns need them: their problems are ``Project.deferred`` until then)
    "report": ("tiers", "rulebook?", "channels?", "templates?"),
    # cvm responses import: the campaigns policies, campaigns.yaml and triggers name, as far as
    # they can be read (their problems are cvm validate's to report)
    "campaigns": ("tiers", "rulebook?", "channels?", "triggers?"),
    "full": ("tiers", "rulebook", "channels", "contacts", "triggers", "templates", "tests"),
}
# the parts a scope does not read: empty
EMPTY_TIERS = TierSpec("", "", "", ())
EMPTY_RULEBOOK = Rulebook((), (), (), ())
NO_CHANNELS = ChannelSetup((), 0.0, "", Campaign("", "", None, 0.0, "", "", ()), {}, ())


@dataclass(frozen=True)
class Built:
    """What ``build`` read: every problem (errors and warnings, in the order ``cvm validate``
    reports them), the project (None when there are errors) and each part that could be read
    (None when it could not; the rulebook also when its files have errors)."""

    problems: list[Problem]
    project: Project | None = None
    config: Config | None = None
    tiers: TierSpec | None = None
    channels: ChannelSetup | None = None
    rulebook: Rulebook | None = None
    contacts: ContactPolicies | None = None
    triggers: Triggers | None = None
    tests: frozenset[int] = frozenset()  # ids of the policy tests' problems

    @property
    def errors(self) -> list[Problem]:
        return errors_only(self.problems)

    @property
    def blocking(self) -> list[Problem]:
        """The errors that stop a command: all but the policy tests' (``cvm test`` reports
        those; nothing else needs the tests)."""
        own = self.tests
        return [p for p in self.errors if id(p) not in own]


def load_project(folder: Path | None, config_file: Path | None = None, *,
                 scope: str = "full", test_files: list[Path] | None = None) -> Project:
    """``build``, raising InputError with every error it found (warnings are for ``cvm
    validate``)."""
    built = build(folder, config_file, scope=scope, test_files=test_files)
    if built.blocking or built.project is None:
        raise InputError(built.blocking or [Problem("the project could not be read")])
    return built.project


def load_setup(config: Config) -> Project:
    """The project whose cvm.yaml ``config`` is (read again: for scripts and tests that hold a
    ``Config``; the commands build their project once, with ``load_project``)."""
    return load_project(config.project, config.file)


def build(folder: Path | None, config_file: Path | None, *, scope: str = "full",
          rules_from: Path | None = None, lint: bool = False,
          test_files: list[Path] | None = None) -> Built:
    """Read and check the project (see the module docstring). ``rules_from``: read rules/,
    policies/ and templates/ from there (a side of ``cvm plan``); ``lint``: also compile
    every condition for durable-rules and add the rulebook's warnings (``cvm validate``);
    ``test_files``: the policy tests to read instead of policy_tests/*.yaml (``cvm test
    FILE``)."""
    problems: list[Problem] = []
    parts = SCOPES[scope]

    def attempt(fn: Callable[[], T], into: list[Problem] = problems) -> T | None:
        try:
            return fn()
        except CvmError as exc:
            into.extend(exc.problems)
            return None

    config = attempt(lambda: load_config(project_folder(folder, config_file),
                                         config_file=config_file))
    if config is None:
        return Built(problems)
    where = rules_from or config.project
    types = attribute_types(consents=config.data.consents, extra=config.data.attributes,
                            subscriptions=config.subscriptions is not None)
    tiers = attempt(lambda: load_tiers(where)) if "tiers" in parts else None
    found = len(problems)  # the rulebook's problems go here, before the channels'
    deferred: list[Problem] = []
    channels = None
    if "channels" in parts:
        channels = attempt(lambda: load_channels(where, types))
    elif "channels?" in parts:
        channels = attempt(lambda: load_channels(where, types), deferred)
    campaigns = list(channels.campaigns) if channels is not None else None
    book: Rulebook | None = None
    if "rulebook" in parts or ("rulebook?" in parts and (where / LIFECYCLE_RULES).is_file()):
        # read after the channels, for the channel ids the policies may name
        book, problems[found:found] = _rulebook(where, types, tiers, channels, campaigns,
                                                lint=lint)
    contacts: ContactPolicies | None = None
    if "contacts" in parts:  # names declared channels only (unchecked when they failed)
        contacts = attempt(lambda: load_contact_policies(
            where, None if channels is None else [ch.id for ch in channels.channels],
            campaigns))
        if lint and contacts is not None:
            problems.extend(contacts.warnings)
    triggers: Triggers | None = None
    if "triggers" in parts or "triggers?" in parts:  # triggers/*.yaml (issue 14): customer
        triggers, found_in_triggers = check_triggers(  # attributes as policies see them
            where, trigger_types(types, book),
            trigger_values(book, tiers.names if tiers is not None else None),
            [ch.id for ch in channels.channels] if channels is not None else None)
        (problems if "triggers" in parts else deferred).extend(found_in_triggers)
    if channels is not None and book is not None and config.models.use == "none":
        # the campaigns a policy or trigger names, valued by a model column the run has not
        (problems if "channels" in parts else deferred).extend(stakes_without_model(
            channels, f"models.use is none in {config_shown()}", STAKE_HINT,
            sorted({p.campaign for p in book.policies if p.campaign} | (
                {t.campaign for t in triggers.triggers if t.campaign}
                if triggers is not None else set()))))
    if lint and book is not None:  # conditions that hold for no one or for everyone
        from engine.policy.attribute_warnings import out_of_range, unfitted_model_reads

        tested = [(t, t.customer) for t in triggers.triggers] if triggers else []
        if config.models.use == "none":
            problems.extend(unfitted_model_reads(
                book, tested, [col.name for col in MODEL_COLUMNS],
                f"models.use is none in {config_shown()}"))
        problems.extend(out_of_range(book, tested))
    if lint and channels is not None and book is not None:  # a campaign nothing names
        named = {p.campaign for p in book.policies} | (
            {t.campaign for t in triggers.triggers} if triggers is not None else set())
        problems.extend(w for cid, w in channels.unnamed.items() if cid not in named)
        problems.extend(channels.low_budgets)
        used: dict[str, set[str]] = {}
        for pol in book.policies:  # (disabled ones too: validate checks what may run)
            used.setdefault(pol.campaign or pol.id, set()).update(pol.channels)
        problems.extend(low_campaign_budgets(channels, used))
        if config is not None:
            problems.extend(unrequired_consents(config.data.consents, channels,
                                                _tested(book, triggers),
                                                lambda key: config.problem(key, "")))
    templates = NO_TEMPLATES
    if "templates" in parts or "templates?" in parts:
        templates = read_templates(where)
    if "templates" in parts:  # compiled now; the report's own is compiled when rendered
        from engine.render.briefs import check_rendering, check_templates  # Jinja2: here

        compiled = check_templates(templates)
        problems.extend(compiled)
        if lint and not compiled and book is not None and channels is not None and \
                config is not None:  # cvm validate: what no data can render
            problems.extend(check_rendering(
                templates, book, channels, tiers.names if tiers is not None else (),
                currency=config.currency, project=config.name))
    tests = NO_TESTS
    if "tests" in parts:
        tests = read_policy_tests(
            where, types, book, [ch.id for ch in channels.channels] if channels else (),
            tiers.names if tiers is not None else (), test_files)
        problems.extend(tests.problems)
        if test_files is None:  # sub-folders of policy_tests/: said, never silently dropped
            problems.extend(unread_test_folders(where))
    if "rulebook" in parts:
        problems.extend(unread_files(where))  # .yml files and sub-folders of rules/, policies/
    if folder is None and config_file is not None and rules_from is None:
        problems[:] = _config_elsewhere(problems, config.project, config_file)
    project = None
    own = frozenset(id(p) for p in tests.problems)  # a run does not need the tests
    if not any(p.severity == "error" and id(p) not in own for p in problems):
        project = Project(config, tiers or EMPTY_TIERS, book or EMPTY_RULEBOOK,
                          channels or NO_CHANNELS, contacts or NONE, templates, tests, scope,
                          tuple(deferred), triggers or NO_TRIGGERS)
    return Built(problems, project, config, tiers, channels, book, contacts, triggers, own)


def _config_elsewhere(problems: list[Problem], project: Path, config_file: Path
                      ) -> list[Problem]:
    """``--config conf/prod.yaml`` without ``--project``: the project is conf/, so rules/,
    policies/ and templates/ are looked for there. When they are missing there and the
    working directory holds them, the first such problem's hint says so (a new user read
    "rules/value_tiers.yaml: file not found" beside their own rules/)."""
    here = Path.cwd()
    parts = [d for d in ("rules", "policies", "templates")
             if not (project / d).is_dir() and (here / d).is_dir()]
    if not parts or project.resolve() == here.resolve():
        return problems
    first = next((i for i, p in enumerate(problems) if p.severity == "error" and p.file and
                  p.file.split("/")[0] in parts), None)
    if first is None:
        return problems
    folders = ", ".join(f"{d}/" for d in parts)
    hint = (f"without --project the project folder is that of --config {config_file}, "
            f"{config_file.parent}/, where {folders} are not; those here are read with "
            f"--project . (its data paths then relative to . too)")
    return [*problems[:first], dataclasses.replace(problems[first], hint=hint),
            *problems[first + 1:]]


def _tested(book: Rulebook, triggers: Triggers | None) -> set[str]:
    """The customer attributes the lifecycle rules, segments, policies and triggers read."""
    conds = [r.when for r in book.stage_rules] + [s.when for s in book.segments] + [
        p.when for p in book.policies] + ([t.customer for t in triggers.triggers]
                                          if triggers is not None else [])
    return {name for cond in conds for name in attributes(cond)}


def _rulebook(where: Path, types: dict[str, str], tiers: TierSpec | None,
              channels: ChannelSetup | None, campaigns: list[str] | None, *, lint: bool
              ) -> tuple[Rulebook | None, list[Problem]]:
    values = {"value_tier": tiers.names} if tiers is not None else None
    book, problems = check_rulebook(where, types, values, channel_ids(where, channels),
                                    read_defaults=False)
    if book is None or errors_only(problems):
        return None, problems
    if lint:  # what durable-rules would refuse, at the condition's line; then the warnings
        from engine.policy.validation import compile_rulebook  # durable-rules, pandas
        from engine.policy.warnings import campaign_warnings, warnings_for

        problems += compile_rulebook(book)
        problems += warnings_for(book)
        if campaigns is not None:
            problems += campaign_warnings(book, campaigns)
    return book, problems


def side(built: Built, folder: Path) -> Project:
    """A side of ``cvm plan``: the project ``build(..., rules_from=folder)`` read, its data
    paths read from the project folder, as for ``run``; its rules/, policies/ and templates/
    from ``folder``."""
    assert built.project is not None  # no errors
    config = built.project.config
    return dataclasses.replace(built.project, config=dataclasses.replace(
        config, project=folder, home=config.home or config.project))
