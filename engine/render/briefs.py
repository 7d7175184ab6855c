"""Stage 6, render: campaign briefs from the project's Jinja2 templates.

Templates are user files: they are rendered in the project sandbox (``engine.render.sandbox``): no
access to Python internals, bounded work and output, ``StrictUndefined`` (a misspelt
variable is an error, not an empty string), values escaped for HTML in ``.html`` templates
and for Markdown in the others. Every template error names the template and its line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.errors import InputError, Problem
from engine.project.report_settings import BUILTIN_TEMPLATES, REPORT_NAMES, REPORT_TEMPLATE
from engine.project.templates import TEMPLATES, Templates
from engine.render.sandbox import Sandbox, check, render_template, sandbox
from engine.render.template_names import unknown_names
from engine.render.template_problems import whatever_the_data

if TYPE_CHECKING:
    import pandas as pd

    from engine.project.channels import ChannelSetup
    from engine.project.rulebook import Rulebook

BRIEF_TEMPLATES = {"md": "brief.md.j2", "html": "brief.html.j2"}


def environment(templates: Templates) -> Sandbox:
    return sandbox(templates, trim=True)


def report_environment(templates: Templates) -> Sandbox:
    """The report page's sandbox: the project's own report template first, then the
    built-in one."""
    return sandbox(templates, (BUILTIN_TEMPLATES,), trim=False)


def _shown(name: str) -> str:
    return f"{TEMPLATES}/{name}"


def check_templates(templates: Templates) -> list[Problem]:
    """Compile every template of the project: the brief templates, and the report template
    when the project has its own (for ``cvm validate`` and before a run)."""
    env = environment(templates)
    problems = []
    for name in BRIEF_TEMPLATES.values():
        if not templates.has(name):
            problems.append(Problem(f"template not found in {TEMPLATES}/", file=_shown(name),
                                    hint="every project needs the brief templates; copy them "
                                    "from the CVM Engine repository"))
        elif problem := check(env, name, _shown):
            problems.append(problem)
        else:
            problems += _old_return_words(templates, name)
    if templates.has(REPORT_TEMPLATE):
        report = report_environment(templates)
        problem = check(report, REPORT_TEMPLATE, _shown)
        problems += [problem] if problem else unknown_names(report, REPORT_TEMPLATE,
                                                            REPORT_NAMES, _shown)
    return problems


# the words the bundled briefs said of expected.return_on_spend until it became net of the
# cost (7 December 2026: expected value / cost, as cvm measure's return on spend)
OLD_RETURN_WORDS = "expected value plus cost, per unit of cost"


def _old_return_words(templates: Templates, name: str) -> list[Problem]:
    """A warning at the line of a brief template (one copied before) that still describes
    return_on_spend as the figure it was."""
    text = templates.get(name)
    if not isinstance(text, bytes) or OLD_RETURN_WORDS.encode() not in text:
        return []
    line = text[:text.index(OLD_RETURN_WORDS.encode())].count(b"\n") + 1
    return [Problem(f"says return_on_spend is \"{OLD_RETURN_WORDS}\": it is the expected value "
                    "after contact costs per unit of cost since 7 December 2026, as cvm "
                    "measure's return on spend (one less than the figure these words describe)",
                    file=_shown(name), line=line, severity="warning",
                    hint="write \"expected value after contact costs, per unit of cost\"")]


def render(templates: Templates, name: str, context: Mapping[str, Any], *,
           env: Sandbox | None = None) -> str:
    """Render one brief template; any failure becomes an InputError at the template's line.
    ``env``: one environment for many renders (it compiles each template once)."""
    return render_template(env or environment(templates), name, context, _shown,
                           new_run=env is None)


def check_rendering(templates: Templates, rulebook: Rulebook, channels: ChannelSetup,
                    tiers: Sequence[str], *, currency: str, project: str) -> list[Problem]:
    """Render the brief templates for every campaign on a sample action list
    (``brief_data.sample_actions``; for ``cvm validate``): a misspelt name (``budgt.used``,
    ``budget.usd``) is found now, at its line, in the run's words; compiling finds only bad
    syntax. Only such a name is said: what depends on the data (a second example that a
    real run has and the sample may not) is the run's to find."""
    from engine.render.brief_data import (
        CONTEXT_NAMES,
        campaign_contexts,
        sample_actions,
        thin_samples,
    )

    run = {"run_id": "0" * 16, "as_of": "2000-01-01", "currency": currency, "project": project}
    env = environment(templates)
    failed: dict[str, tuple[InputError, str]] = {}  # each template's first problem
    cases: dict[str, set[str]] = {}  # the samples each template failed on
    rendered: set[str] = set()  # the templates a campaign of the whole sample rendered
    sample = sample_actions(rulebook, channels, tiers)
    # the sample, then campaigns as thin as a run can give them (each list empty or short)
    samples = [(sample, "a sample action list"), *thin_samples(sample)]
    for data, case in samples:
        env.start_run()  # every brief within one bound, as the run renders them
        for ctx in campaign_contexts(data, rulebook, channels, run=run):
            for template in BRIEF_TEMPLATES.values():
                # every campaign of the whole sample (a failure may be one campaign's), the
                # thin ones until one fails
                if case == samples[0][1] or case not in cases.get(template, set()):
                    try:
                        render(templates, template, ctx, env=env)
                        rendered.update([template] if case == samples[0][1] else [])
                    except InputError as exc:  # chained to the failure (render_template)
                        failed.setdefault(template, (exc, case))
                        cases.setdefault(template, set()).add(case)
    problems: list[Problem] = []
    for template, (error, case) in failed.items():
        if error.__cause__ is not None and whatever_the_data(error.__cause__):
            problems += error.problems
        elif len(cases[template]) == len(samples) and template not in rendered and \
                _a_limit(error.__cause__):  # a limit met by every campaign of every sample
            # (an element the sample lacks may be the sample's own: its run is no real run)
            problems += [dataclasses.replace(p, hint="; ".join(h for h in (
                p.hint, "found rendering every sample action list, the thinnest too: cvm run "
                "stops here whatever the data") if h)) for p in error.problems]
        else:
            problems += [dataclasses.replace(p, severity="warning", hint="; ".join(
                h for h in (p.hint, f"found rendering {case}: cvm run stops here on data like "
                            "it") if h)) for p in error.problems]
    said = {(p.file, p.line, p.message) for p in problems}
    for template in BRIEF_TEMPLATES.values():  # in branches the sample did not take, too
        for p in unknown_names(env, template, CONTEXT_NAMES, _shown):
            if (p.file, p.line, p.message) not in said:  # (a file both templates include)
                said.add((p.file, p.line, p.message))
                problems.append(p)
    return problems


