"""Which conditions hold for which customers: durable-rules decides, once per distinct case.

Each condition is compiled on its own (``engine.policy.compiled``: bounded rules, in layers, packed
into rulesets durable-rules accepts however the condition nests). Customers whose codes of the
attributes a condition reads (``engine.policy.cases``, cut at that condition's own thresholds) are
equal cannot be told apart by it, so durable-rules is asked once per distinct case and the
answer is broadcast to all customers of the case: the questions are bounded by the distinct
cases, never by the number of customers.

Arbitration only needs each customer's first matching condition (in priority order), so
``first_match`` asks each condition only about the customers still undecided: with thousands
of policies, most are asked about few customers. ``match_record`` asks about one customer
alone: the reference the identity test compares against.

The message of a case holds, per attribute, a real value of the case's interval (a customer's
with that code); every customer of the interval would get the same answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import InputError, Problem
from engine.policy.cases import (
    Bools,
    Ints,
    case_count,
    case_keys,
    case_space,
    codes,
    distinct,
    merged_reads,
    message_value,
    radix,
    reads_of,
    recode,
)
from engine.policy.compiled import (
    And,
    Expr,
    Or,
    Rule,
    RulesetError,
    Slot,
    Test,
    cut,
    expression,
    pack,
)
from engine.policy.compiled import part as part_test
from engine.policy.condition_reads import Memo, Reads
from engine.policy.rulesets import Question, SharedRuleset, build
from engine.project.conditions import (
    AllOf,
    AnyOf,
    Condition,
    Not,
    attributes,
    normalize,
    thresholds,
)

if TYPE_CHECKING:  # pandas where a table is read: compiling conditions needs none
    import pandas as pd


NONE = -1  # index of "no condition"


@dataclass(frozen=True)
class Source:
    """Where a condition was written, for messages: file, line, column and what it is."""

    file: str | None
    line: int | None
    column: int | None
    label: str


SPLIT = 512  # a condition whose attributes make more cases than this is asked in parts


@dataclass
class _Unit:
    """A condition (or a part of one) compiled: the attributes it reads, their re-coding to its
    own thresholds, the units whose true/false answers it reads (``("in", k)``), and its
    rulesets in layers (parts first)."""

    attrs: tuple[str, ...]
    recode: dict[str, Ints | None]
    radix: dict[str, int]
    children: list[_Unit] = field(default_factory=list)
    layers: list[list[Question]] = field(default_factory=list)


class Matcher:
    """The compiled rulesets of a list of conditions; condition i is ``conditions[i]``."""

    def __init__(self, name: str, conditions: Sequence[Condition],
                 sources: Sequence[Source] | None = None) -> None:
        self.name = name
        self.conditions = tuple(conditions)
        self.sources = tuple(sources) if sources is not None else None
        self.kinds: dict[str, str] = {}
        for cond in self.conditions:
            self.kinds.update(attributes(cond))
        self.cuts = thresholds(self.conditions)
        self.posts = 0  # messages posted to durable-rules so far (reported by the benchmarks)
        self._lock = threading.Lock()
        self.units: list[_Unit] = []
        self._questions: list[Question] = []
        self._owners: list[int] = []  # per question, the condition it belongs to
        shared: dict[Condition, _Unit] = {}  # the same condition twice is compiled once
        self._memo: Memo = {}  # each subtree's reads, found once (deep nesting was quadratic)
        for i, cond in enumerate(self.conditions):
            if cond not in shared:
                shared[cond] = self._compile(i, cond)
            self.units.append(shared[cond])
        try:
            self._rulesets: list[SharedRuleset] = build(self._questions)
        except RulesetError as exc:
            raise InputError([self._problem("cannot compile", exc, i) for i in
                              sorted({self._owners[q] for q in exc.rules})]) from None

    @property
    def rulesets(self) -> int:
        """How many durable-rules rulesets this matcher holds."""
        return len(self._rulesets)

    def _compile(self, index: int, cond: Condition) -> _Unit:
        """The condition as one unit, or, when its attributes make too many cases (each is a
        question to durable-rules), as a unit over the answers of units for its parts."""
        if isinstance(cond, (AllOf, AnyOf)) and case_space(cond, self._memo) > SPLIT:
            groups = _groups(cond, self._memo)
            if len(groups) == 1:
                return self._compile(index, groups[0])
            children = [self._compile(index, g) for g in groups]
            tests = tuple(Test(("in", k), "$eq", True) for k in range(len(children)))
            return self._build(index, {}, children,
                               And(tests) if isinstance(cond, AllOf) else Or(tests))
        if isinstance(cond, Not) and case_space(cond, self._memo) > SPLIT:
            child = self._compile(index, cond.item)
            return self._build(index, {}, [child], Test(("in", 0), "$eq", False))
        return self._build(index, attributes(cond), [], expression(cond), cond)

    def _build(self, index: int, found: Mapping[str, str], children: list[_Unit],
               whole: Expr | None, cond: Condition | None = None) -> _Unit:
        mine = thresholds([cond]) if cond is not None else {}
        attrs = tuple(sorted(found))
        unit = _Unit(attrs, {a: recode(found[a], self.cuts.get(a, ()), mine.get(a, ()))
                             for a in attrs},
                     {a: radix(found[a], mine.get(a, ())) for a in attrs}, children)
        parts: dict[Expr, int] = {}
        layer_of: dict[int, int] = {}
        by_layer: dict[int, list[Rule]] = {}

        def layer(expr: Expr | None) -> int:
            deps = [layer_of[s[1]] for s in _part_slots(expr)]
            return 1 + max(deps) if deps else 0

        def register(expr: Expr) -> Test:
            number = parts.get(expr)
            if number is None:
                number = parts[expr] = len(parts)
                layer_of[number] = layer(expr)
                by_layer.setdefault(layer_of[number], []).append(Rule(-1 - number, expr))
            return part_test(number)

        expr = cut(whole, register)
        by_layer.setdefault(layer(expr), []).append(Rule(0, expr))
        for number in sorted(by_layer):
            questions = [Question(tuple(rules)) for rules in pack(by_layer[number])]
            unit.layers.append(questions)
            self._questions += questions
            self._owners += [index] * len(questions)
        return unit

    def _problem(self, what: str, exc: RulesetError, index: int) -> Problem:
        """durable-rules refused something of ours: name the condition, with its line."""
        src = (self.sources[index] if self.sources else
               Source(None, None, None, f"condition {index}"))
        return Problem(
            f"durable-rules {what} {src.label} ({exc})", file=src.file, line=src.line,
            column=src.column, key="when",
            hint="a limit of the rule engine that cvm does not work around yet: please report "
            "it; meanwhile split the condition into simpler ones")

    def close(self) -> None:
        """Free the engine's rulesets (the cache calls this when it drops a matcher)."""
        for ruleset in self._rulesets:
            ruleset.close()
        self._rulesets = []

    # -- one case --------------------------------------------------------------------------

    def _answer(self, unit: _Unit, index: int, values: dict[Slot, str]) -> bool:
        """Whether a unit holds for one message (layer by layer)."""
        result = False
        for questions in unit.layers:
            for question in questions:
                try:
                    hits = question.post(values)
                except RulesetError as exc:
                    raise InputError(self._problem("cannot evaluate", exc, index)) from None
                with self._lock:
                    self.posts += 1
                for k, rule in enumerate(question.rules):
                    if rule.target >= 0:
                        result = k in hits
                    else:
                        values[("part", -1 - rule.target)] = "true" if k in hits else "false"
        return result

    def _record(self, unit: _Unit, index: int, texts: Mapping[str, str | None]) -> bool:
        values: dict[Slot, str] = {("attr", a): t for a in unit.attrs
                                   if (t := texts[a]) is not None}
        for k, child in enumerate(unit.children):
            values[("in", k)] = "true" if self._record(child, index, texts) else "false"
        return self._answer(unit, index, values)

    def match_record(self, record: Mapping[str, object]) -> frozenset[int]:
        """Indices of the conditions that hold for one customer, as durable-rules decides."""
        texts: dict[str, str | None] = {
            a: message_value(normalize(record.get(a), k), k) for a, k in self.kinds.items()}
        return frozenset(i for i, unit in enumerate(self.units)
                         if self._record(unit, i, texts))

    # -- a whole table ---------------------------------------------------------------------

    def coded(self, table: pd.DataFrame) -> _Coded:
        """The table's codes per attribute and a message text per code (computed once)."""
        n = len(table)
        found: dict[str, Ints] = {}
        texts: dict[str, list[str | None]] = {}
        for attr, kind in self.kinds.items():
            column = table.get(attr)
            values, size = codes(column, kind, self.cuts.get(attr, ()), n)
            found[attr] = values
            text: list[str | None] = [None] * size
            texts[attr] = text
            if column is None:
                continue
            first = np.full(size, -1, dtype=np.int64)
            # one customer per code (whichever: every value of a code gets the same answers)
            first[values[::-1]] = np.arange(n - 1, -1, -1)
            present = np.flatnonzero(first >= 0)
            raw = column.iloc[first[present]].tolist()
            for code, value in zip(present.tolist(), raw, strict=True):
                text[code] = message_value(normalize(value, kind), kind)
        return _Coded(n, found, texts)

    def holds(self, index: int, coded: _Coded, rows: Ints | None = None) -> Bools:
        """Whether condition ``index`` holds for each customer of ``rows`` (default: all)."""
        return self._holds(self.units[index], index, coded, rows)

    def _holds(self, unit: _Unit, index: int, coded: _Coded, rows: Ints | None) -> Bools:
        m = coded.n if rows is None else len(rows)
        parts = []
        for attr in unit.attrs:
            local = coded.codes[attr] if rows is None else coded.codes[attr][rows]
            table = unit.recode[attr]
            parts.append((local if table is None else table[local], unit.radix[attr]))
        inputs = [self._holds(child, index, coded, rows) for child in unit.children]
        parts += [(answer.astype(np.int64), 2) for answer in inputs]
        key, size = case_keys(parts, m)
        case, reps = distinct(key, size)
        answers = np.zeros(len(reps), dtype=bool)
        picked = (reps if rows is None else rows[reps]).tolist()
        for j, (pos, row) in enumerate(zip(reps.tolist(), picked, strict=True)):
            values: dict[Slot, str] = {}
            for attr in unit.attrs:
                text = coded.texts[attr][coded.codes[attr][row]]
                if text is not None:
                    values[("attr", attr)] = text
            for k, answer in enumerate(inputs):
                values[("in", k)] = "true" if answer[pos] else "false"
            answers[j] = self._answer(unit, index, values)
        return answers[case]

    def match_table(self, table: pd.DataFrame) -> Bools:
        """Boolean matrix (customers x conditions)."""
        coded = self.coded(table)
        out = np.zeros((len(table), len(self.conditions)), dtype=bool)
        for i in range(len(self.conditions)):
            out[:, i] = self.holds(i, coded)
        return out

    def counts(self, table: pd.DataFrame) -> Ints:
        """How many customers each condition matches."""
        coded = self.coded(table)
        return np.array([int(self.holds(i, coded).sum()) for i in range(len(self.conditions))],
                        dtype=np.int64)

    def first_match(self, table: pd.DataFrame,
                    eligible: Sequence[Sequence[bool]]) -> list[Ints]:
        """Per eligibility list, each customer's first matching eligible condition (or NONE).

        Conditions are asked in order, each only about the customers still undecided in a
        list it is eligible for; decided customers drop out.
        """
        coded = self.coded(table)
        n = coded.n
        best: list[Ints] = [np.full(n, NONE, dtype=np.int64) for _ in eligible]
        undecided = [np.ones(n, dtype=bool) for _ in eligible]
        # undecided, per list and in at least one list
        alive: list[Ints] = [np.arange(n, dtype=np.int64) for _ in eligible]
        either: Ints = np.arange(n, dtype=np.int64)
        rows: Ints
        for i in range(len(self.conditions)):
            lists = [d for d, allowed in enumerate(eligible) if allowed[i] and len(alive[d])]
            if not lists:
                continue
            if len(lists) == 1:
                rows = alive[lists[0]]
            elif len(lists) == len(eligible):
                rows = either
            else:
                rows = np.flatnonzero(np.stack([undecided[d] for d in lists]).any(axis=0)
                                      ).astype(np.int64, copy=False)
            hit = rows[self.holds(i, coded, rows)]
            if not len(hit):
                continue
            for d in lists:
                newly = hit[undecided[d][hit]]
                best[d][newly] = i
                undecided[d][newly] = False
                alive[d] = alive[d][undecided[d][alive[d]]]
            if len(eligible) > 1:
                either = either[np.stack([u[either] for u in undecided]).any(axis=0)]
        return best


