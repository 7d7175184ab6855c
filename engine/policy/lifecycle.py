"""Lifecycle stages and segments from rules/: durable-rules decides, once per distinct case.

The rules of ``rules/lifecycle.yaml`` are tried in file order and the first that matches gives
the stage; the rulebook guarantees the last rule matches everyone, so every customer gets
exactly one stage and the id of the rule that gave it.

Segments (``rules/<name>.yaml``) come after the stage, so they may use ``lifecycle_stage``; a
customer can be in any number of them. Each becomes the true/false attribute
``segment_<id>`` that policies (and other segments) may test, and the text column
``segments`` lists them, joined by ``|``. A segment that tests other segments is decided after
them (the rulebook rejects cycles).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.policy.matcher import Matcher, Source, matcher
from engine.policy.matchers import stage_matcher
from engine.project.rulebook import Rulebook, StageRule
from engine.project.segments import Segment, segment_attribute

if TYPE_CHECKING:  # pandas where a table is read: compiling conditions needs none
    import pandas as pd


def assign_stages(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The table with ``lifecycle_stage``, ``stage_rule`` and the segments added."""
    import pandas as pd

    rules = rulebook.stage_rules
    (first,) = stage_matcher(rulebook).first_match(table, [[True] * len(rules)])
    if len(table) and (first < 0).any():  # pragma: no cover - the last rule is "always"
        raise RuntimeError("a customer matched no lifecycle rule")
    names = sorted({r.stage for r in rules})
    stage_codes = np.array([names.index(r.stage) for r in rules], dtype=np.int64)[first]
    ids = sorted(r.id for r in rules)
    rule_codes = np.array([ids.index(r.id) for r in rules], dtype=np.int64)[first]
    categories = [s for s in rulebook.stage_names if s in names]  # declared order
    stages = pd.Categorical.from_codes(stage_codes, categories=names)
    staged = table.assign(
        lifecycle_stage=stages.reorder_categories(categories),
        stage_rule=pd.Categorical.from_codes(rule_codes, categories=ids),
    )
    return assign_segments(staged, rulebook)


def stage_of(customer: Mapping[str, Any], rulebook: Rulebook) -> StageRule:
    """The rule that gives one customer its stage (durable-rules, no bucketing)."""
    hits = stage_matcher(rulebook).match_record(customer)
    return rulebook.stage_rules[min(hits)]


def _layers(rulebook: Rulebook) -> list[list[Segment]]:
    """Segments in the order they can be decided: those they test come first."""
    done: set[str] = set()
    left = list(rulebook.segments)
    layers: list[list[Segment]] = []
    while left:
        ready = [s for s in left if set(s.requires) <= done]
        if not ready:  # pragma: no cover - the rulebook rejects cycles
            raise RuntimeError("segments depend on each other in a cycle")
        layers.append(ready)
        done |= {s.id for s in ready}
        left = [s for s in left if s.id not in done]
    return layers


def _segment_matcher(segments: list[Segment]) -> Matcher:
    return matcher("segments", [s.when for s in segments],
                   [Source(s.file, s.line, s.column, f"segment {s.id!r}") for s in segments])


def segment_matchers(rulebook: Rulebook) -> list[Matcher]:
    """The compiled segments, one matcher per layer (see ``assign_segments``)."""
    return [_segment_matcher(layer) for layer in _layers(rulebook)]


def assign_segments(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The table with ``segment_<id>`` (true/false) per segment and ``segments`` (text)."""
    columns: dict[str, np.ndarray[Any, Any]] = {}
    work = table
    for layer in _layers(rulebook):
        matched = _segment_matcher(layer).match_table(work)
        found = {segment_attribute(s.id): matched[:, i] for i, s in enumerate(layer)}
        columns.update(found)
        work = work.assign(**found)
    # in order of id, not of declaration: moving a segment to another place or file changes
    # no output (and so `cvm plan`, which compares segments by id, agrees with the outputs)
    names = sorted(s.id for s in rulebook.segments)
    flags = np.column_stack([columns[segment_attribute(s)] for s in names]) if names else \
        np.zeros((len(table), 0), dtype=bool)
    return table.assign(**{segment_attribute(s): columns[segment_attribute(s)] for s in names},
                        segments=_joined(flags, names))


def _joined(flags: np.ndarray[Any, Any], names: list[str]) -> pd.Categorical:
    """Per customer the names of the true columns joined by ``|`` ("" for none)."""
    import pandas as pd

    if not names or not len(flags):
        return pd.Categorical([""] * len(flags))
    packed = np.packbits(flags, axis=1)
    rows = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    labels = ["|".join(n for n, on in zip(names, flags[i], strict=True) if on) for i in first]
    categories = sorted(set(labels))
    lookup = np.array([categories.index(label) for label in labels], dtype=np.int64)
    return pd.Categorical.from_codes(lookup[inverse.reshape(-1)], categories=categories)


def segments_of(customer: Mapping[str, Any], rulebook: Rulebook) -> dict[str, bool]:
    """One customer's segments (durable-rules, no bucketing), in declaration order."""
    found: dict[str, bool] = {}
    record = dict(customer)
    for layer in _layers(rulebook):
        hits = _segment_matcher(layer).match_record(record)
        for i, segment in enumerate(layer):
            found[segment.id] = i in hits
            record[segment_attribute(segment.id)] = i in hits
    return {s.id: found[s.id] for s in rulebook.segments}
