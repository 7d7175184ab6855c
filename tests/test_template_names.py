"""`cvm validate` reads every variable a template names, in branches the sample action list
does not take and in a project's own report template (a new user's trial: `{% if audience.size >
50 %}{{ audeince.size }}{% endif %}` and the report's `{{ curency }}` passed validate; the run,
then the report, stopped at them)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.project.report_settings import BUILTIN_TEMPLATES, REPORT_NAMES, REPORT_TEMPLATE
from tests.ci_jobs import main_job_only
from tests.conftest import copy_example_project

pytestmark = main_job_only("Jinja2's sandbox and the engine's names decide it, the same "
                           "whatever the Python or pandas")

runner = CliRunner()
HINT = "(see the README for the variables a template gets)"


def _validate(project: Path) -> tuple[int, str]:
    got = runner.invoke(app, ["validate", "-p", str(project)])
    return got.exit_code, got.stderr


def _add(path: Path, text: str) -> int:
    """Append ``text`` to a template; the line it starts at."""
    lines = path.read_text().count("\n")
    path.write_text(path.read_text() + text)
    return lines + 1


def test_a_misspelt_name_in_a_branch_the_sample_skips_is_an_error(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    line = _add(project / "templates" / "brief.md.j2",
                "{% if audience.size > 50000000 %}Big: {{ audeince.size }}{% endif %}\n")
    assert _validate(project) == (1, (
        f"error: templates/brief.md.j2:{line}: 'audeince' is undefined\n"
        f"  hint: did you mean 'audience'? {HINT}\n"
        "1 error(s), 0 warning(s) in 1 file(s)\n"))


def test_a_misspelt_name_in_the_project_s_report_template_is_an_error(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    own = project / "templates" / REPORT_TEMPLATE
    shutil.copy(BUILTIN_TEMPLATES / REPORT_TEMPLATE, own)
    lines = own.read_text().splitlines(keepends=True)
    at = next(i for i, x in enumerate(lines) if "{{ currency }}" in x)
    lines[at] = lines[at].replace("{{ currency }}", "{{ curency }}", 1)
    own.write_text("".join(lines))
    assert _validate(project) == (1, (
        f"error: templates/{REPORT_TEMPLATE}:{at + 1}: 'curency' is undefined\n"
        f"  hint: did you mean 'currency'? {HINT}\n"
        "1 error(s), 0 warning(s) in 1 file(s)\n"))
    got = runner.invoke(app, ["report", "-p", str(project), "-o", str(tmp_path / "r"), "-q"])
    assert got.exit_code == 1 and f"{REPORT_TEMPLATE}:{at + 1}: 'curency' is undefined" \
        in got.stderr, got.stderr  # what validate now says first


def test_names_a_template_gives_itself_or_guards_are_known(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    (project / "templates" / "part.j2").write_text(
        "{{ mine }} {{ shared_macro(1) }}{% for k in keys %}{{ k }}{% endfor %}\n")
    _add(project / "templates" / "brief.md.j2", (
        "{% set mine = 1 %}{% set keys = [1] %}{% macro shared_macro(arg) %}{{ arg }}"
        "{{ caller is defined }}{% endmacro %}{% include 'part.j2' %}"
        "{% if optional is defined %}{{ optional }}{% endif %}{{ maybe | default('-') }}"
        "{% with w = 2 %}{{ w }}{% endwith %}{{ range(2) | list }}{{ loop_free }}"
        "{% if unset is none %}-{% endif %}\n"))
    code, said = _validate(project)
    assert code == 1 and said.count("is undefined") == 1, said
    assert "'loop_free' is undefined" in said, said


def test_every_name_the_report_and_the_briefs_get_is_declared(tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    """REPORT_NAMES and brief_data.CONTEXT_NAMES are what the templates are checked against:
    a name the context has that they lack would be refused in a project's template."""
    import engine.report.html as html
    from engine.commands.common import project_config
    from engine.render.brief_data import CONTEXT_NAMES, campaign_contexts, sample_actions
    from engine.render.briefs import report_environment
    from engine.render.template_names import unknown_names
    from engine.run.build import load_setup

    seen: list[dict[str, Any]] = []
    real = html.render_template

    def capture(env: Any, name: str, context: dict[str, Any], *args: Any, **kw: Any) -> str:
        seen.append(context)
        return real(env, name, context, *args, **kw)

    monkeypatch.setattr(html, "render_template", capture)
    project = copy_example_project(tmp_path)
    got = runner.invoke(app, ["report", "-p", str(project), "-o", str(tmp_path / "r"), "-q"])
    assert got.exit_code == 0, got.output
    assert set(seen[0]) == set(REPORT_NAMES)
    setup = load_setup(project_config(project, None))
    contexts = campaign_contexts(sample_actions(setup.rulebook, setup.channels),
                                 setup.rulebook, setup.channels, run={})
    assert contexts and all(tuple(c) == CONTEXT_NAMES for c in contexts)
    # the built-in report template reads no other name
    env = report_environment(setup.templates)
    assert unknown_names(env, REPORT_TEMPLATE, REPORT_NAMES, str) == []


