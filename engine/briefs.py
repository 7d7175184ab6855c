"""Stage 6, render: campaign briefs from the project's Jinja2 templates, in a sandbox.

Templates are user files: they are rendered with ``SandboxedEnvironment`` (no access to Python
internals such as ``__class__`` or ``__globals__``), ``StrictUndefined`` (a misspelt variable
is an error, not an empty string) and HTML autoescaping for ``.html`` templates. Every
template error names the template and its line.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from engine.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from engine.channels import ChannelSetup
    from engine.rulebook import Rulebook

TEMPLATES = "templates"
BRIEF_TEMPLATES = {"md": "brief.md.j2", "html": "brief.html.j2"}


def environment(project: Path) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(project / TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"),
                                            default_for_string=False),
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["money"] = lambda v, cur="": f"{cur} {float(v):,.2f}".strip()
    env.filters["pct"] = lambda v, digits=1: f"{float(v) * 100:.{int(digits)}f}%"
    env.filters["num"] = lambda v: f"{float(v):,.0f}"
    return env


def check_templates(project: Path) -> list[Problem]:
    """Syntax-check the brief templates (for ``cvm validate`` and before a run)."""
    env = environment(project)
    problems = []
    for name in BRIEF_TEMPLATES.values():
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(_syntax(exc, name))
        except jinja2.TemplateNotFound:
            problems.append(Problem(f"template not found in {TEMPLATES}/",
                                    file=f"{TEMPLATES}/{name}",
                                    hint="every project needs the brief templates; copy them "
                                    "from the CVM Engine repository"))
    return problems


def render(project: Path, name: str, context: Mapping[str, Any], *,
           env: SandboxedEnvironment | None = None) -> str:
    """Render one template; any failure becomes an InputError at the template's line.
    ``env``: one environment for many renders (it compiles each template once)."""
    env = env or environment(project)
    shown = f"{TEMPLATES}/{name}"
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(_syntax(exc, name)) from None
    except jinja2.TemplateNotFound:
        raise InputError(Problem(f"template not found in {TEMPLATES}/", file=shown)) from None
    except SecurityError as exc:
        raise InputError(Problem(
            f"the template tries to reach Python internals, which the sandbox forbids: {exc}",
            file=shown, line=_line_of(name), hint="templates may use the documented variables "
            "and filters only")) from None
    except jinja2.UndefinedError as exc:
        raise InputError(Problem(f"{exc.message}", file=shown, line=_line_of(name),
                                 hint="see the README for the variables a brief template gets"
                                 )) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise InputError(Problem(f"could not render: {type(exc).__name__}: {exc}", file=shown,
                                 line=_line_of(name))) from None


def _syntax(exc: jinja2.TemplateSyntaxError, name: str) -> Problem:
    return Problem(f"template syntax error: {exc.message}", file=f"{TEMPLATES}/{exc.name or name}",
                   line=exc.lineno)


def _line_of(name: str) -> int | None:
    """The template line being rendered when the exception was raised (Jinja2 rewrites the
    traceback so that template frames carry the template's file name and line)."""
    tb = sys.exc_info()[2]
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(name):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_briefs(project: Path, actions: pd.DataFrame, rulebook: Rulebook,
                  channels: ChannelSetup, *, run: dict[str, Any]) -> dict[str, str]:
    """Every campaign's briefs by file name (``<campaign>.md``, ``<campaign>.html``): what
    ``cvm run`` writes to ``briefs/`` and ``cvm plan`` compares."""
    from engine.brief_data import campaign_contexts

    env = environment(project)
    out = {}
    for ctx in campaign_contexts(actions, rulebook, channels, run=run):
        for ext, template in BRIEF_TEMPLATES.items():
            out[f"{ctx['campaign']['id']}.{ext}"] = render(project, template, ctx, env=env)
    return out
