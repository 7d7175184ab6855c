"""durable-rules rulesets shared by many small questions, and how a message is posted.

Each question (a ``Question``: the rules one message asks, sized by ``engine.policy.compiled.pack``)
gets a number; its rules start with ``+case`` and ``u == number``, so a message carrying
``u: number`` reaches that question's rules only, whatever else the ruleset holds. Up to
``QUESTIONS`` questions share one ruleset: a durable-rules ruleset costs about 60 KB (150 KB
once asked), so 5,000 policies in one ruleset each would hold a gigabyte; more questions per
ruleset would make each message slower (durable-rules compares the selectors one by one).

A message is asserted as a *fact* (so every matching rule fires, not only the first) into the
ruleset's one session and retracted once its rules fired, so no state accumulates and no fact
id is reused while alive. No action runs Python code and no ``Host`` is made (it would start
timer threads): the fired rules are read back from the engine's result. A sink rule takes
every message, since durable-rules raises on a message no rule takes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import durable_rules_engine as dre

from engine.policy.compiled import And, Expr, Rule, RulesetError, Slot, Test, size

QUESTIONS = 32  # per ruleset: a message walks the selectors one by one (at most 511)
RULES = 3000  # per ruleset: durable-rules takes at most 4,096
KEYS = 100_000  # property names p0 ... (checked by a test to have distinct hashes)
LOCK = threading.RLock()  # durable-rules keeps its rulesets in global tables
_NAMES = itertools.count(1)


@dataclass(eq=False)
class Question:
    """The rules one message asks (``rules[i]`` is rule i); set up by ``build``."""

    rules: tuple[Rule, ...]
    number: int = -1
    ruleset: SharedRuleset | None = field(default=None, repr=False)
    slots: tuple[Slot, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        found: dict[Slot, None] = {}
        for rule in self.rules:
            found.update(dict.fromkeys(sorted(size(rule.expr).slots, key=repr)))
        self.slots = tuple(found)

    def post(self, values: Mapping[Slot, str]) -> set[int]:
        """Indices of the rules that hold for one message, as durable-rules decides."""
        assert self.ruleset is not None, "build() sets the ruleset up"
        return self.ruleset.post(self, values)


def build(questions: Sequence[Question]) -> list[SharedRuleset]:
    """Put the questions into as few rulesets as the limits allow.

    Should durable-rules refuse a ruleset, each of its questions is tried alone, and the
    error names the questions it refuses (``RulesetError.rules``: indices into
    ``questions``).
    """
    out: list[SharedRuleset] = []
    refused: list[int] = []
    messages: list[str] = []
    start = 0
    while start < len(questions):
        end, rules = start, 0
        while end < len(questions) and end - start < QUESTIONS and \
                rules + len(questions[end].rules) <= RULES:
            rules += len(questions[end].rules)
            end += 1
        end = max(end, start + 1)
        try:
            out.append(SharedRuleset(questions[start:end]))
        except RulesetError:
            for i in range(start, end):
                try:
                    out.append(SharedRuleset([questions[i]]))
                except RulesetError as exc:
                    refused.append(i)
                    messages.append(str(exc))
        start = end
    if refused:
        for ruleset in out:
            ruleset.close()
        raise RulesetError(messages[0], refused)
    return out


class SharedRuleset:
    """One durable-rules ruleset holding the rules of several questions."""

    def __init__(self, questions: Sequence[Question]) -> None:
        self.questions = tuple(questions)
        slots: dict[Slot, None] = {}
        for question in self.questions:
            slots.update(dict.fromkeys(question.slots))
        if len(slots) > KEYS:  # pragma: no cover - far beyond any rulebook
            raise RulesetError(f"{len(slots)} properties in one ruleset", [])
        self._keys = {slot: f"p{i}" for i, slot in enumerate(slots)}
        definition: dict[str, Any] = {}
        for number, question in enumerate(self.questions):
            for i, rule in enumerate(question.rules):
                definition[f"t{number}r{i}"] = {"all": [{"m": self._render(number, rule)}]}
        definition["s"] = {"all": [{"m": {"$ex": {"case": 1}}}]}  # every message is handled
        self.name = f"cvm{next(_NAMES)}"
        text = json.dumps(definition, ensure_ascii=False)
        with LOCK:
            try:
                self._handle = dre.create_ruleset(self.name, text)
            except Exception as exc:  # any refusal is reported with our rules
                raise RulesetError(str(exc), []) from None
        for number, question in enumerate(self.questions):
            question.number, question.ruleset = number, self

    def _render(self, number: int, rule: Rule) -> dict[str, Any]:
        # +case: never the session's own state; u: this question's rules only
        tests: list[dict[str, Any]] = [{"$ex": {"case": 1}}, {"u": number}]
        expr = rule.expr
        if expr is not None:
            tests += ([self._json(e) for e in expr.items] if isinstance(expr, And)
                      else [self._json(expr)])
        return {"$and": tests}

    def _json(self, expr: Expr) -> dict[str, Any]:
        if isinstance(expr, Test):
            key = self._keys[expr.slot]
            if expr.op in ("$ex", "$nex"):
                return {expr.op: {key: 1}}
            if expr.op == "$eq":
                return {key: expr.value}
            return {expr.op: {key: expr.value}}
        return {"$and" if isinstance(expr, And) else "$or": [self._json(e) for e in expr.items]}

    def post(self, question: Question, values: Mapping[Slot, str]) -> set[int]:
        keys = self._keys
        parts = "".join(f',"{keys[s]}":{values[s]}' for s in question.slots if s in values)
        message = f'{{"sid":"1","id":"1","case":1,"u":{question.number}{parts}}}'
        every = range(len(question.rules))
        hits: set[int] = set()
        sink = False
        prefix = f"t{question.number}r"
        with LOCK:
            try:
                result = dre.assert_fact(self._handle, message)
            except Exception as exc:  # any refusal is reported with our rules
                self._reset()
                raise RulesetError(str(exc), every) from None
            try:
                if result[0] != 0:  # 1: not handled, 2: already asserted
                    raise RulesetError(f"Could not assert fact, result code: {result[0]}", every)
                state = result[1]
                started = dre.start_action_for_state(self._handle, state)
                fired = started[1] if started else None
                while fired:
                    name = fired[2:fired.index('"', 2)]  # {"t3r12":{"m":{...}}}
                    if name == "s":
                        sink = True
                    elif name.startswith(prefix):
                        hits.add(int(name[len(prefix):]))
                    fired = dre.complete_and_start_action(self._handle, state)
            finally:
                try:
                    dre.retract_fact(self._handle, message)
                except Exception:  # not asserted after all: start the session afresh
                    self._reset()
        if not sink:  # pragma: no cover - the sink rule takes every message
            raise RulesetError("durable-rules did not handle a message", every)
        return hits

    def _reset(self) -> None:
        """Drop the session after a failed assert, so the next message starts clean."""
        with contextlib.suppress(Exception):  # there may be no session to drop
            dre.delete_state(self._handle, "1")

    def close(self) -> None:
        with LOCK:
            dre.delete_ruleset(self._handle)
