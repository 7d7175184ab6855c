"""The terminal: colour and progress bars (rich), only where a person watches.

Everything here is inert unless the stream is a terminal: piped output, files and test
runners get exactly the plain text the commands always printed. ``NO_COLOR`` (any non-empty
value, https://no-color.org) turns colour off; the bars stay, drawn without colour.

Long loops report with ``tick(label, done, total)``, which costs one global lookup when no
display is active (the default), so library code may call it freely.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.errors import CvmError, Problem

_ACTIVE: Display | None = None


def shell_path(path: object) -> str:
    """A path a command wrote, as the user can open it from where they ran the command:
    relative to the working directory when inside it, else as given (the commands' output
    folders are absolute; ``--project elsewhere`` said ``wrote output/``, a folder not where
    they were); an object-store location as is."""
    from pathlib import Path

    if not isinstance(path, Path):
        return str(getattr(path, "url", path))
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):  # outside the working directory (or it is gone)
        return str(path)


def is_terminal(stream: IO[str] | None = None) -> bool:
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def colour_on(stream: IO[str] | None = None) -> bool:
    return is_terminal(stream) and not os.environ.get("NO_COLOR")


def styled(text: str, colour: str, *, err: bool = False, bold: bool = False) -> str:
    """``text`` in ``colour`` on a colour terminal, else unchanged."""
    if not colour_on(sys.stderr if err else sys.stdout):
        return text
    import typer

    return typer.style(text, fg=colour, bold=bold)


def problem_lines(problems: Sequence[Problem]) -> list[str]:
    """Each problem as printed on stderr by every command: ``error: ...`` (``warning: ...``),
    coloured on a colour terminal; a problem's hint stays on its own indented line."""
    colour = {"error": "red", "warning": "yellow"}
    return [f"{styled(p.severity + ':', colour.get(p.severity, 'red'), err=True, bold=True)} "
            f"{p.format()}" for p in problems]


def error_text(exc: CvmError) -> str:
    """What every command prints on stderr for ``exc``: each problem on its own ``error:``
    line; an error with a layout of its own (a plan's side: a header naming the version, its
    problems indented under it) as it lays itself out."""
    from engine.errors import CvmError, in_file_order

    if type(exc).format is CvmError.format:
        return "\n".join(problem_lines(in_file_order(exc.problems)))
    return f"{styled('error:', 'red', err=True, bold=True)} {exc.format()}"


def tick(label: str, done: int, total: int) -> None:
    """Report progress of a long loop to the active display, if any."""
    if _ACTIVE is not None:
        _ACTIVE.tick(label, done, total)


class Display:
    """A progress display on stderr: one bar over a command's steps, one for the loop inside
    the current step. Called with a step name, it is the ``progress`` callback of
    ``engine.run.pipeline`` and ``engine.run.job``; a message with a colon ("allocate: ...") names
    what happens inside the current step."""

    def __init__(self, steps: Sequence[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.steps = list(steps)
        console = Console(file=sys.stderr, no_color=bool(os.environ.get("NO_COLOR")))
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description:<40}"),
                                 BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                                 console=console, transient=True)
        self.main = self.progress.add_task("starting", total=len(self.steps))
        self.inner: Any = None

    def __enter__(self) -> Display:
        global _ACTIVE
        self.progress.start()
        _ACTIVE = self
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        global _ACTIVE
        _ACTIVE = None
        self.progress.stop()

    def __call__(self, step: str) -> None:
        head = step.split(":", 1)[0]
        if head in self.steps and ":" not in step:
            self.progress.update(self.main, completed=self.steps.index(head),
                                 description=step)
            if self.inner is not None:
                self.progress.remove_task(self.inner)
                self.inner = None
        else:
            self.progress.update(self.main, description=step[:40])
        self.progress.refresh()  # every step is drawn, however fast it goes

    def tick(self, label: str, done: int, total: int) -> None:
        if self.inner is None:
            self.inner = self.progress.add_task(f"  {label}", total=max(total, 1))
        self.progress.update(self.inner, completed=min(done, total), total=max(total, 1),
                             description=f"  {label}")


def display(steps: Sequence[str], *, quiet: bool) -> Display | None:
    """A display when a person watches stderr, else None (plain lines, as always)."""
    return Display(steps) if not quiet and is_terminal(sys.stderr) else None
