"""The ``Project``: everything a project declares, read and checked once, in one frozen record.

Built by ONE call, ``engine.run.build.build`` (``load_project`` raises the errors it found;
``engine.api.load_project`` and every command go through it): cvm.yaml, the value tiers, the
rulebook (lifecycle, segments, policies), the channels and campaigns, the contact policies,
templates/ (the text; the render stage compiles it in its sandbox) and the policy tests, with
every problem of every file collected together. ``cvm validate`` reports what the same call
found, so a project that validates builds. Every stage takes the parts it needs from the
``Project``; none reads a project file itself.

A command reads what it uses (``engine.run.build.SCOPES``: ``cvm score`` the value settings
only); a part its scope does not read is empty here (``scope`` says which parts were read).

A new kind of project file (triggers, ...) joins as one field here and one reading step in
``engine.run.build.build`` (its problems appended in its place, so validate reports them and
every command refuses them); its declaration (a ``checks.Record``) gets its editor JSON Schema
by one entry in ``engine.project.json_schemas.FILES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import Problem
from engine.project.channels import ChannelSetup
from engine.project.config import Config
from engine.project.contact_policies import NONE, ContactPolicies
from engine.project.policy_tests import NO_TESTS, PolicyTests
from engine.project.rulebook import Rulebook
from engine.project.templates import NO_TEMPLATES, Templates
from engine.project.tiers import TierSpec
from engine.project.triggers import NONE as NO_TRIGGERS
from engine.project.triggers import Triggers


@dataclass(frozen=True)
class Project:
    """cvm.yaml, the value tiers, the rulebook (stages, segments, policies), the channels
    and campaigns, the contact policies, the templates and the policy tests of one version
    of a project, checked."""

    config: Config
    tiers: TierSpec  # rules/value_tiers.yaml: given to the value stage
    rulebook: Rulebook  # rules/lifecycle.yaml, segment files, policies/*.yaml
    channels: ChannelSetup  # policies/channels.yaml and campaigns.yaml
    contacts: ContactPolicies = NONE  # policies/contact_policies.yaml
    templates: Templates = NO_TEMPLATES  # templates/: their text, compiled by render/
    tests: PolicyTests = NO_TESTS  # policy_tests/*.yaml (cvm test)
    scope: str = "full"  # which parts were read: see engine.run.build.SCOPES
    deferred: tuple[Problem, ...] = ()  # problems of parts read only if they can be
    triggers: Triggers = NO_TRIGGERS  # triggers/*.yaml

    @property
    def folder(self) -> Path:
        """Where rules/, policies/ and templates/ are (a plan's side: its version's folder)."""
        return self.config.project
