"""A template's failure as the user's problem: its file and line (Jinja2 rewrites
tracebacks so that template frames carry the template's file name and line), what went wrong
in the sandbox's words, and a hint."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import MAX_RANGE

from engine.errors import Problem, did_you_mean
from engine.render.names import plain_message, source_line, undefined_hint
from engine.render.template_limits import (
    LIMITS_HINT,
    TemplateLimit,
    TemplateNotText,
    TemplateOutside,
    TemplateTooLarge,
)


def problem_of(exc: Exception, name: str, shown: Callable[[str], str],
             context: Mapping[str, Any], env: jinja2.Environment | None = None) -> Problem:
    # a recursion is said where it starts (the include), not where it ran out
    file, line = _where(name, outermost=isinstance(exc, RecursionError))
    if isinstance(exc, jinja2.TemplateSyntaxError):
        opened = _unclosed(exc.source, env) if str(exc.message).startswith(
            "Unexpected end of template") else None
        if opened is not None:  # said where it opens: Jinja2 says the end of the file
            tag, at = opened
            return Problem(f"template syntax error: the {{% {tag} %}} of this line is not "
                           f"closed by the end of the template (line {exc.lineno})",
                           file=shown(exc.name or name), line=at,
                           hint=f"add {{% end{tag} %}} where it should end")
        return Problem(f"template syntax error: {exc.message}", file=shown(exc.name or name),
                       line=exc.lineno, hint=_unknown_filter_hint(str(exc.message), env)
                       or SYNTAX_HINT)
    if isinstance(exc, jinja2.TemplateNotFound):
        missing = exc.name or name
        return Problem(f"template {missing!r} not found", file=shown(file or name), line=line,
                       hint="templates are looked up in the project's templates/ folder")
    if isinstance(exc, TemplateLimit):
        return Problem(f"the template {exc}", file=shown(file or name), line=line,
                       hint=LIMITS_HINT)
    if isinstance(exc, TemplateOutside):
        return Problem(str(exc), file=shown(file or name), line=line, hint=exc.hint)
    if isinstance(exc, TemplateNotText):  # its own file, not the one including it
        return Problem(str(exc), file=shown(exc.name), hint="save the template as UTF-8")
    if isinstance(exc, SecurityError):
        return Problem(f"the template tries to reach Python internals, which the sandbox "
                       f"forbids: {exc}", file=shown(file or name), line=line,
                       hint="templates may use the documented variables and filters only")
    if isinstance(exc, jinja2.UndefinedError):
        text = "" if env is None else source_line(env.loader, env, file or name, line)
        return Problem(plain_message(str(exc.message), text), file=shown(file or name),
                       line=line, hint=undefined_hint(str(exc.message), context, text))
    if isinstance(exc, OverflowError) and str(exc).startswith("Range too big"):
        return Problem(f"the template asks for a range of more than {MAX_RANGE:,} numbers",
                       file=shown(file or name), line=line, hint=LIMITS_HINT)
    if isinstance(exc, RecursionError):
        cycle = _cycle()
        if cycle is not None and len(cycle) > 2:  # a -> b -> a: said where it turns back
            (file, line), names = cycle[0], [f"{f}:{n}" for f, n in cycle[:-1]]
            return Problem("the templates include or call each other without end: "
                           + " -> ".join([*names, cycle[-1][0]]), file=shown(file), line=line,
                           hint=LIMITS_HINT)
        return Problem("the template calls or includes itself without end",
                       file=shown(file or name), line=line, hint=LIMITS_HINT)
    if isinstance(exc, MemoryError):
        return Problem("the template needs more memory than there is",
                       file=shown(file or name), line=line, hint=LIMITS_HINT)
    if isinstance(exc, ZeroDivisionError):
        return Problem(f"could not render: {type(exc).__name__}: {exc}",
                       file=shown(file or name), line=line, hint="a figure the template divides "
                       "by is 0 on this data (an empty holdout, a campaign without a budget, a "
                       "month without sales): divide only within {% if ... %}")
    if isinstance(exc, (TypeError, ValueError, ArithmeticError, LookupError, AttributeError,
                        jinja2.TemplateError)):
        return Problem(f"could not render: {type(exc).__name__}: {exc}",
                       file=shown(file or name), line=line,
                       hint=NONE_HINT if "NoneType" in str(exc) else None)
    raise exc  # not a problem of the template: a bug, reported as one


SYNTAX_HINT = ("Jinja2's syntax: {{ expression }}, {% tag %}, and each {% if %}, {% for %}, "
               "{% macro %} closed by its {% endif %}, {% endfor %}, {% endmacro %}")
NONE_HINT = ("a figure the template computes with has no value here (null: a campaign without "
             "a budget, a share of nothing); compute only within {% if x is not none %}")
_NO_SUCH = re.compile(r"^No (filter|test) named '([^']+)'")


def _unknown_filter_hint(message: str, env: jinja2.Environment | None) -> str | None:
    """A filter or test the sandbox does not have: the closest it has, and where they are
    listed (the engine's own are ``money``, ``pct`` and ``num``)."""
    found = _NO_SUCH.match(message)
    if found is None or env is None:
        return None
    kind, name = found.groups()
    known = sorted(env.filters if kind == "filter" else env.tests)
    close = did_you_mean(name, known)
    listed = f"a template has Jinja2's built-in {kind}s" + (
        " and the engine's money, pct and num" if kind == "filter" else "")
    return listed if close is None else f"{close} ({listed})"


# what a template asks of the context that no context has, whatever the data: a name
# (``budgt``), a key of one of its dicts (``budget.usd``) or a field of one of its texts,
# lists or numbers (``k.nme`` of a KPI, a text), in Jinja2's words; each field of the context
# has one kind whatever the data, or is None (``'None' has no attribute``: the data's case)
_NOT_IN_ANY_CONTEXT = re.compile(r"^(?:'[^']+' is undefined|'(?:dict|str|list|int|float|bool) "
                                 r"object' has no attribute '[^']+')$")
# failures of the template's text itself, met by every rendering
_ANY_DATA = (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound, TemplateTooLarge,
             TemplateOutside, TemplateNotText, SecurityError, RecursionError)


def whatever_the_data(exc: BaseException) -> bool:
    """Whether a template's failure (the exception ``problem_of`` was given) is met on any
    data: an error of ``cvm validate``'s sample rendering, as of the run; any other failure
    on the sample (a limit, a value's type) may be the sample's only."""
    if isinstance(exc, jinja2.UndefinedError):
        return bool(_NOT_IN_ANY_CONTEXT.match(str(exc.message)))
    return isinstance(exc, _ANY_DATA)


def _cycle() -> list[tuple[str, int]] | None:
    """The templates a recursion went round, from the first that comes back to its return
    (``[(a.j2, 2), (b.j2, 1), (a.j2, 2)]``): the template frames of the traceback, one per
    template in a row (a macro's calls within one file are one step)."""
    steps: list[tuple[str, int]] = []
    tb = sys.exc_info()[2]
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") and (not steps or steps[-1][0] != Path(filename).name):
            steps.append((Path(filename).name, tb.tb_lineno))
        tb = tb.tb_next
    seen: dict[str, int] = {}
    for i, (file, _) in enumerate(steps):
        if file in seen:
            return steps[seen[file]: i + 1]
        seen[file] = i
    return None


def _where(name: str, *, outermost: bool = False) -> tuple[str | None, int | None]:
    """The template file and line being run when the exception was raised (Jinja2 rewrites
    tracebacks so that template frames carry the template's file name and line); with
    ``outermost``, the first template frame of the traceback instead of the last."""
    tb = sys.exc_info()[2]
    file, line = None, None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or filename.endswith(name):
            file, line = Path(filename).name, tb.tb_lineno
            if outermost:
                break
        tb = tb.tb_next
    return file, line


_BLOCKS = frozenset({"for", "if", "macro", "call", "filter", "block", "with", "autoescape",
                     "set"})


def _unclosed(source: str | None, env: jinja2.Environment | None) -> tuple[str, int] | None:
    """The innermost block tag a template leaves open, and its line (None: none found, or
    the template cannot be read into tokens)."""
    if source is None:
        return None
    opened: list[tuple[str, int]] = []
    words: list[tuple[int, str, str]] = []  # the current tag's tokens
    try:
        for line, kind, value in (env or jinja2.Environment()).lex(source):
            if kind == "block_begin":
                words = []
            elif kind == "block_end" and words:
                first = words[0]
                tag = first[2] if first[1] == "name" else ""
                # {% set x %} ... {% endset %} is a block, {% set x = 1 %} is not
                block_set = tag == "set" and not any(v == "=" for _, _, v in words)
                if tag in _BLOCKS and (tag != "set" or block_set):
                    opened.append((tag, first[0]))
                elif tag.startswith("end") and opened and opened[-1][0] == tag[3:]:
                    opened.pop()
                words = []
            elif kind != "whitespace":
                words.append((line, kind, value))
    except jinja2.TemplateSyntaxError:
        return None
    return opened[-1] if opened else None
