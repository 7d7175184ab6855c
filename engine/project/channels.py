"""Channels and campaigns, declared in ``policies/channels.yaml`` and ``policies/campaigns.yaml``.

A channel has a cost per contact, a capacity (contacts per run), a budget (per run), a
relationship strength (0-1: how much a contact builds the relationship; a response on the
channel is worth ``1 + relationship_weight x relationship_strength`` times the value at stake),
a base response rate, the service levels it serves, the consent attribute it requires, and the
``preferred_channel`` values that mean a customer prefers it (their response is multiplied by
``preference_lift``).

A campaign groups the customers of one or more policies (a policy's ``campaign``, by default its
id): it has an optional budget, a holdout share, the value at stake per customer (an attribute
of the value table) and a salt for the holdout draw.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import CvmError, InputError, Problem, did_you_mean
from engine.project import checks as c
from engine.project.location import config_shown
from engine.project.yamlio import YamlDoc, load_file

CHANNELS_FILE = Path("policies") / "channels.yaml"
CAMPAIGNS_FILE = Path("policies") / "campaigns.yaml"
# what to do when a campaign's value_at_stake names a model column the run has not
STAKE_HINT = ("name a column of the formulas (clv_discounted, potential_value, total_value), "
              "or set models.use: auto")
# declared here, not in the rulebook, so that policies (engine.project.rulebook) can read the
# channel file without the channel file reading the policies
SERVICE_LEVELS = ("premium", "priority", "standard", "basic")
DEFAULT_CHANNELS = ("account_manager", "call_centre", "email", "sms", "direct_mail", "app_push")

ATTRIBUTION_DAYS = 30  # default attribution window of a campaign (cvm measure)
RELATIONSHIP_WEIGHT = 0.5  # default: a response on a channel of strength 1 is worth 1.5 x
PRIOR_CUSTOMERS = 100  # default weight of a declared response rate, in contacted customers

CHANNEL = c.Record([
    c.Field("id", c.Text(), about="the channel's id, as policies name it in `channels`"),
    c.Field("name", c.Text(), None),
    c.Field("cost_per_contact", c.Number(min=0),
            about="what one contact costs, in the project currency"),
    c.Field("capacity", c.Number(min=0, integer=True),
            about="the most contacts the channel takes per run; 0 closes it"),
    c.Field("budget", c.Optional(c.Number(min=0)), None),
    c.Field("relationship_strength", c.Number(min=0, max=1),
            about="0 to 1: how much a contact on it builds the relationship"),
    c.Field("response_rate", c.Number(min=0, max=1),
            about="0 to 1: the share of contacted customers expected to respond"),
    c.Field("service_levels", c.ListOf(c.Text(choices=SERVICE_LEVELS), min_items=1),
            about="the service levels it serves, e.g. [standard, priority]"),
    c.Field("consent", c.Optional(c.Text()), None),
    c.Field("preferred_as", c.ListOf(c.Text()), []),
    c.Field("description", c.Text(), ""),
], what="a channel")
CHANNELS = c.Record([
    c.Field("preference_lift", c.Number(min=1, max=10), 1.5),
    c.Field("relationship_weight", c.Number(min=0, max=10), RELATIONSHIP_WEIGHT),
    c.Field("channels", c.ListOf(CHANNEL, min_items=1)),
], what="the channel declarations")

ATTRIBUTION = c.Number(min=1, max=365, integer=True, hint=(
    "the days after a run in which a purchase or a response counts for its campaign, 30 for "
    'a month (README "Channels and campaigns")'))
CAMPAIGN = c.Record([
    c.Field("name", c.Text(), None),
    c.Field("budget", c.Optional(c.Number(min=0)), None),
    c.Field("holdout_share", c.Optional(c.Number(min=0, max=0.9)), None),
    c.Field("value_at_stake", c.Optional(c.Text()), None),
    c.Field("objective", c.Text(), ""),
    c.Field("kpis", c.ListOf(c.Text()), []),
    c.Field("attribution_days", c.Optional(ATTRIBUTION), None),
], what="a campaign")
LEARNING = c.Record([
    c.Field("enabled", c.Bool(), True,
            about="false: every campaign uses the declared response rates as they are"),
    c.Field("prior_customers", c.Number(min=0, integer=True), PRIOR_CUSTOMERS,
            about="how many contacted customers the declared response rate counts as"),
], what="the learning settings (enabled, prior_customers)")
CAMPAIGNS = c.Record([
    c.Field("holdout_share", c.Number(min=0, max=0.9), 0.10),
    c.Field("salt", c.Text(), "cvm"),
    c.Field("value_at_stake", c.Text(), "clv_discounted"),
    # days after a run in which a purchase or a response counts for its campaign (cvm measure)
    c.Field("attribution_days", ATTRIBUTION, ATTRIBUTION_DAYS),
    c.Field("campaigns", c.MapOf(c.Text(), CAMPAIGN), {}),
    # expected responses learnt from the history (engine/history/learn.py)
    c.Field("learning", LEARNING, None),
], what="the campaign settings")


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    cost_per_contact: float
    capacity: int
    budget: float | None
    relationship_strength: float
    response_rate: float
    service_levels: tuple[str, ...]
    consent: str | None
    preferred_as: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    budget: float | None
    holdout_share: float
    value_at_stake: str
    objective: str
    kpis: tuple[str, ...]
    attribution_days: int = ATTRIBUTION_DAYS


@dataclass(frozen=True)
class Learning:
    enabled: bool = True
    prior_customers: int = PRIOR_CUSTOMERS


@dataclass(frozen=True)
class ChannelSetup:
    channels: tuple[Channel, ...]
    preference_lift: float
    salt: str
    defaults: Campaign  # for campaigns not listed in campaigns.yaml
    campaigns: Mapping[str, Campaign]
    files: tuple[str, ...]
    relationship_weight: float = RELATIONSHIP_WEIGHT
    learning: Learning = Learning()
    # per declared campaign, the warning `cvm validate` gives when nothing names it (at its key)
    unnamed: Mapping[str, Problem] = field(default_factory=dict, compare=False, repr=False)
    # `cvm validate`'s warnings of a channel that can take no contact (a budget below the cost
    # of one, no response expected), and per campaign with a budget, where its budget is (its
    # channels are the policies')
    low_budgets: tuple[Problem, ...] = field(default=(), compare=False, repr=False)
    budget_at: Mapping[str, Problem] = field(default_factory=dict, compare=False, repr=False)
    # per campaign ("*": the default), where its value_at_stake is said (campaigns.yaml)
    stake_at: Mapping[str, Problem] = field(default_factory=dict, compare=False, repr=False)

    def channel(self, channel_id: str) -> Channel:
        return next(ch for ch in self.channels if ch.id == channel_id)

    def declared(self, campaign_id: str) -> bool:
        """True when the campaign is listed in campaigns.yaml (else it takes the defaults)."""
        return campaign_id in self.campaigns

    def campaign(self, campaign_id: str) -> Campaign:
        found = self.campaigns.get(campaign_id)
        if found is not None:
            return found
        d = self.defaults
        return Campaign(campaign_id, campaign_id.replace("_", " "), None, d.holdout_share,
                        d.value_at_stake, "", (), d.attribution_days)


def channel_ids(project: Path, setup: ChannelSetup | None) -> list[str] | None:
    """The channel ids policies may name, given what reading channels.yaml gave (``setup``,
    None when it could not be read): the default channels when the project has no channel
    file; when the setup could not be read for another file's problem (campaigns.yaml), those
    channels.yaml declares, so that the policies' channels are checked all the same; None
    (unknown: the channel file reports its own problems) when it is broken itself."""
    if not (project / CHANNELS_FILE).exists():
        return list(DEFAULT_CHANNELS)
    if setup is not None:
        return [ch.id for ch in setup.channels]
    try:
        raw = c.check(load_file(project / CHANNELS_FILE, display=str(CHANNELS_FILE),
                                inside=project), CHANNELS)
    except CvmError:
        return None
    return list(dict.fromkeys(ch["id"] for ch in raw["channels"]))  # (one declared twice: once)


def load_channels(project: Path, attribute_types: Mapping[str, str]) -> ChannelSetup:
    """Load and check channels.yaml (required) and campaigns.yaml (optional)."""
    doc = load_file(project / CHANNELS_FILE, display=str(CHANNELS_FILE), inside=project)
    try:
        raw = c.check(doc, CHANNELS)
    except InputError as exc:  # campaigns.yaml's own shape is said beside it
        try:
            _load_campaigns(project)
        except InputError as more:
            raise InputError([*exc.problems, *more.problems]) from None
        raise
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    channels = []
    for i, ch in enumerate(raw["channels"]):
        if ch["id"] in seen:
            problems.append(doc.problem(("channels", i, "id"), f"channel {ch['id']!r} is "
                                        f"declared twice (first as channels[{seen[ch['id']]}])",
                                        hint="declare each channel once: merge the two, or "
                                        "give this one its own id"))
        seen.setdefault(ch["id"], i)
        consent = ch["consent"]
        if consent is not None and attribute_types.get(consent) != "boolean":
            allowed = sorted(k for k, v in attribute_types.items() if v == "boolean")
            problems.append(doc.problem(
                ("channels", i, "consent"), f"found {consent!r}, expected a boolean customer "
                "attribute (" + (", ".join(allowed)
                                 or f"none: map data.consents in {config_shown()}")
                + ")", hint=did_you_mean(consent, allowed)))
        channels.append(Channel(
            id=ch["id"], name=ch["name"] or ch["id"].replace("_", " "),
            cost_per_contact=ch["cost_per_contact"], capacity=ch["capacity"],
            budget=ch["budget"], relationship_strength=ch["relationship_strength"],
            response_rate=ch["response_rate"], service_levels=tuple(ch["service_levels"]),
            consent=consent, preferred_as=tuple(ch["preferred_as"]),
            description=ch["description"],
        ))
    try:
        campaigns_raw, campaigns_doc = _load_campaigns(project)
    except InputError as exc:  # the channels' own problems said beside it
        raise InputError([*problems, *exc.problems]) from None
    files = [str(CHANNELS_FILE)]
    defaults = Campaign("*", "", None, campaigns_raw["holdout_share"],
                        campaigns_raw["value_at_stake"], "", (), campaigns_raw["attribution_days"])
    campaigns: dict[str, Campaign] = {}
    for cid, camp in campaigns_raw["campaigns"].items():
        campaigns[cid] = Campaign(
            cid, camp["name"] or cid.replace("_", " "), camp["budget"],
            defaults.holdout_share if camp["holdout_share"] is None else camp["holdout_share"],
            camp["value_at_stake"] or defaults.value_at_stake, camp["objective"],
            tuple(camp["kpis"]), camp["attribution_days"] or defaults.attribution_days)
    for cid, camp in [("*", defaults), *campaigns.items()]:
        if attribute_types.get(camp.value_at_stake) != "number":
            own = cid != "*" and campaigns_raw["campaigns"][cid]["value_at_stake"]
            where = ("campaigns", cid, "value_at_stake") if own else ("value_at_stake",)
            if cid != "*" and not own:
                continue  # the default's problem, reported once at the default
            message = f"value_at_stake {camp.value_at_stake!r} is not a numeric customer " \
                "attribute"
            hint = did_you_mean(camp.value_at_stake, sorted(
                a for a, kind in attribute_types.items() if kind == "number")) or \
                "e.g. clv_discounted, potential_value, total_value, growth_headroom"
            problems.append(campaigns_doc.problem(where, message, hint=hint)
                            if campaigns_doc is not None else
                            Problem(message, file=str(CAMPAIGNS_FILE), hint=hint))
    if (project / CAMPAIGNS_FILE).exists():
        files.append(str(CAMPAIGNS_FILE))
    if problems:
        raise InputError(problems)
    learn = campaigns_raw["learning"] or {}
    unnamed = {} if campaigns_doc is None else {cid: campaigns_doc.problem(
        ("campaigns", cid), f"campaign {cid!r} is declared but no policy or trigger names it",
        key=True, severity="warning", hint="a policy's campaign is its `campaign:`, by default "
        "its id: check the spelling there and here, or remove this campaign")
        for cid in campaigns}
    low = tuple(doc.problem(
        ("channels", i, "budget"), f"budget {ch.budget:g} is below the cost of one contact "
        f"({ch.cost_per_contact:g}): channel {ch.id!r} can take no contact", severity="warning",
        hint=f"raise the budget to at least {ch.cost_per_contact:g}, or set capacity: 0 to "
        "close the channel") for i, ch in enumerate(channels) if below_one(ch)) + tuple(
        doc.problem(("channels", i, "response_rate"), f"response_rate 0: no contact on channel "
                    f"{ch.id!r} is expected to answer, so cvm run gives it no contact (unless "
                    "learning measures answers to its contacts in the history)",
                    severity="warning", hint="a contact's expected value is value_at_stake x "
                    "response_rate x (1 + relationship_weight x relationship_strength) less "
                    "its cost, and only a value above 0 is taken; learning measures the "
                    "contacts made, so a channel with none stays at 0: set the rate you "
                    "expect, or capacity: 0 to close the channel")
        for i, ch in enumerate(channels)
        if ch.response_rate == 0 and ch.capacity > 0 and not below_one(ch))
    low += _holdout_kpis(campaigns, campaigns_doc)
    budget_at = {} if campaigns_doc is None else {
        cid: campaigns_doc.problem(("campaigns", cid, "budget"), "", severity="warning")
        for cid, camp in campaigns.items() if camp.budget is not None}
    stake_at = {} if campaigns_doc is None else {
        cid: campaigns_doc.problem(("campaigns", cid, "value_at_stake") if cid != "*" and
                                   campaigns_raw["campaigns"][cid]["value_at_stake"]
                                   else ("value_at_stake",), "")
        for cid in ("*", *campaigns)}
    return ChannelSetup(tuple(channels), raw["preference_lift"], campaigns_raw["salt"],
                        defaults, campaigns, tuple(files), raw["relationship_weight"],
                        Learning(learn.get("enabled", True),
                                 learn.get("prior_customers", PRIOR_CUSTOMERS)), unnamed,
                        low, budget_at, stake_at)


def _holdout_kpis(campaigns: Mapping[str, Campaign], doc: YamlDoc | None
                  ) -> tuple[Problem, ...]:
    """A KPI against a holdout ("retention rate vs holdout") of a campaign without one
    (holdout_share 0): its brief says there is no holdout, cvm measure compares nothing."""
    if doc is None:
        return ()
    return tuple(doc.problem(
        ("campaigns", cid, "kpis", i), f"campaign {cid!r} has no holdout (holdout_share 0), "
        f"but its KPI {kpi!r} compares with one: cvm measure has nothing to compare with",
        severity="warning", hint="set holdout_share for the campaign (e.g. 0.1), or measure "
        "the KPI another way") for cid, camp in campaigns.items() if camp.holdout_share == 0
        for i, kpi in enumerate(camp.kpis) if "holdout" in kpi.lower())


def budget_contacts(ch: Channel) -> float:
    """How many contacts the channel's budget pays for (inf: no budget, or free contacts),
    as the allocation counts them (a budget of exactly n contacts, written in decimals, pays
    for n)."""
    if ch.budget is None or ch.cost_per_contact <= 0:
        return math.inf
    return float(math.floor(ch.budget / ch.cost_per_contact * (1 + 1e-9)))


def below_one(ch: Channel) -> bool:
    """Whether the channel's budget pays for no contact while its capacity would take
    some."""
    return ch.capacity > 0 and budget_contacts(ch) < 1


def _load_campaigns(project: Path) -> tuple[dict[str, Any], YamlDoc | None]:
    path = project / CAMPAIGNS_FILE
    if not path.exists():
        return {"holdout_share": 0.10, "salt": "cvm", "value_at_stake": "clv_discounted",
                "attribution_days": ATTRIBUTION_DAYS, "campaigns": {}, "learning": None}, None
    doc = load_file(path, display=str(CAMPAIGNS_FILE), inside=project)
    result: dict[str, Any] = c.check(doc, CAMPAIGNS, empty_ok=True)
    return result, doc


def check_policy_channels(setup: ChannelSetup, policy_channels: Mapping[str, tuple[
        tuple[str, ...], Problem]]) -> list[Problem]:
    """A channel named in a policy but not declared is an error at the policy's line.

    ``policy_channels`` maps a policy id to its channel list and a Problem locating it.
    """
    from dataclasses import replace

    declared = [ch.id for ch in setup.channels]
    problems = []
    for _policy, (names, where) in policy_channels.items():
        for name in names:
            if name not in declared:
                problems.append(replace(
                    where, message=f"channel {name!r} is not declared in {CHANNELS_FILE}; "
                    "declared: " + ", ".join(declared),
                    hint=did_you_mean(name, declared) or f"declare it in {CHANNELS_FILE}"))
    return problems


def stakes_without_model(setup: ChannelSetup, why: str, hint: str,
                         campaigns: Collection[str]) -> list[Problem]:
    """An error at the value_at_stake of each of these campaigns (one not declared takes the
    default's) that names a model column when the value table has none (``why``: models.use
    is none, or the fit failed); each place said once."""
    from engine.project.schema import MODEL_COLUMNS

    model = {col.name for col in MODEL_COLUMNS}
    found: dict[str, Problem] = {}
    for cid in campaigns:
        camp = setup.campaign(cid)
        if camp.value_at_stake not in model:
            continue
        own = cid if cid in setup.campaigns and setup.stake_at.get(cid) is not None and \
            setup.stake_at[cid].key != "value_at_stake" else "*"
        at = setup.stake_at.get(own) or Problem("", file=str(CAMPAIGNS_FILE))
        found.setdefault(own, Problem(
            f"{camp.value_at_stake!r} is a model column, and {why}: the value table has no "
            f"{camp.value_at_stake}", file=at.file, line=at.line,
            column=at.column, key=at.key, hint=hint))
    return list(found.values())