@pytest.mark.parametrize("example", ["retail", "cdnow", "subscription"])
def test_the_bundled_templates_read_only_names_they_get(example: str) -> None:
    from engine.commands.common import project_config
    from engine.render.brief_data import CONTEXT_NAMES
    from engine.render.briefs import BRIEF_TEMPLATES, environment
    from engine.render.template_names import unknown_names
    from engine.run.build import load_setup
    from tests.conftest import ROOT

    project = ROOT if example == "retail" else ROOT / "examples" / example
    setup = load_setup(project_config(project, None))
    env = environment(setup.templates)
    for name in BRIEF_TEMPLATES.values():
        assert unknown_names(env, name, CONTEXT_NAMES, str) == [], (example, name)


def test_an_unknown_filter_gets_the_closest_one(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    line = _add(project / "templates" / "brief.md.j2", "{{ audience.size | nmu }}\n")
    assert _validate(project) == (1, (
        f"error: templates/brief.md.j2:{line}: template syntax error: No filter named 'nmu'.\n"
        "  hint: did you mean 'num'? (a template has Jinja2's built-in filters and the "
        "engine's money, pct and num)\n"
        "1 error(s), 0 warning(s) in 1 file(s)\n"))


def test_a_campaign_without_a_holdout_is_sampled_without_one(tmp_path: Path) -> None:
    """A new user's trial: `{{ audience.allocated / holdout.size }}` with welcome_new's
    holdout_share 0 passed validate (its sample held one customer out) and stopped the run
    with a ZeroDivisionError naming no campaign, without a hint."""
    project = copy_example_project(tmp_path)
    campaigns = project / "policies" / "campaigns.yaml"
    campaigns.write_text(campaigns.read_text().replace(
        "  welcome_new:\n", "  welcome_new:\n    holdout_share: 0\n", 1))
    line = _add(project / "templates" / "brief.md.j2",
                "{{ (audience.allocated / holdout.size) | num }}\n")
    said = runner.invoke(app, ["validate", "-p", str(project)])
    assert said.exit_code == 0  # a warning: whether run meets it depends on the data
    assert f"warning: templates/brief.md.j2:{line}: could not render: ZeroDivisionError: " \
        "division by zero\n  hint: a figure the template divides by is 0 on this data (an " \
        "empty holdout, a campaign without a budget, a month without sales): divide only " \
        "within {% if ... %}; found rendering a sample action list: cvm run stops here on " \
        "data like it\n" in said.stderr, said.stderr
    ran = runner.invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "o"), "-q",
                              "--no-history"])
    assert (ran.exit_code, ran.stderr) == (1, (
        f"error: templates/brief.md.j2:{line}: could not render: ZeroDivisionError: division "
        "by zero\n  hint: a figure the template divides by is 0 on this data (an empty "
        "holdout, a campaign without a budget, a month without sales): divide only within "
        "{% if ... %}; found rendering the brief of campaign welcome_new\n"))


