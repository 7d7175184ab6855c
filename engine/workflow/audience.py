"""Audience sizes (``cvm validate --audience``): how many of today's customers each lifecycle
rule, segment and policy matches and wins, without writing a run.

Counts come from the durable-rules decision path of ``cvm run`` (``Matcher.counts`` asks once
per distinct case and sums one condition at a time: no customers x policies matrix).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from engine.activation.preferences import unmatched_preferences
from engine.errors import InputError, Problem, did_you_mean
from engine.policy.decisions import decide, policy_matcher, stage_matcher
from engine.project.conditions import AllOf, AnyOf, Compare, Condition, Not
from engine.project.project import Project
from engine.project.rulebook import Rulebook
from engine.project.segments import segment_attribute
from engine.run.pipeline import Progress
from engine.run.pipeline import staged as staged_table
from engine.value.features import last_purchase_day
from engine.value.score import Scored, score
from engine.words import counted


@dataclass(frozen=True)
class Row:
    kind: str  # "stage_rule", "segment" or "policy"
    id: str
    gives: str  # the stage, or what the policy does
    matches: int | None  # None: a disabled policy
    wins: int | None  # stage given / action won (None: the policy sets no action)
    service_wins: int | None = None  # service level won (None: it sets none)


@dataclass(frozen=True)
class Audience:
    customers: int
    as_of: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()  # what scoring said of the data (a default as-of date)
    warnings: tuple[Problem, ...] = ()  # values the conditions ask for that no one has
    last_purchase: dt.date | None = None  # the data's last purchase day (an as-of warning)
    dated_ahead: str = ""  # the rows dated after today (LoadReport.dated_ahead)
    # what `cvm run` would stop at after the decisions: the allocation, a brief's rendering
    errors: tuple[Problem, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"customers": self.customers, "as_of": self.as_of,
                "rows": [{"kind": r.kind, "id": r.id, "gives": r.gives, "matches": r.matches,
                          "wins": r.wins, "service_wins": r.service_wins} for r in self.rows]}

    def format(self) -> str:
        lines = [f"Audience sizes: {counted(self.customers, 'customer')} as of {self.as_of} "
                 "(matches: the condition holds; wins: it decides)"]
        lines += [f"note: {n}" for n in self.notes]
        titles = {"stage_rule": "Lifecycle rules, in file order",
                  "segment": "Segments", "policy": "Policies, highest priority first"}
        for kind, title in titles.items():
            rows = [r for r in self.rows if r.kind == kind]
            if not rows:
                continue
            head = "  {:<28} {:>10} {:>10}".format("", "matches", "wins")
            if kind == "policy":
                head += " {:>10}".format("service")
            lines += ["", title, head]
            for r in rows:
                text = (f"  {r.id:<28} {_n(r.matches):>10} {_n(r.wins):>10}"
                        + (f" {_n(r.service_wins):>10}" if kind == "policy" else "")
                        + f"  {r.gives}")
                lines.append(text)
        return "\n".join(lines)


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.astype(object).value_counts().items()}


def audience(setup: Project, progress: Progress | None = None) -> Audience:
    """How many customers each stage rule, segment and policy matches and wins
    (``cvm validate --audience``)."""
    rulebook = setup.rulebook
    scored = score(setup.config, progress=progress, tiers=setup.tiers)
    # the table `cvm run` decides on (with what changed since the last run) and its decisions,
    # from its code, staged and decided once; and what the run stops at after deciding
    staged, decisions, stops = _as_run(setup, scored)
    rule_matches = stage_matcher(rulebook).counts(staged)
    given = _counts(staged["stage_rule"])
    rows = [Row("stage_rule", r.id, f"-> {r.stage}", int(rule_matches[i]), given.get(r.id, 0))
            for i, r in enumerate(rulebook.stage_rules)]
    rows += [Row("segment", s.id, s.description or "",
                 int(staged[segment_attribute(s.id)].sum()), None)
             for s in rulebook.segments]
    active = rulebook.active_policies()
    matches = dict(zip([p.id for p in active],
                       policy_matcher(rulebook).counts(staged).tolist(), strict=True))
    action_wins, service_wins = _counts(decisions["policy_id"]), _counts(
        decisions["service_policy"])
    for pol in rulebook.policies:
        does = ([f"action {pol.action}"] if pol.action else []) + (
            [f"service {pol.service_level}"] if pol.service_level else [])
        on = pol.enabled
        rows.append(Row("policy", pol.id, f"priority {pol.priority}: " + ", ".join(does)
                        + ("" if on else " (disabled)"),
                        matches.get(pol.id) if on else None,
                        action_wins.get(pol.id, 0) if on and pol.action else None,
                        service_wins.get(pol.id, 0) if on and pol.service_level else None))
    # what `cvm run` notes of the data too (the customers file's ids, duplicates, ...)
    report = scored.report
    notes = (report.margin_note, report.as_of_note, report.files_note, *report.notes,
             unmatched_preferences(staged["preferred_channel"], setup.channels))
    return Audience(len(staged), str(scored.as_of), tuple(rows), tuple(n for n in notes if n),
                    tuple(unseen_values(setup, staged)), last_purchase_day(scored.table),
                    scored.report.dated_ahead, tuple(stops))


def _as_run(setup: Project, scored: Scored) -> tuple[pd.DataFrame, pd.DataFrame,
                                                    list[Problem]]:
    """The staged table and decisions `cvm run` computes, and the problems it meets after
    deciding, on this data: its allocation (a value at stake the model could not give) and
    every brief rendered on today's figures (a template dividing by a count that is 0 for one
    campaign); none when it would write them all."""
    from engine.render.briefs import render_briefs
    from engine.run.pipeline import compute

    try:
        comp = compute(setup, scored=scored)
    except InputError as exc:  # stopped after deciding: staged and decided again, for counts
        staged = staged_table(setup.config, setup, scored)
        return staged, decide(staged, setup.rulebook), list(exc.problems)
    run = {"run_id": "(validate)", "as_of": str(scored.as_of),
           "currency": setup.config.currency, "project": setup.config.name}
    try:
        render_briefs(setup.templates, comp.actions.assign(run_id=run["run_id"]),
                      setup.rulebook, setup.channels, run=run)
    except InputError as exc:
        return comp.table, comp.decisions, list(exc.problems)
    return comp.table, comp.decisions, []


def unreached_rules(rulebook: Rulebook, sizes: Audience) -> list[Problem]:
    """A warning, at its file and line, for each lifecycle rule that today's customers match
    but that gives none of them a stage (the rules above it take them all first): the data's
    counterpart of ``cvm validate``'s "can never give a stage", which holds for any data."""
    wins = {r.id: r for r in sizes.rows if r.kind == "stage_rule"}
    out = []
    for i, rule in enumerate(rulebook.stage_rules):
        row = wins.get(rule.id)
        if row is not None and row.matches and not row.wins:
            out.append(Problem(
                f"rule {rule.id!r} matches {row.matches:,} of today's customers but gives none "
                "of them a stage: the rules above it match them all first", file=rule.file,
                line=rule.line, column=rule.column, key=f"rules[{i}]",
                hint="if it should give them a stage, move it up or change its conditions or "
                "those of the rules above it; a rule kept last on purpose, for customers the "
                "rules above may leave, can stay",
                severity="warning"))
    return out


