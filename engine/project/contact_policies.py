"""Contact policies, declared in ``policies/contact_policies.yaml`` (optional; README "Contact
policies"): how often a customer may be contacted, whatever the policies decide.

Four kinds, each scoped to one channel, one campaign, or every contact (neither named):

    cap          at most ``max_contacts`` contacts in the last ``days`` days
    cool_down    no contact within ``days`` days of the last one
    no_response  suppressed after ``max_contacts`` contacts without a response (responded or
                 converted) since the last one; counted over the last ``days`` days if given
    quiet_after  no contact within ``days`` days of a response whose outcome is one of
                 ``outcomes`` (default converted and complained)

What counts as a contact, and the windows, are the README's; the enforcing is in
``engine.activation.contact``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, did_you_mean
from engine.project import checks as c
from engine.project.schema import OUTCOMES
from engine.project.yamlio import YamlDoc, load_file

CONTACT_POLICIES_FILE = Path("policies") / "contact_policies.yaml"
KINDS = ("cap", "cool_down", "no_response", "quiet_after")
RESPONDED = ("responded", "converted")  # outcomes that reset a no_response count
# the built-in rule, always on (README "Contact policies"): a customer with a response
# ``opted_out`` known to a run is contacted on no channel; its id is reserved
OPTED_OUT = "opted_out"
MAX_DAYS = 3650

CONTACT_POLICY = c.Record([
    c.Field("id", c.Text()),
    c.Field("kind", c.Text(choices=KINDS)),
    c.Field("description", c.Text(), ""),
    c.Field("channel", c.Optional(c.Text()), None),
    c.Field("campaign", c.Optional(c.Text()), None),
    c.Field("max_contacts", c.Optional(c.Number(min=1, integer=True, hint=(
        "the contacts in the window a customer may have had: 1 or more (a channel no one may "
        "be contacted on is left out of the policies' channels)"))), None),
    c.Field("days", c.Optional(c.Number(min=1, max=MAX_DAYS, integer=True, hint=(
        "the window in days, ending on the run's as-of date: 7 for a week, 30 for a month"))),
        None),
    c.Field("outcomes", c.Optional(c.ListOf(c.Text(choices=OUTCOMES), min_items=1)), None),
], what="a contact policy")
CONTACT_POLICIES = c.Record([
    c.Field("contact_policies", c.ListOf(CONTACT_POLICY), []),
], what="the contact policies")

# which of the optional keys each kind needs (True) or refuses (False); others are optional
NEEDS = {
    "cap": {"max_contacts": True, "days": True, "outcomes": False},
    "cool_down": {"max_contacts": False, "days": True, "outcomes": False},
    "no_response": {"outcomes": False, "max_contacts": True},
    "quiet_after": {"max_contacts": False, "days": True},
}


@dataclass(frozen=True)
class ContactPolicy:
    id: str
    kind: str
    description: str
    channel: str | None  # None: every channel
    campaign: str | None  # None: every campaign
    max_contacts: int  # cap, no_response; 1 for cool_down; 0 for quiet_after
    days: int | None  # the window; None: the whole history (no_response only)
    outcomes: tuple[str, ...]  # quiet_after only
    line: int | None

    @property
    def scope(self) -> str:
        parts = [f"channel {self.channel}" if self.channel else "",
                 f"campaign {self.campaign}" if self.campaign else ""]
        return " and ".join(p for p in parts if p) or "every contact"


@dataclass(frozen=True)
class ContactPolicies:
    policies: tuple[ContactPolicy, ...]
    file: str | None  # None: the project has no contact policy file
    warnings: tuple[Problem, ...] = ()  # what `cvm validate` says of policies that parse

    @property
    def window(self) -> int | None:
        """Days of history the policies look back over; None: the whole history."""
        if any(p.days is None for p in self.policies):
            return None
        return max((p.days or 0 for p in self.policies), default=0)


NONE = ContactPolicies((), None)
ENTRY = re.compile(r"contact_policies\[(\d+)\]")  # a problem's key inside one policy


def load_contact_policies(project: Path, channels: Collection[str] | None,
                          campaigns: Collection[str] | None) -> ContactPolicies:
    """Read and check the file (absent: no policies). ``channels`` and ``campaigns``: the ids
    a policy may name (None: unknown, not checked)."""
    path = project / CONTACT_POLICIES_FILE
    if not path.exists():
        return NONE
    doc = load_file(path, display=str(CONTACT_POLICIES_FILE), inside=project)
    raw, problems = c.check_collect(doc, CONTACT_POLICIES)
    problems = [p for p in problems if p.severity == "error"]
    # the policies the schema found no fault in are checked too: every mistake at once
    entries = [ENTRY.match(p.key or "") for p in problems]
    if not all(entries):  # a fault of the file's shape, not of one policy
        raise InputError(problems)
    faulty = {int(m.group(1)) for m in entries if m}
    found: list[ContactPolicy] = []
    seen: dict[str, int] = {}
    for i, pol in enumerate(raw["contact_policies"]):
        if i in faulty:
            continue
        problems.extend(_check(doc, i, pol, seen, channels, campaigns))
        seen.setdefault(pol["id"], i)
        kind = pol["kind"]
        found.append(ContactPolicy(
            pol["id"], kind, pol["description"], pol["channel"], pol["campaign"],
            {"cool_down": 1, "quiet_after": 0}.get(kind, pol["max_contacts"] or 0),
            pol["days"],
            tuple(pol["outcomes"] or ("converted", "complained")) if kind == "quiet_after"
            else (), doc.where(("contact_policies", i))[0]))
    if problems:  # in the file's order
        raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
    return ContactPolicies(tuple(found), str(CONTACT_POLICIES_FILE), tuple(
        _one_day(doc, i, pol) for i, pol in enumerate(raw["contact_policies"])
        if pol["days"] == 1))


def _one_day(doc: YamlDoc, i: int, pol: dict[str, Any]) -> Problem:
    """A window of one day: a run counts contacts 1 to ``days`` - 1 days back, so none."""
    return doc.problem(
        ("contact_policies", i, "days"), "found 1: a run counts the contacts of the days "
        "before its as-of date (1 day back and more), so a window of one day holds none of "
        f"them and {pol['id']} never blocks a run's contact; only cvm serve's contacts of the "
        "same day fall in it", hint='days: 2 counts the day before too, days: 7 the week '
        'before (README "Contact policies")', severity="warning")


def _check(doc: YamlDoc, i: int, pol: dict[str, Any], seen: dict[str, int],
           channels: Collection[str] | None, campaigns: Collection[str] | None
           ) -> list[Problem]:
    at = ("contact_policies", i)
    out = []
    if pol["id"] == OPTED_OUT:
        out.append(doc.problem((*at, "id"), f"found {OPTED_OUT!r}, expected an id of your "
                               "own: it names the built-in opt-out rule",
                               hint="an opted_out response stops every contact without a "
                               "policy; choose another id"))
    if pol["id"] in seen:
        out.append(doc.problem((*at, "id"), f"contact policy {pol['id']!r} is declared twice "
                               f"(first as contact_policies[{seen[pol['id']]}])",
                               hint="each contact policy needs its own id"))
    for key, needed in NEEDS[pol["kind"]].items():
        if needed and pol[key] is None:
            out.append(doc.problem(at, f"a {pol['kind']} contact policy needs {key!r}",
                                   hint=_example(pol["kind"])))
        if not needed and pol[key] is not None:
            out.append(doc.problem((*at, key), f"{key!r} has no meaning for a {pol['kind']} "
                                   "contact policy", hint=_example(pol["kind"])))
    for key, known, what in (("channel", channels, "channel declared in "
                              "policies/channels.yaml"),
                             ("campaign", campaigns, "campaign declared in "
                              "policies/campaigns.yaml")):
        value = pol[key]
        if value is not None and known is not None and value not in known:
            out.append(doc.problem((*at, key), f"found {value!r}, expected a {what} ("
                                   + ", ".join(sorted(known)) + ")",
                                   hint=did_you_mean(value, list(known))
                                   or f"declare it in {what.split(' in ')[1]}, or name one "
                                   "declared there"))
    return out


def _example(kind: str) -> str:
    return {
        "cap": "e.g. kind: cap, max_contacts: 1, days: 7 (at most 1 contact in 7 days)",
        "cool_down": "e.g. kind: cool_down, days: 14 (no contact within 14 days of the last)",
        "no_response": "e.g. kind: no_response, max_contacts: 3 (suppressed after 3 contacts "
                       "without a response; days: 90 to count the last 90 days only)",
        "quiet_after": "e.g. kind: quiet_after, days: 30, outcomes: [converted, complained]",
    }[kind]
