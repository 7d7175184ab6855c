"""Segments: named groups of customers in rules/<name>.yaml (every file there but
lifecycle.yaml and value_tiers.yaml).

A segment is the true/false attribute ``segment_<id>``: policies and other segments test it
like any attribute. A segment that tests others is decided after them, so they may not test
each other in a cycle; lifecycle rules cannot test segments (they are decided after the
stage).

    # rules/segments.yaml
    segments:
      - id: vip
        when: {value_tier: platinum}
      - id: vip_at_risk
        when:
          all:
            - segment_vip: true
            - recency_ratio: {gt: 1.5}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import Problem
from engine.project import checks as c
from engine.project.condition_parser import Parser
from engine.project.conditions import Condition, attributes
from engine.project.rulebook_io import ID, Raw, is_id, read
from engine.project.yamlio import Path_, YamlDoc

NOT_SEGMENTS = {"lifecycle.yaml", "value_tiers.yaml"}  # value tiers belong to the value stage
SEGMENT = c.Record([
    c.Field("id", ID), c.Field("description", c.Text(), ""), c.Field("when", Raw()),
], what="a segment")
SEGMENTS = c.Record([c.Field("segments", c.ListOf(SEGMENT, min_items=1))],
                    what="segment definitions")


@dataclass(frozen=True)
class Segment:
    """A named group of customers; policies test it as the attribute ``segment_<id>``."""

    id: str
    description: str
    when: Condition
    file: str
    line: int | None
    column: int | None = None
    requires: tuple[str, ...] = ()  # the segments its condition tests


def segment_attribute(segment_id: str) -> str:
    """The true/false attribute that says whether a customer is in a segment."""
    return f"segment_{segment_id}"


def read_segments(project: Path, problems: list[Problem]
                   ) -> list[tuple[YamlDoc, list[dict[str, Any]]]]:
    """Every segment file of rules/ (all but lifecycle.yaml and value_tiers.yaml), checked."""
    out = []
    folder = project / "rules"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        if path.name in NOT_SEGMENTS:
            continue
        doc, raw = read(path, project, SEGMENTS, problems, keep_doc=True)
        if doc is not None:
            out.append((doc, raw["segments"] if raw is not None else _salvaged(doc.data)))
    return out


def _salvaged(data: Any) -> list[dict[str, Any]]:
    """The segments of a file whose keys or values are wrong that have a good id: their ids
    known to the policies (no 'unknown segment' for a typo elsewhere in the file) and their
    conditions checked, so that one round of validate says all."""
    items = data.get("segments") if isinstance(data, dict) else None
    return [{"id": item["id"], "description": "", "when": item.get("when", _ABSENT)}
            if isinstance(item, dict) and isinstance(item.get("id"), str)
            and is_id(item["id"]) else _NONE  # kept: the others' places
            for item in (items if isinstance(items, list) else [])]


_ABSENT = object()  # a salvaged segment without `when` (the file's check said so)
_NONE = {"id": None, "description": "", "when": _ABSENT}  # a salvaged file's unusable segment


def load_segments(files: list[tuple[YamlDoc, list[dict[str, Any]]]],
                   types: Mapping[str, str], with_segments: Mapping[str, str],
                   known: Mapping[str, Any], problems: list[Problem]) -> list[Segment]:
    segments: list[Segment] = []
    seen: dict[str, str] = {}
    spots: dict[str, tuple[YamlDoc, Path_]] = {}
    for doc, items in files:
        parser = Parser(doc, with_segments, known)
        for i, item in enumerate(items):
            if item["id"] is None:
                continue
            where = ("segments", i)
            if item["id"] in seen:
                parser.error((*where, "id"), f"duplicate segment id {item['id']!r} (also in "
                             f"{seen[item['id']]})", "each segment needs its own id")
            elif segment_attribute(item["id"]) in types:
                parser.error((*where, "id"), f"segment id {item['id']!r} would make the "
                             f"attribute {segment_attribute(item['id'])!r}, which exists "
                             "already", "choose another id")
            line, col = doc.where((*where, "id"))
            seen.setdefault(item["id"], f"{doc.file}:{line}:{col}")
            if item["when"] is _ABSENT:  # salvaged without one: said by the file's check
                continue
            when = parser.when(item["when"], (*where, "when"))
            if when is not None:
                requires = tuple(dict.fromkeys(
                    a.removeprefix("segment_") for a in attributes(when)
                    if a.startswith("segment_") and a not in types))
                segments.append(Segment(item["id"], item["description"], when, doc.file,
                                        *doc.where((*where, "when")), requires))
                spots[item["id"]] = (doc, (*where, "when"))
        problems.extend(parser.problems)
    for cycle in _cycles(segments):
        doc, path = spots[cycle[0]]
        problems.append(doc.problem(path, "segments test each other in a cycle: " +
                                    " -> ".join([*cycle, cycle[0]]),
                                    hint="a segment may test other segments, but not itself, "
                                    "directly or through others"))
    return segments


def _cycles(segments: list[Segment]) -> list[list[str]]:
    """Each cycle of segments testing segments, once, starting at its first-declared one."""
    needs = {s.id: s.requires for s in segments}
    order = {s.id: i for i, s in enumerate(segments)}
    found: list[list[str]] = []
    seen_cycles: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in needs.get(node, ()):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):]
                key = frozenset(cycle)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    start = min(range(len(cycle)), key=lambda i: order[cycle[i]])
                    found.append(cycle[start:] + cycle[:start])
            elif nxt in needs and state.get(nxt) is None:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for seg in segments:
        if state.get(seg.id) is None:
            visit(seg.id, [seg.id])
    return found
