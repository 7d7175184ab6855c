"""``${NAME}`` in ``data.storage_options``: the variables not set in this process's environment,
each said once, at its own place in cvm.yaml when the positions are known (``cvm validate``),
else at the setting naming the store (a run, a Dask worker)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from engine.errors import Problem
from engine.project.object_store import ENV_REF


def unset(options: Iterable[tuple[str, Any]], prefix: str = "") -> list[tuple[str, str]]:
    """(the option's key path, the variable) for each ``${NAME}`` whose NAME is not set, in the
    order of their keys (a nested mapping's keys as ``client_kwargs.region_name``)."""
    out = []
    for key, value in options:
        path = f"{prefix}{key}"
        if isinstance(value, tuple):
            out += unset(value, f"{path}.")
        elif isinstance(value, str) and (ref := ENV_REF.match(value)) and \
                ref.group(1) not in os.environ:
            out.append((path, ref.group(1)))
    return out


Spots = Mapping[str, tuple[int | None, int | None]]  # the config's positions, by key path


def unset_problems(options: Iterable[tuple[str, Any]], file: str,
                   positions: Spots | None = None) -> list[Problem]:
    """One problem per unset variable; ``positions``: the config's, by key path."""
    problems = []
    for path, name in unset(options):
        key = f"data.storage_options.{path}"
        line, column = (positions or {}).get(key, (None, None))
        problems.append(Problem(
            f"environment variable {name} is not set", file=file, line=line, column=column,
            key=key, hint=f"set {name} where cvm (and each Dask worker) runs, or remove the "
            "option to use the store's usual configuration"))
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))  # as written
