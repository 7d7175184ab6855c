"""Rules and policies: rules/lifecycle.yaml, segment files in rules/ and policies/*.yaml.

Every file is checked (unknown keys, wrong types, unknown attributes, unknown stage names, empty
conditions, duplicate ids) and turned into frozen records;
``engine.policy.validation.validate_rulebook`` adds warnings
for rules and policies that can never match or never win (decided exactly over the intervals
between the conditions' thresholds, so a warning is a certainty, not a guess).

    # policies/retain_high_value.yaml
    id: retain_high_value
    description: High-value customers showing risk get a retention call before they leave.
    priority: 90                       # higher wins; ties: policy id in alphabetical order
    when:
      all:
        - value_tier: {in: [platinum, gold]}
        - lifecycle_stage: decline
    then:
      action: retain                   # or no_action: match on purpose and contact no one
      offer: loyalty_reward
      channels: [account_manager, call_centre, email]   # in order of preference
      # service_level: premium         # the service dimension, arbitrated on its own

The service level is its own dimension: among the matching policies that set one, the highest
priority wins, independently of which policy gives the action (a policy may set either or both).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, did_you_mean, errors_only
from engine.project import checks as c
from engine.project.channels import (
    CHANNELS_FILE,
    DEFAULT_CHANNELS,
    SERVICE_LEVELS,
    channel_ids,
    load_channels,
)
from engine.project.condition_parser import Parser
from engine.project.conditions import (
    ALWAYS,
    BOOLEAN,
    Always,
    Condition,
)
from engine.project.partial_checks import check_channels, policy_rest, rule_conditions
from engine.project.rulebook_io import ID, Raw, read
from engine.project.schema import OUTCOMES
from engine.project.segments import (
    Segment,
    load_segments,
    read_segments,
    segment_attribute,
)
from engine.project.tiers import load_tiers
from engine.words import listed

LIFECYCLE_FILE = Path("rules") / "lifecycle.yaml"
NOT_POLICIES = {"channels.yaml", "campaigns.yaml",  # these belong to the channel stage
                "contact_policies.yaml"}  # engine.project.contact_policies
NO_ACTION = "no_action"
DEFAULT_SERVICE_LEVEL = "standard"  # for customers no service policy matches
STAGE_RULE = c.Record([
    c.Field("id", ID, about="recorded as stage_rule"),
    c.Field("stage", ID, about="a stage declared under stages"),
    c.Field("description", c.Text(), ""),
    c.Field("when", Raw(), None, about="leave out on the last rule: it matches everyone"),
], what="a stage rule")
LIFECYCLE = c.Record([
    # every rule names a declared stage (_load_lifecycle), so there is at least one
    c.Field("stages", c.MapOf(ID, c.Optional(c.Text(non_empty=False)),
                              schema_extra={"minProperties": 1}),
            about="stage name: description"),
    c.Field("rules", c.ListOf(STAGE_RULE, min_items=1),
            about="tried in order; the first match gives the stage"),
], what="lifecycle stages and rules")
THEN = c.Record([
    c.Field("action", c.Optional(ID), None, about="what to do, e.g. retain, win_back, or "
            f"{NO_ACTION} (match on purpose, contact no one)"),
    c.Field("offer", c.Optional(c.Text()), None, about="offer code (optional)"),
    # repeats are refused by _check_then, with the position of the second
    c.Field("channels", c.ListOf(ID, schema_extra={"uniqueItems": True}), [],
            about="allowed channels in order of preference (" + ", ".join(DEFAULT_CHANNELS)
            + ", or as declared in policies/channels.yaml)"),
    c.Field("service_level", c.Optional(c.Text(choices=SERVICE_LEVELS)), None,
            about="the service level dimension"),
], what="what to do",
    # _check_then refuses a policy with neither (and says which example to follow)
    schema_extra={"anyOf": [{"required": ["action"]}, {"required": ["service_level"]}]},
    elsewhere={**{key: f"a campaign's {key} is set in policies/campaigns.yaml, under "
                  f"campaigns.<its campaign>.{key} (a policy's campaign is its campaign key, "
                  "by default its id)" for key in ("budget", "holdout_share",
                                                   "value_at_stake", "kpis", "objective")},
               "priority": "a policy's priority is set at its top level, beside id and "
               "description"})
POLICY = c.Record([
    c.Field("id", ID, about="unique policy id"),
    c.Field("description", c.Text(), about="why: shown as the decision's reason"),
    c.Field("priority", c.Number(integer=True, hint="the higher number wins: e.g. 90 comes "
                                                    "before 70"),
            about="higher wins; ties: policy id in alphabetical order"),
    c.Field("when", Raw()),
    c.Field("then", THEN), c.Field("campaign", c.Optional(ID), None, about="campaign the "
            "channel stage groups the customers in (default: the policy id)"),
    c.Field("enabled", c.Bool(), True),
], what="a policy", elsewhere={
    **{key: f"{key} belongs under `then:` (what the policy does): indent it beneath `then:`, "
       f"beside {listed(tuple(k for k in ('action', 'offer', 'channels') if k != key))}"
       for key in ("action", "offer", "channels", "service_level")},
    **{key: "a policy's conditions go under `when:` (see README: Rules and policies)"
       for key in ("if", "condition", "conditions", "where", "match")}})


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    line: int | None = None  # of its key under `stages:` (a warning's place)
    column: int | None = None


@dataclass(frozen=True)
class StageRule:
    """One rule of rules/lifecycle.yaml: the first rule (in file order) that matches wins."""

    id: str
    stage: str
    description: str
    when: Condition
    file: str
    line: int | None
    column: int | None = None


@dataclass(frozen=True)
class Policy:
    """One policy file. ``action`` and/or ``service_level`` is set (``action`` may be no_action)."""

    id: str
    description: str
    priority: int
    when: Condition
    action: str | None
    offer: str | None
    channels: tuple[str, ...]
    service_level: str | None
    campaign: str | None  # defaults to the id for policies with a contact action
    enabled: bool
    file: str
    line: int | None
    # line and column of some keys ("id", "when", "priority"), for warnings
    spots: Mapping[str, tuple[int | None, int | None]] = field(
        default_factory=dict, compare=False, hash=False)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Rulebook:
    """Everything rules/ and policies/ say. ``policies`` is in arbitration order."""

    stages: tuple[Stage, ...]
    stage_rules: tuple[StageRule, ...]
    policies: tuple[Policy, ...]  # priority high to low, then id; disabled ones included
    segments: tuple[Segment, ...]
    files: tuple[str, ...] = ()

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def active_policies(self) -> tuple[Policy, ...]:
        return tuple(p for p in self.policies if p.enabled)


def load_rulebook(project_dir: Path, attribute_types: Mapping[str, str], *,
                  values: Mapping[str, Collection[str]] | None = None,
                  channels: Collection[str] | None = None,
                  read_defaults: bool = True) -> Rulebook:
    """Load and check rules/ and policies/; raise InputError listing every problem.

    ``values``: allowed values of text attributes (default: value_tier from value_tiers.yaml);
    ``channels``: allowed channel ids (default: those of policies/channels.yaml, if readable).
    ``read_defaults=False``: the caller has read those files already and gives what they held
    (no value_tier in ``values``, or ``channels`` None: unknown, not checked), so that every
    file is read once.
    """
    book, problems = check_rulebook(project_dir, attribute_types, values, channels,
                                    read_defaults=read_defaults)
    errors = errors_only(problems)
    if errors or book is None:
        raise InputError(errors or [Problem("no rulebook", file=str(project_dir))])
    return book


# --- loading -------------------------------------------------------------------------------


def check_rulebook(project: Path, types: Mapping[str, str],
                   values: Mapping[str, Collection[str]] | None,
                   channels: Collection[str] | None, *, read_defaults: bool = True
                   ) -> tuple[Rulebook | None, list[Problem]]:
    """The rulebook (None when the lifecycle rules cannot be read) and every problem found
    (``read_defaults``: as for ``load_rulebook``)."""
    problems: list[Problem] = []
    known = dict(values or {})
    if "value_tier" not in known and read_defaults:
        known.update(_tier_names(project))
    if "value_tier" in known:  # the history's attributes take the same values
        known.setdefault("previous_tier", known["value_tier"])
    known.setdefault("last_outcome", OUTCOMES)
    if channels is None and read_defaults:
        channels = _channel_ids(project, types)
    raw_segments = read_segments(project, problems)
    ids = [item["id"] for _, items in raw_segments for item in items
           if item["id"] is not None]  # a salvaged file's unusable segment has none
    later = {segment_attribute(i): "segments are decided after the lifecycle stage, so "
             "lifecycle rules cannot test them" for i in ids}
    stages, stage_rules = _load_lifecycle(project, types, known, problems, later)
    if stages:  # without readable stages, don't report every stage name as unknown
        known["lifecycle_stage"] = [s.name for s in stages]
        known.setdefault("previous_stage", known["lifecycle_stage"])
    if stage_rules:  # a misspelt rule id would match no customer, unsaid
        known.setdefault("stage_rule", [r.id for r in stage_rules])
    with_segments = {**types, **{segment_attribute(i): BOOLEAN for i in ids
                                 if segment_attribute(i) not in types}}
    segments = load_segments(raw_segments, types, with_segments, known, problems)
    policies = _load_policies(project, with_segments, known, channels, problems)
    from engine.project.files import campaign_case_clashes

    problems += campaign_case_clashes(policies)  # brief file names: one per campaign
    if stage_rules is None:
        return None, problems
    files = [str(LIFECYCLE_FILE), *dict.fromkeys(s.file for s in segments),
             *(p.file for p in policies)]
    return Rulebook(tuple(stages), stage_rules, tuple(sorted(policies, key=arbitration_key)),
                    tuple(segments), tuple(files)), problems


def arbitration_key(policy: Policy) -> tuple[int, str]:
    """Policies sort by this: highest priority first, ties by id (alphabetical)."""
    return (-policy.priority, policy.id)


def _tier_names(project: Path) -> dict[str, list[str]]:
    try:
        return {"value_tier": list(load_tiers(project).names)}
    except (InputError, OSError):
        return {}  # the value stage reports its own file; don't guess the tiers here


def _channel_ids(project: Path, types: Mapping[str, str]) -> list[str] | None:
    if not (project / CHANNELS_FILE).exists():
        return list(DEFAULT_CHANNELS)
    try:
        return channel_ids(project, load_channels(project, types))
    except (InputError, OSError):
        return None  # the channel stage reports its own file


def _load_lifecycle(project: Path, types: Mapping[str, str], known: dict[str, Any],
                    problems: list[Problem], later: Mapping[str, str]
                    ) -> tuple[list[Stage], tuple[StageRule, ...] | None]:
    path = project / LIFECYCLE_FILE
    if not path.exists():
        problems.append(Problem("file not found, expected the lifecycle stages and rules",
                                file=str(LIFECYCLE_FILE), hint="every customer needs a stage: "
                                "copy rules/lifecycle.yaml from the engine's starter project"))
        return [], None
    doc, raw = read(path, project, LIFECYCLE, problems, keep_doc=True)
    if doc is None:
        return [], None
    if raw is None:  # its keys or values are wrong: its rules' conditions are checked all the
        problems.extend(rule_conditions(doc, types, known, later))  # same
        return [], None
    stages = [Stage(name, desc or "", *doc.where(("stages", name), key=True))
              for name, desc in raw["stages"].items()]
    names = [s.name for s in stages]
    parser = Parser(doc, types, {**known, "lifecycle_stage": names}, unavailable=later)
    rules: list[StageRule] = []
    seen: dict[str, int] = {}
    last = len(raw["rules"]) - 1
    for i, item in enumerate(raw["rules"]):
        where = ("rules", i)
        if item["id"] in seen:
            parser.error((*where, "id"), f"duplicate rule id {item['id']!r} (also rules"
                         f"[{seen[item['id']]}])", "each rule needs its own id")
        seen.setdefault(item["id"], i)
        if item["stage"] not in names:
            parser.error((*where, "stage"), f"unknown stage {item['stage']!r}, expected one of "
                         + ", ".join(names), did_you_mean(item["stage"], names) or
                         "declare it under `stages:`")
        when = ALWAYS if item["when"] is None else parser.when(item["when"], (*where, "when"))
        if isinstance(when, Always) and i < last:
            parser.error((*where, "id") if item["when"] is None else (*where, "when"),
                         f"rule {item['id']!r} matches every customer, so the rules after it "
                         "can never match", "only the last rule may be unconditional")
        if i == last and not isinstance(when, Always) and when is not None:
            parser.error((*where, "when"), "the last rule must have no `when`, so that every "
                         "customer gets a stage (a condition, even one every customer meets "
                         "today, is not checked to hold for all)", "add a last rule without "
                         "`when`, e.g. `- {id: everyone_else, stage: maturity}`")
        if when is not None:
            rules.append(StageRule(item["id"], item["stage"], item["description"], when,
                                   doc.file, *doc.where(where)))
    problems.extend(parser.problems)
    return stages, (tuple(rules) if not parser.problems else None)


def _load_policies(project: Path, types: Mapping[str, str], known: Mapping[str, Any],
                   channels: Collection[str] | None, problems: list[Problem]) -> list[Policy]:
    policies: list[Policy] = []
    seen: dict[str, str] = {}
    folder = project / "policies"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    for path in files:
        if path.name in NOT_POLICIES:
            continue
        doc, raw = read(path, project, POLICY, problems, keep_doc=True)
        if doc is None:
            continue
        if raw is None:  # its keys or values are wrong: its conditions and channels are
            problems.extend(policy_rest(doc, types, known, channels, problems))  # checked
            continue
        parser = Parser(doc, types, known)
        if raw["id"] in seen:
            parser.error(("id",), f"duplicate policy id {raw['id']!r} (also in "
                         f"{seen[raw['id']]})", "each policy needs its own id")
        line, col = doc.where(("id",))
        seen.setdefault(raw["id"], f"{doc.file}:{line}:{col}")
        when = parser.when(raw["when"], ("when",))
        _check_then(parser, raw, channels)
        problems.extend(parser.problems)
        if when is None or parser.problems:
            continue
        then = raw["then"]
        contact = then["action"] not in (None, NO_ACTION)
        policies.append(Policy(
            raw["id"], raw["description"], raw["priority"], when, then["action"], then["offer"],
            tuple(then["channels"]), then["service_level"],
            (raw["campaign"] or raw["id"]) if contact else None, raw["enabled"], doc.file,
            doc.where(("id",))[0], {k: doc.where((k,)) for k in ("id", "when", "priority",
                                                                   "campaign") if k in raw
                                    and raw[k] is not None}))
    return policies


def _check_then(parser: Parser, raw: Mapping[str, Any],
                channels: Collection[str] | None) -> None:
    then = raw["then"]
    action = then["action"]
    if action is None and then["service_level"] is None:
        parser.error(("then",), "found neither action nor service_level, expected at least one",
                     "e.g. `action: retain` with `channels: [email]`, or `service_level: "
                     "premium`")
    contact = action not in (None, NO_ACTION)
    if contact and not then["channels"]:
        parser.error(("then",), f"action {action!r} has no channels, expected a list of at "
                     "least one channel", "e.g. `channels: [email, sms]` (in order of "
                     "preference)")
    if not contact:
        for key in ("channels", "offer"):
            if then[key]:
                reason = "no_action contacts no one" if action else "there is no action"
                parser.error(("then", key), f"found {key} but {reason}",
                             f"remove `{key}`" + ("" if action else " or add an action"))
        if raw["campaign"] is not None:
            parser.error(("campaign",), "found a campaign but the policy contacts no one",
                         "remove `campaign`")
    check_channels(parser, then["channels"], channels)
