"""The usage line's arguments as Click and the README write them: FILE when required, [FILE]
when not. Typer 0.29 writes a required argument as ``{file}``, which reads as a placeholder
left unfilled (``cvm responses import [OPTIONS] {file}``); older Typers need nothing.

A usage error (an unknown command or option, a missing argument, a value the option parser
refuses) is said as every other problem, ``error: ...`` then its hint (the usage line and the
help to read), exit 2, where Click said ``Error: ...`` under the usage line."""

from __future__ import annotations

import importlib
from typing import Any

import typer


def _usage_name(self: Any) -> str:
    name = str(self.metavar or self.name).upper()
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def _show(self: Any, file: Any = None) -> None:
    message = self.format_message().strip()
    message = message[:-1] if message.endswith(".") else message
    lines = [f"error: {message[:1].lower()}{message[1:]}"]
    if self.ctx is not None:
        usage = self.ctx.get_usage().strip().removeprefix("Usage: ")
        lines.append(f"  hint: usage: {usage} ({self.ctx.command_path} --help says more)")
    typer.echo("\n".join(lines), err=True)


def conventional_usage(app: typer.Typer) -> typer.Typer:
    """``app``, every command's usage line written the conventional way, and its usage
    errors said as every problem (engine.cli's)."""
    if hasattr(typer.core.TyperArgument, "_usage_display_name"):
        typer.core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
    for name in ("typer._click.exceptions", "click.exceptions"):  # Typer 0.29's own Click,
        try:  # or Click itself (older Typers)
            module = importlib.import_module(name)
        except ImportError:
            continue
        module.UsageError.show = _show
    return app
