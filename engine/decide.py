"""Decide what to do per customer: durable-rules decides, once per distinct case.

The YAML conditions are compiled to durable-rules rulesets (one for the lifecycle rules, one for
the policies) by building ``durable.lang`` expressions in code; no user text is ever evaluated.

Speed: durable-rules handles about 7-20k messages per second. Customers whose attributes fall in
the same interval between a rule's thresholds (missing counts as its own interval, text as the
named values or "any other") get the same answer, so each rule is asked once per distinct case
of *its own* attributes, with a real customer of that case as the message, and the answer is
broadcast back to all customers of the case (``Matcher.match_table``). ``decide_one_by_one``
posts every customer separately: the reference the identity test compares against.

durable-rules 2.0.28 behaviours this module designs around:
- ``Host()`` starts timer threads that run actions later: ``_QuietHost`` does not start them.
- An event is consumed by the first rule that fires; we assert *facts*, so every matching rule
  fires, each in its own session (a fresh ``sid``, deleted right after), so fact ids can't
  collide; no id comes from user data.
- An unmatched message raises: a catch-all rule matches every message.
- A rule with only negative tests can match internal state: every rule starts with ``+case``.
- Its JSON reader rejects numbers with an exponent, which Python writes for small and large
  floats (1e-05, 1e+16): we write every number of a message ourselves, as a double without
  exponent, and the parser keeps thresholds in the range Python writes without one.
- It compares text with numbers as strings ('abc' > 1): values are normalised first (wrong type
  = missing), so a comparison never sees the wrong type.
- Property names are hashed to 32 bits: our message keys are checked to be collision-free.
"""

from __future__ import annotations

import itertools
import json
import operator
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import durable_rules_engine as dre
import numpy as np
import numpy.typing as npt
import pandas as pd
from durable import engine as dr_engine
from durable import lang

from engine.conditions import (
    BOOLEAN,
    DATE,
    MISSING,
    NUMBER,
    TEXT,
    AllOf,
    Always,
    AnyOf,
    Compare,
    Condition,
    Not,
    attributes,
    normalize,
    thresholds,
)
from engine.errors import InputError, Problem
from engine.rulebook import DEFAULT_SERVICE_LEVEL, NO_ACTION, Policy, Rulebook, arbitration_key

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
NONE = -1  # index of "no rule/policy"
DECISION_COLUMNS = ("customer_id", "lifecycle_stage", "stage_rule", "action", "policy_id",
                    "priority", "service_level", "service_policy", "offer", "channels",
                    "campaign", "reason")


class _QuietHost(dr_engine.Host):  # type: ignore[misc]
    """A durable-rules host without the background timer threads (we never use timers)."""

    def _run(self) -> None:
        pass


def _djb2(name: str) -> int:
    """durable-rules' hash of a property name."""
    value = 5381
    for byte in name.encode():
        value = (value * 33 + byte) & 0xFFFFFFFF
    return value


def _number(value: float) -> str:
    """A double as durable-rules' JSON reader reads it exactly: with a point, no exponent."""
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text if "." in text else text + ".0"


