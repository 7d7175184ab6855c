"""Validation of the rulebook beyond its files: what durable-rules would refuse, and warnings.

``validate_rulebook`` reads rules/ and policies/ (``engine.project.rulebook``), compiles every
condition for durable-rules exactly as a run compiles them (so whatever the rule engine could
refuse is reported at the condition's line) and adds the warnings of ``engine.policy.warnings``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from engine.errors import InputError, Problem, errors_only
from engine.policy.lifecycle import segment_matchers
from engine.policy.matchers import policy_matcher, stage_matcher
from engine.policy.warnings import campaign_warnings, warnings_for
from engine.project.rulebook import Rulebook, check_rulebook


def validate_rulebook(project_dir: Path, attribute_types: Mapping[str, str], *,
                      values: Mapping[str, Collection[str]] | None = None,
                      channels: Collection[str] | None = None,
                      campaigns: Collection[str] | None = None,
                      read_defaults: bool = True) -> list[Problem]:
    """Every error and warning in rules/ and policies/ (never raises for problems in files).

    ``campaigns``: the declared campaign ids, to warn about policies naming others;
    ``read_defaults``: as for ``engine.project.rulebook.load_rulebook``.
    """
    return validated_rulebook(project_dir, attribute_types, values=values, channels=channels,
                              campaigns=campaigns, read_defaults=read_defaults)[1]


def validated_rulebook(project_dir: Path, attribute_types: Mapping[str, str], *,
                       values: Mapping[str, Collection[str]] | None = None,
                       channels: Collection[str] | None = None,
                       campaigns: Collection[str] | None = None,
                       read_defaults: bool = True) -> tuple[Rulebook | None, list[Problem]]:
    """``validate_rulebook``'s problems, and the rulebook its files make (None when they have
    errors; durable-rules' refusals and the warnings are among the problems only)."""
    book, problems = check_rulebook(project_dir, attribute_types, values, channels,
                                    read_defaults=read_defaults)
    if book is None or errors_only(problems):
        return None, problems
    problems += compile_rulebook(book)
    problems += warnings_for(book)
    if campaigns is not None:
        problems += campaign_warnings(book, campaigns)
    return book, problems


def compile_rulebook(rulebook: Rulebook) -> list[Problem]:
    """Compile every condition for durable-rules (kept for the run); what it refuses, with the
    file and line of the condition."""
    try:
        stage_matcher(rulebook)
        segment_matchers(rulebook)
        policy_matcher(rulebook)
    except InputError as exc:
        return list(exc.problems)
    return []
