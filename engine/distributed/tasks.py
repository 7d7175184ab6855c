"""The tasks the workers run, and their errors carried back to the client.

A ``CvmError`` does not survive pickling (it is rebuilt from its message), so a task returns
its problems as a value and the client raises them again, with the same exit code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from engine.errors import CvmError, InputError, OutputError, Problem, UsageError
from engine.project.location import config_named, config_shown

T = TypeVar("T")
KINDS: dict[str, type[CvmError]] = {"InputError": InputError, "UsageError": UsageError,
                                    "OutputError": OutputError}


@dataclass(frozen=True)
class Failed:
    kind: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Guarded:
    """A task as a worker runs it: its ``CvmError`` returned as a value, and its messages
    naming the configuration file as the command's own do (``--config``), which a worker's
    process does not know."""

    config: str = field(default_factory=config_shown)  # made on the client: its --config

    def __call__(self, fn: Callable[..., T], *args: Any) -> T | Failed:
        with config_named(self.config, thread=True):
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