class Matcher:
    """One durable-rules ruleset: rule i is condition i; also a catch-all rule."""

    def __init__(self, name: str, conditions: Sequence[Condition]) -> None:
        self.conditions = tuple(conditions)
        self.kinds: dict[str, str] = {}
        for cond in self.conditions:
            self.kinds.update(attributes(cond))
        self.keys = {name: f"a{i}" for i, name in enumerate(self.kinds)}
        names = ["sid", "id", "case", *self.keys.values()]
        if len({_djb2(n) for n in names}) != len(names):  # pragma: no cover - checked by tests
            raise RuntimeError("durable-rules property names collide")
        self.cuts = thresholds(self.conditions)
        self._hits: list[int] = []
        self._sids = itertools.count(1)
        self.posts = 0  # messages posted to durable-rules so far (reported by the benchmark)
        self._lock = threading.Lock()
        definition = {f"r{i}": self._rule(cond, i) for i, cond in enumerate(self.conditions)}
        definition["catch_all"] = self._rule(Always(), NONE)
        self._host = _QuietHost()
        try:
            self._host.register_rulesets({name: definition})
        except Exception as exc:  # the engine's limits on one compiled condition
            raise InputError(Problem(f"durable-rules could not compile the {name} ({exc})",
                                     hint="simplify deeply nested any/not conditions")) from None
        self._ruleset = self._host.get_ruleset(name)

    def _rule(self, cond: Condition, index: int) -> Any:
        expr = _compile(cond, self.keys, positive=True)
        case = +lang.value("$m", "case")
        hits = self._hits
        rule = lang.when_all(case if expr is None else case & expr)
        rule(lambda c: hits.append(index))  # results are collected inside the action
        return rule.define()

    def close(self) -> None:
        """Free the engine's ruleset (the cache calls this when it drops a matcher)."""
        dre.delete_ruleset(self._ruleset._handle)

    # -- one customer ----------------------------------------------------------------------

    def match_record(self, record: Mapping[str, Any]) -> frozenset[int]:
        """Indices of the conditions that hold for one customer, as durable-rules decides."""
        return self._post({a: normalize(record.get(a), k) for a, k in self.kinds.items()})

    def _post(self, values: Mapping[str, Any]) -> frozenset[int]:
        parts = []
        for attr, value in values.items():
            if value is MISSING:
                continue  # missing (or wrong-typed): absent from the message
            kind = self.kinds[attr]
            if kind == NUMBER:
                text = _number(value)
            elif kind == TEXT:
                text = json.dumps(value, ensure_ascii=False)
            else:  # boolean; a date only needs to be present
                text = "true" if (value if kind == BOOLEAN else True) else "false"
            parts.append(f'"{self.keys[attr]}":{text}')
        rules = self._ruleset
        with self._lock:
            sid = str(next(self._sids))
            message = "{" + ",".join([f'"sid":"{sid}"', '"id":"1"', '"case":1', *parts]) + "}"
            self._hits.clear()
            self.posts += 1
            self._host._handle_function(
                rules, lambda text: rules._handle_result(dre.assert_fact(rules._handle, text),
                                                         text), message, None)
            rules.delete_state(sid)
            hits = set(self._hits)
        if NONE not in hits:  # pragma: no cover - the catch-all always fires
            raise RuntimeError(f"durable-rules did not run the catch-all rule for {message}")
        hits.discard(NONE)
        return frozenset(hits)

    # -- a whole table ---------------------------------------------------------------------

    def match_table(self, table: pd.DataFrame) -> Bools:
        """Boolean matrix (customers x conditions): durable-rules asked once per distinct case.

        Conditions reading the same attributes share their cases; each case is answered by
        posting one real customer of it, and the answer is broadcast to the whole case.
        """
        n = len(table)
        out = np.zeros((n, len(self.conditions)), dtype=bool)
        codes = {a: _codes(table.get(a), k, self.cuts.get(a, ()), n)
                 for a, k in self.kinds.items()}
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, cond in enumerate(self.conditions):
            groups.setdefault(tuple(attributes(cond)), []).append(i)
        for attrs, rule_ids in groups.items():
            if n == 0:
                continue
            key, size = _case_keys([codes[a] for a in attrs], n)
            if size <= max(4 * n, 1 << 20):  # a dense table of cases: no sort needed
                rep = np.full(size, -1, dtype=np.int64)
                rep[key] = np.arange(n)  # any customer of a case represents it
                cases = np.flatnonzero(rep >= 0)
            else:
                _, rep, key = np.unique(key, return_index=True, return_inverse=True)
                size = len(rep)
                cases = np.arange(size)
            answers = np.zeros((size, len(rule_ids)), dtype=bool)
            rows = rep[cases]  # the customers that represent the cases, all columns at once
            picked = {a: table[a].iloc[rows].tolist() if a in table else [None] * len(rows)
                      for a in attrs}
            for j, case in enumerate(cases):
                hits = self._post({a: normalize(picked[a][j], self.kinds[a]) for a in attrs})
                answers[case] = [i in hits for i in rule_ids]
            out[:, rule_ids] = answers[key]
        return out