def unseen_values(setup: Project, staged: pd.DataFrame) -> list[Problem]:
    """A warning for each value of a customers-file text attribute (``data.attributes``, and
    ``preferred_channel``) that a condition asks for (``Region: North``, ``in: [...]``) and no
    customer has today: text is compared exactly, so the rule matches nobody, silently (the
    data says ``north``)."""
    texts = {a for a, kind in setup.config.data.attributes.items() if kind == "text"}
    if "preferred_channel" in setup.config.data.customer_columns:  # the customers file's too
        texts.add("preferred_channel")
    seen: dict[str, list[str]] = {}
    out = []
    book = setup.rulebook
    for what, items in (("lifecycle rule", book.stage_rules), ("segment", book.segments),
                        ("policy", [p for p in book.policies if p.enabled])):
        for item in items:
            said = set()
            for leaf in _leaves(item.when):
                if leaf.attribute not in texts or leaf.op not in ("eq", "ne", "in", "not_in") \
                        or leaf.attribute not in staged:
                    continue
                values = seen.setdefault(leaf.attribute, sorted(
                    str(v) for v in pd.unique(staged[leaf.attribute].dropna())))
                asked = leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,)
                for value in asked:
                    if str(value) in values or (leaf.attribute, value) in said:
                        continue
                    said.add((leaf.attribute, value))
                    shown = ", ".join(repr(v) for v in values[:10]) + \
                        (" ..." if len(values) > 10 else "")
                    line, column = leaf.spot if leaf.spot[0] is not None else \
                        getattr(item, "spots", {}).get("when", (item.line, None))
                    out.append(Problem(
                        f"{what} {item.id!r}: no customer today has {leaf.attribute} "
                        f"{value!r} (values seen: {shown or 'none'})", file=item.file,
                        line=line, column=column, key=leaf.where, severity="warning",
                        hint=did_you_mean(str(value), values) or "text is compared exactly, "
                        "case included: check the value against the customers file"))
    return out


def _leaves(cond: Condition) -> list[Compare]:
    if isinstance(cond, Compare):
        return [cond]
    if isinstance(cond, (AllOf, AnyOf)):
        return [leaf for item in cond.items for leaf in _leaves(item)]
    if isinstance(cond, Not):
        return _leaves(cond.item)
    return []
