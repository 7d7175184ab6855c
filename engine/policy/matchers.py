"""The rulebook's conditions as durable-rules matchers: the stage rules and the policies.

The YAML conditions are compiled to durable-rules rulesets (``engine.policy.compiled``: bounded
rules that durable-rules accepts however the conditions nest and however many there are) and asked
once per distinct case of the attributes each condition reads (``engine.policy.matcher``); no user
text is ever evaluated. ``decide_one_by_one`` posts every customer separately: the reference
the identity test compares against.

durable-rules 2.0.28 behaviours designed around (details in ``engine.policy.compiled`` and
``engine.policy.rulesets``):
- ``Host()`` starts timer threads that run actions later: we call its engine directly, run
  no Python actions and start no thread.
- An event is consumed by the first rule that fires; we assert *facts*, so every matching rule
  fires, and retract each after its rules fired, so no state accumulates and the one fact id
  in use is never taken by another fact (fact ids are hashed to 32 bits).
- An unmatched message raises: a sink rule matches every message.
- A rule with only negative tests can match the session's own state: every rule starts with
  ``+case``, which only our messages have.
- Rule size, stack depth, children per node and properties per message are limited: the
  compiler stays within them by construction.
- Its JSON reader rejects numbers with an exponent: every number of a message is written as a
  double without exponent, and the parser keeps thresholds in the range Python writes without
  one.
- It compares text with numbers as strings ('abc' > 1): values are normalised first (wrong type
  = missing), so a comparison never sees the wrong type.
- Property names are hashed to 32 bits: the names we use (sid, id, case, u, p0, p1, ...) are
  checked by a test to have distinct hashes.
"""

from __future__ import annotations

from engine.policy.matcher import Matcher, Source, matcher
from engine.project.rulebook import Rulebook


def stage_matcher(rulebook: Rulebook) -> Matcher:
    rules = rulebook.stage_rules
    return matcher("stages", [r.when for r in rules],
                   [Source(r.file, r.line, r.column, f"lifecycle rule {r.id!r}") for r in rules])


def policy_matcher(rulebook: Rulebook) -> Matcher:
    active = rulebook.active_policies()
    return matcher("policies", [p.when for p in active],
                   [Source(p.file, *p.spots.get("when", (p.line, None)), f"policy {p.id!r}")
                    for p in active])
