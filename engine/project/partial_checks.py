"""The checks made of a rules or policy file whose keys or values are wrong: its conditions
and channel names are checked all the same, so that one round of ``cvm validate`` says
everything wrong in it (engine.project.rulebook; the segments' own: engine.project.segments).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from engine.errors import Problem, did_you_mean
from engine.project.condition_parser import Parser
from engine.project.yamlio import YamlDoc


def rule_conditions(doc: YamlDoc, types: Mapping[str, str], known: Mapping[str, Any],
                    later: Mapping[str, str]) -> list[Problem]:
    """The conditions of a lifecycle file whose keys or values are wrong (one round of
    validate says all)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    stages = data.get("stages")  # not a mapping: no stage known, none called unknown
    names = {"lifecycle_stage": [n for n in stages if isinstance(n, str)]} \
        if isinstance(stages, dict) else {}
    parser = Parser(doc, types, {**known, **names}, unavailable=later)
    rules = data.get("rules")
    for i, item in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(item, dict) and item.get("when") is not None:
            parser.when(item["when"], ("rules", i, "when"))
    return parser.problems


def policy_rest(doc: YamlDoc, types: Mapping[str, str], known: Mapping[str, Any],
                channels: Collection[str] | None, found: list[Problem]) -> list[Problem]:
    """The conditions and channel names of a policy whose keys or values are wrong, so that
    one round of validate says all (a channel not text, or refused already, is left out)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    parser = Parser(doc, types, known)
    if data.get("when") is not None:
        parser.when(data["when"], ("when",))
    then = data.get("then")
    names = then.get("channels") if isinstance(then, dict) else None
    if isinstance(names, list):
        told = {p.key for p in found if p.file == doc.file}
        check_channels(parser, names, channels, skip={
            i for i, n in enumerate(names)
            if not isinstance(n, str) or f"then.channels[{i}]" in told})
    return parser.problems


def check_channels(parser: Parser, names: Sequence[Any], channels: Collection[str] | None,
                   skip: Collection[int] = ()) -> None:
    """A policy's channels (``then.channels``): each listed once, each declared (the names at
    ``skip`` left out)."""
    for i, name in enumerate(names):
        if i in skip:
            continue
        if names.index(name) != i:
            parser.error(("then", "channels", i), f"channel {name!r} is listed twice")
        elif channels is not None and name not in channels:
            parser.error(("then", "channels", i), f"unknown channel {name!r}, expected one of "
                         + ", ".join(channels), did_you_mean(name, channels) or
                         "channels are declared in policies/channels.yaml")
