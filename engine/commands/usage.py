"""The usage line's arguments as Click and the README write them: FILE when required, [FILE]
when not. Typer 0.29 writes a required argument as ``{file}``, which reads as a placeholder
left unfilled (``cvm responses import [OPTIONS] {file}``); older Typers need nothing."""

from __future__ import annotations

from typing import Any

import typer


def _usage_name(self: Any) -> str:
    name = str(self.metavar or self.name).upper()
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def conventional_usage(app: typer.Typer) -> typer.Typer:
    """``app``, every command's usage line written the conventional way (engine.cli's)."""
    if hasattr(typer.core.TyperArgument, "_usage_display_name"):
        typer.core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
    return app