def _case_keys(parts: Sequence[tuple[Ints, int]], n: int) -> tuple[Ints, int]:
    """One integer per customer naming its combination of codes, and the number of keys."""
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for codes, radix in parts:
        if size * radix >= 1 << 62:  # re-number the combinations seen so far
            uniques, key = np.unique(key, return_inverse=True)
            size = len(uniques)
        key = key * radix + codes
        size *= radix
    return key, size


def _codes(series: pd.Series | None, kind: str, cuts: tuple[Any, ...],
           n: int) -> tuple[Ints, int]:
    """Per customer, the case of one attribute: 0 = missing, then the intervals or values.

    Numbers: with thresholds t1 < ... < tk, code 1 is below t1, 2 is t1 exactly, 3 between t1
    and t2, ... 2k+1 above tk. Text and booleans: 1 + index among the values the conditions
    name, or 1 + their count for any other value. Dates: 1 = present.
    """
    if series is None:
        return np.zeros(n, dtype=np.int64), 1
    if kind == NUMBER:
        values, valid = _numbers(series)
        edges = np.array(cuts, dtype=np.float64)
        codes = 1 + np.searchsorted(edges, values, "left") + np.searchsorted(edges, values,
                                                                             "right")
        return np.where(valid, codes, 0).astype(np.int64), 2 * len(edges) + 2
    named = {v: i + 1 for i, v in enumerate(cuts)}
    other = len(named) + 1
    # codes run from 0 to radix - 1; a boolean is coded 1/2 whatever values are named
    radix = {BOOLEAN: 3, DATE: 2}.get(kind, other + 1)

    def code(value: Any) -> int:
        value = normalize(value, kind)
        if value is MISSING:
            return 0
        if kind == DATE:
            return 1
        return named.get(value, other) if kind == TEXT else (2 if value else 1)

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        table = np.array([code(c) for c in dtype.categories] + [0], dtype=np.int64)
        return table[series.cat.codes.to_numpy()], radix
    fast = _uniform(series, kind)
    if kind == DATE and fast:
        return series.notna().to_numpy().astype(np.int64), radix
    if fast:  # every value is of the right type, or null: factorize, then code the uniques
        inverse, uniques = pd.factorize(series, use_na_sentinel=True)
        table = np.array([code(u) for u in uniques] + [0], dtype=np.int64)
        return table[inverse], radix
    if not _is_object(dtype):  # a whole column of the wrong type: all missing
        return np.zeros(n, dtype=np.int64), radix
    codes = np.fromiter((code(v) for v in series.to_numpy()), dtype=np.int64, count=n)
    return codes, radix


