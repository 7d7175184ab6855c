"""What differs between two versions of a project, judged on what decides, not on file bytes.

Both versions are compared as the engine reads them: the checked settings of ``cvm.yaml``, value
tiers, lifecycle stages and rules, segments, policies, channels and campaigns, without their
file names and line numbers; templates by the briefs they render. A comment, a re-indented
block or a policy moved to another file therefore changes nothing; a deleted policy, a changed
offer or a new channel does.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.plan.sources import CONFIG, PARTS, Source
from engine.policy.condition_text import describe
from engine.project.channels import CAMPAIGNS_FILE, CHANNELS_FILE
from engine.project.conditions import AllOf, Always, AnyOf, Compare, Not
from engine.project.config import Config
from engine.project.contact_policies import CONTACT_POLICIES_FILE
from engine.project.rulebook import LIFECYCLE_FILE
from engine.project.tiers import TIERS_FILE, TierSpec
from engine.run.pipeline import Computed
from engine.value.clv_models import TITLES, ModelFit

# where a definition is written, not what it says
LOCATION = frozenset({"file", "files", "line", "column", "spots", "spot", "where",
                      "positions", "setting_at"})
# settings of cvm.yaml that decide nothing a plan compares (where the run and the report go)
NOT_COMPARED = frozenset({"project", "file", "output", "report"})
CONDITIONS = (AllOf, AnyOf, Not, Compare, Always)

Row = tuple[str, str]  # (what, how it changed)
LIFECYCLE, CHANNELS, CAMPAIGNS = (f.as_posix() for f in (LIFECYCLE_FILE, CHANNELS_FILE,
                                                          CAMPAIGNS_FILE))
CONTACT_POLICIES = CONTACT_POLICIES_FILE.as_posix()


def content(value: Any) -> Any:
    """A comparable form of a checked definition: its meaning, without its location (and
    without the order of what order does not change: the items of ``all``/``any``, the values
    of ``in``/``not_in``)."""
    if isinstance(value, (AllOf, AnyOf)):
        return (type(value).__name__, tuple(sorted(repr(content(v)) for v in value.items)))
    if isinstance(value, Compare) and value.op in ("in", "not_in") and \
            isinstance(value.operand, tuple):
        operand = tuple(sorted(set(value.operand), key=repr))
        return content(dataclasses.replace(value, op=f"{value.op} (as a set)", operand=operand))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple(
            (f.name, content(getattr(value, f.name))) for f in dataclasses.fields(value)
            if f.compare and f.name not in LOCATION))
    if isinstance(value, Mapping):
        return ("{}", tuple(sorted((str(k), content(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return tuple(content(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(content(v)) for v in value)))
    if isinstance(value, Path):
        return str(value)
    return value


def same(a: Any, b: Any) -> bool:
    return bool(content(a) == content(b))


def show(value: Any) -> str:
    """A value as a marketer reads it in the plan."""
    if isinstance(value, CONDITIONS):
        return describe(value)
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "{" + ", ".join(f"{f.name}: {show(getattr(value, f.name))}"
                               for f in dataclasses.fields(value)
                               if f.compare and f.name not in LOCATION) + "}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def fields_changed(a: Any, b: Any, *, skip: frozenset[str] = frozenset(),
                   prefix: str = "") -> list[str]:
    """``field: before -> after`` for every field of two records that differs in meaning;
    nested records (cvm.yaml's ``data``, ``retention``) field by field."""
    out = []
    for f in dataclasses.fields(a):
        if not f.compare or f.name in LOCATION or f.name in skip:
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        if same(x, y):
            continue
        if dataclasses.is_dataclass(x) and type(x) is type(y) and not isinstance(x, CONDITIONS):
            out += fields_changed(x, y, prefix=f"{prefix}{f.name}.")
        else:
            out.append(f"{prefix}{f.name}: {show(x)} -> {show(y)}")
    return out


def keyed(kind: str, before: Mapping[str, Any], after: Mapping[str, Any],
          where_before: Callable[[Any], str], where_after: Callable[[Any], str], *,
          ordered: bool = False) -> list[Row]:
    """Definitions with ids: each one removed, added or changed (and how); with ``ordered``,
    a new order of the ones on both sides too (the first matching stage rule wins)."""
    rows: list[Row] = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if b is None:
            rows.append((f"{kind} {key}", f"removed (was {where_before(a)})"))
        elif a is None:
            rows.append((f"{kind} {key}", f"added ({where_after(b)})"))
        elif not same(a, b):
            rows.append((f"{kind} {key}", "; ".join(fields_changed(a, b))))
    kept_before = [k for k in before if k in after]
    kept_after = [k for k in after if k in before]
    if ordered and kept_before != kept_after:
        rows.append((f"{kind} order", f"{', '.join(kept_before)} -> {', '.join(kept_after)}"))
    return rows


def settings(before: Config, after: Config, file: str = CONFIG) -> list[Row]:
    return [(file, change) for change in fields_changed(before, after, skip=NOT_COMPARED)]


def tiers(before: TierSpec, after: TierSpec, file: str) -> list[Row]:
    """The tiers' settings, then each tier changed, added or removed (by name), then their
    order when the names differ (the first tier is the top one)."""
    rows = [(file, change) for change in fields_changed(before, after, skip=frozenset({"tiers"}))]
    was, now = by_id(before.tiers, "name"), by_id(after.tiers, "name")
    for name in sorted(was.keys() | now.keys()):
        a, b = was.get(name), now.get(name)
        change = "added" if a is None else "removed" if b is None else \
            "; ".join(fields_changed(a, b)) if not same(a, b) else ""
        if change:
            rows.append((file, f"tier {name}: {change}"))
    if list(was) != list(now):
        rows.append((file, f"tier order: {', '.join(was)} -> {', '.join(now)}"))
    return rows


def briefs(before: Mapping[str, str], after: Mapping[str, str]) -> list[Row]:
    """Briefs, as rendered from both versions, that differ."""
    rows: list[Row] = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        if a is None:
            rows.append((name, "new"))
        elif b is None:
            rows.append((name, "no longer written"))
        else:
            lines = sum(1 for line in difflib.unified_diff(a.splitlines(), b.splitlines(), n=0,
                                                           lineterm="")
                        if line[:1] in "+-" and line[:3] not in ("+++", "---"))
            rows.append((name, f"changed ({lines} line{'s' * (lines != 1)} added or removed)"))
    return rows


def files_differing(before: Source, after: Source) -> list[str]:
    """The files whose bytes differ between the two versions (or that one lacks)."""
    def listing(src: Source) -> dict[str, Path]:
        out = {CONFIG: src.folder / CONFIG}
        for part in PARTS:
            out.update({p.relative_to(src.folder).as_posix(): p
                        for p in (src.folder / part).rglob("*") if p.is_file()})
        return out

    a, b = listing(before), listing(after)
    return sorted(after.config_name if rel == CONFIG else rel for rel in a.keys() | b.keys()
                  if rel not in a or rel not in b or a[rel].read_bytes() != b[rel].read_bytes())


def by_id(items: Sequence[Any], key: str = "id") -> dict[str, Any]:
    return {str(getattr(item, key)): item for item in items}


def definitions(base: Source, prop: Source, before: Computed, after: Computed,
                tiers_before: TierSpec, tiers_after: TierSpec) -> list[Row]:
    """Every difference in meaning between the two versions' checked definitions."""
    rb, ra = before.setup.rulebook, after.setup.rulebook
    cb, ca = before.setup.channels, after.setup.channels

    def at(source: Source) -> Callable[[Any], str]:
        return lambda item: source.real(str(getattr(item, "file", "")))

    def fixed(source: Source, rel: str) -> Callable[[Any], str]:
        return lambda _item: source.real(rel)

    rows = settings(before.config, after.config, prop.config_name)
    rows += tiers(tiers_before, tiers_after, TIERS_FILE.as_posix())
    rows += keyed("lifecycle stage", by_id(rb.stages, "name"), by_id(ra.stages, "name"),
                  fixed(base, LIFECYCLE), fixed(prop, LIFECYCLE), ordered=True)
    rows += keyed("stage rule", by_id(rb.stage_rules), by_id(ra.stage_rules), at(base),
                  at(prop), ordered=True)
    rows += keyed("segment", by_id(rb.segments), by_id(ra.segments), at(base), at(prop))
    rows += keyed("policy", by_id(rb.policies), by_id(ra.policies), at(base), at(prop))
    known = frozenset({"stages", "stage_rules", "segments", "policies"})
    rows += [("rules", change) for change in fields_changed(rb, ra, skip=known)]
    # the templates show in the briefs compared; the policy tests decide nothing
    rows += [("setup", change) for change in fields_changed(  # tiers: their file's row above
        before.setup, after.setup, skip=frozenset({"rulebook", "channels", "contacts",
                                                   "config", "templates", "tests", "scope",
                                                   "deferred", "tiers"}))]
    rows += keyed("contact policy", by_id(before.setup.contacts.policies),
                  by_id(after.setup.contacts.policies), fixed(base, CONTACT_POLICIES),
                  fixed(prop, CONTACT_POLICIES), ordered=True)
    rows += [("channels", change) for change in fields_changed(
        cb, ca, skip=frozenset({"channels", "defaults", "campaigns", "salt", "learning"}))]
    # learning is set in campaigns.yaml, beside the campaigns
    rows += [("campaigns", f"learning.{change}")
             for change in fields_changed(cb.learning, ca.learning)]
    rows += keyed("channel", by_id(cb.channels), by_id(ca.channels),
                  fixed(base, CHANNELS), fixed(prop, CHANNELS), ordered=True)
    rows += [("campaign defaults", change) for change in fields_changed(
        cb.defaults, ca.defaults) + ([f"salt: {cb.salt} -> {ca.salt}"]
                                     if cb.salt != ca.salt else [])]
    rows += keyed("campaign", dict(cb.campaigns), dict(ca.campaigns),
                  fixed(base, CAMPAIGNS), fixed(prop, CAMPAIGNS))
    return rows + value_model(before, after)


def value_model(before: Computed, after: Computed) -> list[Row]:
    """The value model each side used, when they differ: models.use auto can choose another
    purchase model after any change to the data's periods (a horizon, a time unit), and every
    potential value moves with it."""
    mb, ma = before.scored.model, after.scored.model
    if (mb.used, mb.transaction_model) == (ma.used, ma.transaction_model):
        return []

    def name(model: ModelFit) -> str:
        return TITLES[model.transaction_model] if model.used else "formulas"

    why = ma.reason if not ma.used else ma.choice if ma.transaction_model == "sbg" else \
        f"chosen by models.use auto: {ma.choice}" if ma.choice else \
        f"models.use {after.config.models.use}"
    return [("value model", f"{name(mb)} -> {name(ma)} ({why})")]
