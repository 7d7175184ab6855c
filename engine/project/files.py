"""Checks on how a project's files name things, beyond each file's own content:

- campaign ids name the brief files (``briefs/<campaign>.md``): two that differ only by case
  would be one file on a case-insensitive file system (Windows, macOS), one brief lost;
- ``rules/`` and ``policies/`` are read as their ``*.yaml`` files: a ``.yml`` file or a
  sub-folder there is not read, which a user should hear about rather than find out.

In: the loaded policies, the project folder. Out: problems (errors, warnings). Imports nothing
of the engine but its error records.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import Problem

READ_WHOLE = ("rules", "policies")


def campaign_case_clashes(policies: Sequence[Any]) -> list[Problem]:
    """An error per contact policy whose campaign id equals another's but for case."""
    first: dict[str, Any] = {}
    out = []
    for pol in sorted(policies, key=lambda p: (p.file, p.line or 0)):
        if pol.campaign is None:
            continue
        other = first.setdefault(pol.campaign.casefold(), pol)
        if other.campaign == pol.campaign:
            continue
        named = "campaign" in pol.spots
        line, column = pol.spots["campaign"] if named else pol.spots.get("id", (pol.line, None))
        out.append(Problem(
            f"campaign {pol.campaign!r} of policy {pol.id!r} differs only by case from "
            f"campaign {other.campaign!r} of policy {other.id!r} ({other.location}): their "
            "briefs would be one file on Windows and macOS",
            file=pol.file, line=line, column=column, key="campaign" if named else "id",
            hint="campaign ids name the brief files: make them differ by more than case "
                 "(lowercase ids avoid this)"))
    return out


def unread_files(project: Path) -> list[Problem]:
    """A warning per ``.yml`` file or sub-folder of rules/ and policies/ (not read)."""
    out = []
    for sub in READ_WHOLE:
        folder = project / sub
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue  # hidden: an editor's or a version control's
            shown = f"{sub}/{path.name}"
            if path.is_dir():
                out.append(Problem(
                    f"the folder {shown}/ is not read: only the .yaml files directly in {sub}/ "
                    "are", file=shown + "/", severity="warning",
                    hint=f"move its .yaml files up into {sub}/ if they should count"))
            elif path.suffix.lower() == ".yml":
                out.append(Problem(
                    f"the file {shown} is not read: only files ending in .yaml are",
                    file=shown, severity="warning",
                    hint=f"rename it to {path.stem}.yaml if it should count"))
    return out