def _is_object(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _uniform(series: pd.Series, kind: str) -> bool:
    """True when every non-null value of the column has the attribute's type."""
    dtype = series.dtype
    if kind == DATE:
        return bool(pd.api.types.is_datetime64_any_dtype(dtype))
    if _is_object(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return inferred in ({"string", "empty"} if kind == TEXT else {"boolean", "empty"})
    if kind == TEXT:
        return bool(pd.api.types.is_string_dtype(dtype))
    return bool(pd.api.types.is_bool_dtype(dtype))


def _numbers(series: pd.Series) -> tuple[npt.NDArray[np.float64], Bools]:
    dtype = series.dtype
    numeric = (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
               and not pd.api.types.is_complex_dtype(dtype))
    if _is_object(dtype):
        numeric = pd.api.types.infer_dtype(series, skipna=True) in (
            "integer", "floating", "mixed-integer-float", "empty")
    if numeric:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isfinite(values)
    if not _is_object(dtype):  # booleans, dates, text dtypes: never numbers
        return np.zeros(len(series)), np.zeros(len(series), dtype=bool)
    normal = [normalize(v, NUMBER) for v in series.to_numpy()]
    values = np.array([np.nan if v is MISSING else v for v in normal], dtype=np.float64)
    return values, np.array([v is not MISSING for v in normal], dtype=bool)


# --- compiling conditions to durable.lang expressions --------------------------------------


def _compile(cond: Condition, keys: Mapping[str, str], *, positive: bool) -> Any:
    """The condition (or its negation) as a durable.lang expression; None for "always".

    Negation is pushed down to the leaves (De Morgan), because durable-rules has no
    expression-level ``not``; a negated leaf spells out our missing-value semantics.
    """
    if isinstance(cond, Always):
        if not positive:
            raise ValueError("`not always` cannot be compiled")  # the parser never makes it
        return None
    if isinstance(cond, Not):
        return _compile(cond.item, keys, positive=not positive)
    if isinstance(cond, (AllOf, AnyOf)):
        parts = [_compile(item, keys, positive=positive) for item in cond.items]
        conjunction = isinstance(cond, AllOf) == positive
        return _join(parts, conjunction)
    return _leaf(cond, lang.value("$m", keys[cond.attribute]), positive)


def _join(parts: Sequence[Any], conjunction: bool) -> Any:
    out = parts[0]
    for part in parts[1:]:
        out = (out & part) if conjunction else (out | part)
    return out


def _leaf(leaf: Compare, x: Any, positive: bool) -> Any:
    """``x`` is present and passes the test; negated: ``x`` is missing, or fails the test."""
    op, operand = leaf.op, leaf.operand
    if op in ("exists", "missing"):
        return +x if (op == "exists") == positive else -x
    values: tuple[Any, ...] = operand if isinstance(operand, tuple) else (operand,)
    alternatives: list[list[Any]]  # or of ands, each and-ed with "x is present"
    if op == "between":
        low, high = values
        alternatives = [[x >= low, x <= high]] if positive else [[x < low], [x > high]]
    elif op in ("eq", "in", "ne", "not_in"):
        equal = [[x == v] for v in values]
        differ = [[x != v for v in values]]
        alternatives = equal if (op in ("eq", "in")) == positive else differ
    else:
        alternatives = [[_ORDER[op if positive else _FLIP[op]](x, values[0])]]
    return _present_and(x, alternatives, positive)


_ORDER = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}
_FLIP = {"lt": "gte", "lte": "gt", "gt": "lte", "gte": "lt"}


def _present_and(x: Any, alternatives: list[list[Any]], positive: bool) -> Any:
    """(+x and all of alt1) or (+x and all of alt2) ...; when negated, or-ed with -x."""
    branches = [_join([+x, *tests], True) for tests in alternatives]
    if not positive:
        branches.insert(0, -x)
    return _join(branches, False)


# --- cache: one compiled ruleset per distinct list of conditions ---------------------------

_CACHE: OrderedDict[tuple[str, tuple[Condition, ...]], Matcher] = OrderedDict()
_CACHE_SIZE = 16
_CACHE_LOCK = threading.Lock()


def matcher(kind: str, conditions: Sequence[Condition]) -> Matcher:
    """The compiled ruleset for these conditions (built once, kept for the process)."""
    key = (kind, tuple(conditions))
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _CACHE[key] = Matcher(f"cvm_{kind}", key[1])
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)[1].close()
        _CACHE.move_to_end(key)
        return found


def stage_matcher(rulebook: Rulebook) -> Matcher:
    return matcher("stages", [r.when for r in rulebook.stage_rules])


def policy_matcher(rulebook: Rulebook) -> Matcher:
    return matcher("policies", [p.when for p in rulebook.active_policies()])


# --- decisions -----------------------------------------------------------------------------


