"""The ``Project``: everything a project declares, read and checked once, in one frozen record.

Built by ``engine.run.pipeline.load_project(folder, config_file=None)`` (which also compiles
the templates: their sandbox is the render stage's), or from what ``cvm validate`` read
(``engine.commands.validate.check``, for ``cvm plan``). Every stage takes the parts it needs
from it; none reads YAML itself.

A new kind of project file (contact policies, triggers, ...) joins as one field here, read
and checked (its problems collected with the others) where the record is built:
``load_setup`` in engine/run/pipeline.py and ``check`` in engine/commands/validate.py; its
declaration (a ``checks.Record``) gets its editor JSON Schema by one entry in
``engine.project.json_schemas.FILES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.project.channels import ChannelSetup
from engine.project.config import Config
from engine.project.contact_policies import NONE, ContactPolicies
from engine.project.rulebook import Rulebook
from engine.project.tiers import TierSpec
from engine.project.triggers import NONE as NO_TRIGGERS
from engine.project.triggers import Triggers


@dataclass(frozen=True)
class Project:
    """cvm.yaml, the value tiers, the rulebook (stages, segments, policies) and the channels
    and campaigns of one version of a project, checked."""

    config: Config
    tiers: TierSpec  # rules/value_tiers.yaml: given to the value stage
    rulebook: Rulebook  # rules/lifecycle.yaml, segment files, policies/*.yaml
    channels: ChannelSetup  # policies/channels.yaml and campaigns.yaml
    contacts: ContactPolicies = NONE  # policies/contact_policies.yaml
    triggers: Triggers = NO_TRIGGERS  # triggers/*.yaml

    @property
    def folder(self) -> Path:
        """Where rules/, policies/ and templates/ are (a plan's side: its version's folder)."""
        return self.config.project
