"""A template's failure as the user's problem: its file and line (Jinja2 rewrites
tracebacks so that template frames carry the template's file name and line), what went wrong
in the sandbox's words, and a hint."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import MAX_RANGE

from engine.errors import Problem
from engine.render.names import source_line, undefined_hint
from engine.render.template_limits import (
    LIMITS_HINT,
    TemplateLimit,
    TemplateNotText,
    TemplateOutside,
)


def problem_of(exc: Exception, name: str, shown: Callable[[str], str],
             context: Mapping[str, Any], env: jinja2.Environment | None = None) -> Problem:
    file, line = _where(name)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return Problem(f"template syntax error: {exc.message}", file=shown(exc.name or name),
                       line=exc.lineno)
    if isinstance(exc, jinja2.TemplateNotFound):
        missing = exc.name or name
        return Problem(f"template {missing!r} not found", file=shown(file or name), line=line,
                       hint="templates are looked up in the project's templates/ folder")
    if isinstance(exc, TemplateLimit):
        return Problem(f"the template {exc}", file=shown(file or name), line=line,
                       hint=LIMITS_HINT)
    if isinstance(exc, TemplateOutside):
        return Problem(str(exc), file=shown(file or name), line=line,
                       hint="a template reads only files inside templates/: copy the file "
                       "there instead of linking to it")
    if isinstance(exc, TemplateNotText):
        return Problem(str(exc), file=shown(file or name), hint="save the template as UTF-8")
    if isinstance(exc, SecurityError):
        return Problem(f"the template tries to reach Python internals, which the sandbox "
                       f"forbids: {exc}", file=shown(file or name), line=line,
                       hint="templates may use the documented variables and filters only")
    if isinstance(exc, jinja2.UndefinedError):
        return Problem(str(exc.message), file=shown(file or name), line=line,
                       hint=undefined_hint(str(exc.message), context, "" if env is None else
                                           source_line(env.loader, env, file or name, line)))
    if isinstance(exc, OverflowError) and str(exc).startswith("Range too big"):
        return Problem(f"the template asks for a range of more than {MAX_RANGE:,} numbers",
                       file=shown(file or name), line=line, hint=LIMITS_HINT)
    if isinstance(exc, RecursionError):
        return Problem("the template calls or includes itself without end",
                       file=shown(file or name), line=line, hint=LIMITS_HINT)
    if isinstance(exc, MemoryError):
        return Problem("the template needs more memory than there is",
                       file=shown(file or name), line=line, hint=LIMITS_HINT)
    if isinstance(exc, (TypeError, ValueError, ArithmeticError, LookupError, AttributeError,
                        jinja2.TemplateError)):
        return Problem(f"could not render: {type(exc).__name__}: {exc}",
                       file=shown(file or name), line=line)
    raise exc  # not a problem of the template: a bug, reported as one


def _where(name: str) -> tuple[str | None, int | None]:
    """The template file and line being run when the exception was raised (Jinja2 rewrites
    tracebacks so that template frames carry the template's file name and line)."""
    tb = sys.exc_info()[2]
    file, line = None, None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or filename.endswith(name):
            file, line = Path(filename).name, tb.tb_lineno
        tb = tb.tb_next
    return file, line