def decide(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The decision table: one row per customer, columns ``DECISION_COLUMNS``.

    Stages come from ``lifecycle_stage``/``stage_rule`` if the table has them, else from
    ``engine.lifecycle.assign_stages``. One primary action per customer (highest priority, ties
    by policy id), the service level decided on its own, and ``no_action`` with a reason where
    no policy matched. Text columns are pandas categoricals.
    """
    if "lifecycle_stage" not in table or "stage_rule" not in table:
        from engine.lifecycle import assign_stages

        table = assign_stages(table, rulebook)
    policies = rulebook.active_policies()
    matched = policy_matcher(rulebook).match_table(table)
    action = _winner(matched, [i for i, p in enumerate(policies) if p.action])
    service = _winner(matched, [i for i, p in enumerate(policies) if p.service_level])
    return decision_frame(table, policies, action, service)


def _winner(matched: Bools, columns: list[int]) -> Ints:
    """Per customer the first matching column among ``columns`` (policies are sorted)."""
    if not columns:
        return np.full(len(matched), NONE, dtype=np.int64)
    sub = matched[:, columns]
    first = np.asarray(columns, dtype=np.int64)[sub.argmax(axis=1)]
    return np.where(sub.any(axis=1), first, NONE)


def decide_one_by_one(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The reference: every customer posted to durable-rules on its own, no bucketing."""
    stages, policies = stage_matcher(rulebook), policy_matcher(rulebook)
    active = rulebook.active_policies()
    has_stage = "lifecycle_stage" in table and "stage_rule" in table
    stage_col: list[str] = []
    rule_col: list[str] = []
    action: list[int] = []
    service: list[int] = []
    for record in table.to_dict("records"):
        if has_stage:
            stage, rule = record["lifecycle_stage"], record["stage_rule"]
        else:
            first = rulebook.stage_rules[min(stages.match_record(record))]
            stage, rule = first.stage, first.id
        stage_col.append(stage)
        rule_col.append(rule)
        hits = policies.match_record({**record, "lifecycle_stage": stage})
        for dim, out in (("action", action), ("service_level", service)):
            found = [i for i in hits if getattr(active[i], dim)]
            out.append(min(found, key=lambda i: arbitration_key(active[i])) if found else NONE)
    staged = table if has_stage else table.assign(
        lifecycle_stage=pd.Categorical(stage_col), stage_rule=pd.Categorical(rule_col))
    return decision_frame(staged, active, np.array(action, dtype=np.int64),
                          np.array(service, dtype=np.int64))


def _labels(values: Sequence[str | None], index: Ints) -> pd.Categorical:
    """``values[i]`` for each i in ``index``; ``values[-1]`` is used for NONE (-1)."""
    categories = sorted({v for v in values if v is not None})
    lookup = np.array([NONE if v is None else categories.index(v) for v in values],
                      dtype=np.int64)
    return pd.Categorical.from_codes(lookup[index], categories=categories)


def reason(policy: Policy | None) -> str:
    """The reason column: which policy decided, and its description."""
    if policy is None:
        return "no policy matched"
    return f"{policy.id} (priority {policy.priority}): {policy.description}"


def decision_frame(table: pd.DataFrame, policies: Sequence[Policy], action: Ints,
                   service: Ints) -> pd.DataFrame:
    """Assemble the decision table from the winners' indices (NONE where nothing matched)."""
    def column(fn: Any, default: str | None) -> list[str | None]:
        return [fn(p) for p in policies] + [default]

    ids = table["customer_id"] if "customer_id" in table else pd.Series(table.index)
    priority = np.array([p.priority for p in policies] + [0], dtype=np.int64)[action]
    return pd.DataFrame({
        "customer_id": ids.array,  # .array: no index alignment, no dtype conversion
        "lifecycle_stage": table["lifecycle_stage"].array,
        "stage_rule": table["stage_rule"].array,
        "action": _labels(column(lambda p: p.action, NO_ACTION), action),
        "policy_id": _labels(column(lambda p: p.id, None), action),
        "priority": pd.arrays.IntegerArray(priority, action == NONE),
        "service_level": _labels(column(lambda p: p.service_level, DEFAULT_SERVICE_LEVEL),
                                 service),
        "service_policy": _labels(column(lambda p: p.id, None), service),
        "offer": _labels(column(lambda p: p.offer, None), action),
        "channels": _labels(column(lambda p: "|".join(p.channels), ""), action),
        "campaign": _labels(column(lambda p: p.campaign, None), action),
        "reason": _labels(column(reason, reason(None)), action),
    }, columns=list(DECISION_COLUMNS))
