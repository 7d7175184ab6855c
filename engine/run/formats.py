"""The action list's formats (``cvm run --format``): a module of its own, so that the command
line checks the option before it reads the project or imports the pipeline."""

from __future__ import annotations

from engine.errors import Problem, UsageError

FORMATS = ("csv", "jsonl", "parquet")


def check_format(fmt: str, *, key: str = "fmt") -> None:
    if fmt not in FORMATS:
        raise UsageError(Problem(f"found {fmt!r}, expected one of " + ", ".join(FORMATS),
                                 key=key))