def test_a_list_a_campaign_can_leave_short_or_empty_is_said_by_validate(
        tmp_path: Path) -> None:
    """A marketer's trial: `{{ audience.not_served_reasons[0].name }}` passed validate (the
    sample had every status in every campaign) and stopped the run at win_back_advocates,
    which had no customer not served, as 'list object has no element 0', naming no campaign
    and hinting at the README's variables."""
    project = copy_example_project(tmp_path)
    line = _add(project / "templates" / "brief.md.j2",
                "Mostly: {{ audience.not_served_reasons[0].name }}\n")
    said = runner.invoke(app, ["validate", "-p", str(project)])
    assert said.exit_code == 0  # a warning: whether run meets it depends on the data
    advice = ("audience.not_served_reasons can be shorter, or empty, for some campaign: loop "
              "over it ({% for item in audience.not_served_reasons %}) or test its length "
              "first ({% if audience.not_served_reasons|length > 0 %})")
    message = (f"templates/brief.md.j2:{line}: audience.not_served_reasons[0]: "
               "audience.not_served_reasons has no element 0 here\n  hint: " + advice)
    assert said.stderr == (
        f"warning: {message}; found rendering a campaign contacting one customer (one "
        "example, none held out or not served): cvm run stops here on data like it\n"
        "0 error(s), 1 warning(s) in 1 file(s)\n")
    ran = runner.invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "o"), "-q",
                              "--no-history"])
    assert (ran.exit_code, ran.stderr) == (
        1, f"error: {message}; found rendering the brief of campaign win_back_advocates\n")
    assert not (tmp_path / "o").exists()


def test_an_example_a_campaign_without_contacts_lacks_is_said_by_validate(
        tmp_path: Path) -> None:
    """`{{ examples[0].customer_id }}` renders on every campaign that contacts someone; a
    campaign whose customers are all not served (a budget spent) has no example."""
    project = copy_example_project(tmp_path)
    line = _add(project / "templates" / "brief.html.j2",
                "{% if audience.allocated %}{{ examples[0].customer_id }}{% endif %}"
                "{{ examples[0].value_tier }}\n")
    said = runner.invoke(app, ["validate", "-p", str(project), "--strict"])
    assert said.exit_code == 1
    assert said.stderr == (
        f"warning: templates/brief.html.j2:{line}: examples[0]: examples has no element 0 "
        "here\n  hint: examples can be shorter, or empty, for some campaign: loop over it ({% "
        "for item in examples %}) or test its length first ({% if examples|length > 0 %}); "
        "found rendering a campaign whose customers are all not served (no example): cvm run "
        "stops here on data like it\n0 error(s), 1 warning(s) in 1 file(s)\n")


def test_two_lists_indexed_alike_get_a_hint_without_code() -> None:
    """The review: `{{ examples[0].x }} {{ audience.not_served_reasons[0].name }}` gave a hint
    with '{% for item in the list %}', template code that does not run."""
    from engine.render.names import plain_message, undefined_hint

    line = "{{ examples[0].customer_id }} {{ audience.not_served_reasons[0].name }}"
    message = "list object has no element 0"
    assert plain_message(message, line) == message
    assert undefined_hint(message, {}, line) == (
        "a list can be shorter, or empty, for some campaign: loop over it or test its length "
        "first")


def test_a_campaign_all_held_out_is_a_thin_case_too(tmp_path: Path) -> None:
    """The re-trial: `{% if audience.not_served == 0 %}{{ examples[0].customer_id }}{% endif %}`
    passed validate (neither thin case took that branch without an example) and stopped the run
    at a campaign whose one customer was held out."""
    project = copy_example_project(tmp_path)
    line = _add(project / "templates" / "brief.md.j2", "{% if audience.not_served == 0 %}"
                "{{ examples[0].customer_id }}{% endif %}\n")
    said = runner.invoke(app, ["validate", "-p", str(project)])
    assert said.exit_code == 0
    assert said.stderr.startswith(
        f"warning: templates/brief.md.j2:{line}: examples[0]: examples has no element 0 "
        "here\n"), said.stderr
    assert "found rendering a campaign whose customers are all held out (no example, none " \
        "contacted or not served): cvm run stops here on data like it" in said.stderr


def test_an_index_from_the_end_and_an_empty_first_get_the_hint() -> None:
    """The re-trial: `examples[-1]` and `(examples|first).customer_id` got the README hint."""
    from engine.render.names import plain_message, undefined_hint

    line = "{{ examples[-1].customer_id }}"
    assert plain_message("list object has no element -1", line) == \
        "examples[-1]: examples has no element -1 here"
    assert undefined_hint("list object has no element -1", {}, line).startswith(
        "examples can be shorter, or empty, for some campaign: ")
    assert undefined_hint("No first item, sequence was empty.", {},
                          "{{ (examples|first).customer_id }}") == (
        "a list can be empty for some campaign: test it first ({% if ... %})")