@dataclass(frozen=True)
class _Coded:
    n: int
    codes: dict[str, Ints]
    texts: dict[str, list[str | None]]


def _groups(cond: AllOf | AnyOf, memo: Memo | None = None) -> list[Condition]:
    """The items of an all/any, neighbours packed together while their cases stay few."""
    kind = type(cond)
    out: list[list[Condition]] = []
    current: Reads = {}
    for item in cond.items:
        mine = reads_of(item, memo)
        joined = merged_reads(current, mine)
        if out and case_count(joined) <= SPLIT:
            out[-1].append(item)
            current = joined
        else:
            out.append([item])
            current = mine
    return [group[0] if len(group) == 1 else kind(tuple(group)) for group in out]


def _part_slots(expr: Expr | None) -> list[Slot]:
    if expr is None:
        return []
    if isinstance(expr, Test):
        return [expr.slot] if expr.slot[0] == "part" else []
    return [s for item in expr.items for s in _part_slots(item)]


# --- cache: one compiled matcher per distinct list of conditions ---------------------------

_Key = tuple[str, tuple[Condition, ...], tuple[Source, ...] | None]
_CACHE: OrderedDict[_Key, Matcher] = OrderedDict()
_CACHE_MATCHERS = 32
_CACHE_RULESETS = 4_000  # about 150 KB each once asked (durable-rules holds at most 131,071)
_CACHE_LOCK = threading.Lock()


def matcher(kind: str, conditions: Sequence[Condition],
            sources: Sequence[Source] | None = None) -> Matcher:
    """The compiled rulesets for these conditions (built once, kept while there is room)."""
    key: _Key = (kind, tuple(conditions), None if sources is None else tuple(sources))
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _CACHE[key] = Matcher(f"cvm_{kind}", key[1], key[2])
            while len(_CACHE) > 1 and (len(_CACHE) > _CACHE_MATCHERS or sum(
                    m.rulesets for m in _CACHE.values()) > _CACHE_RULESETS):
                _CACHE.popitem(last=False)[1].close()
        _CACHE.move_to_end(key)
        return found