def _a_limit(exc: BaseException | None) -> bool:
    """Whether a template's failure is one of the sandbox's limits (steps, output, a value's
    length, a range's size)."""
    from engine.render.template_limits import TemplateLimit

    return isinstance(exc, TemplateLimit) or (isinstance(exc, OverflowError) and str(
        exc).startswith("Range too big"))


def render_briefs(templates: Templates, actions: pd.DataFrame, rulebook: Rulebook,
                  channels: ChannelSetup, *, run: dict[str, Any]) -> dict[str, str]:
    """Every campaign's briefs by file name (``<campaign>.md``, ``<campaign>.html``): what
    ``cvm run`` writes to ``briefs/`` and ``cvm plan`` compares."""
    from jinja2 import UndefinedError

    from engine.render.brief_data import campaign_contexts

    env = environment(templates)
    env.start_run()  # every brief of the run within one bound
    out = {}
    for ctx in campaign_contexts(actions, rulebook, channels, run=run):
        for ext, template in BRIEF_TEMPLATES.items():
            try:
                out[f"{ctx['campaign']['id']}.{ext}"] = render(templates, template, ctx, env=env)
            except InputError as exc:  # a figure 0, empty or missing: whose campaign's
                if not isinstance(exc.__cause__, (ZeroDivisionError, TypeError, LookupError,
                                                  UndefinedError)) \
                        or whatever_the_data(exc.__cause__):
                    raise
                raise InputError([dataclasses.replace(p, hint="; ".join(h for h in (
                    p.hint, f"found rendering the brief of campaign {ctx['campaign']['id']}")
                    if h)) for p in exc.problems]) from exc.__cause__
    return out
