"""The tasks the workers run, and their errors carried back to the client.

A ``CvmError`` does not survive pickling (it is rebuilt from its message), so a task returns
its problems as a value and the client raises them again, with the same exit code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from engine.errors import CvmError, InputError, OutputError, Problem, UsageError

T = TypeVar("T")
KINDS: dict[str, type[CvmError]] = {"InputError": InputError, "UsageError": UsageError,
                                    "OutputError": OutputError}


@dataclass(frozen=True)
class Failed:
    kind: str
    problems: tuple[Problem, ...]


def guarded(fn: Callable[..., T], *args: Any) -> T | Failed:
    try:
        return fn(*args)
    except CvmError as exc:
        return Failed(type(exc).__name__, exc.problems)


def results(values: Sequence[T | Failed]) -> list[T]:
    """The tasks' results, or the first task's problems raised (in task order, so the same
    data give the same message)."""
    for value in values:
        if isinstance(value, Failed):
            raise KINDS.get(value.kind, InputError)(value.problems)
    return [v for v in values if not isinstance(v, Failed)]
