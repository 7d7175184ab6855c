"""The template sandbox bounds the work and the memory of each render and of a whole run:
a costly filter is charged by the size of its input before it runs, every value built counts
towards a total per render, and the briefs of one run share one bound."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import engine.render.sandbox as sb
from engine.cli import app
from engine.errors import InputError
from engine.project.templates import read_templates
from tests.conftest import copy_example_project

runner = CliRunner()
HINT = ("templates are limited so that no file can hang a run or exhaust memory (README "
        "\"Campaign briefs\"); loop over the documented lists only")
WORDWRAP = ("{% set big = 'ab ' * 300000 %}{% for i in range(500) %}"
            "{{ big|wordwrap(3)|length }}{% endfor %}\n")
MEMORY = ("{% set ns = namespace(l=[]) %}{% for i in range(490) %}"
          "{% set ns.l = ns.l + [('\U0001F600' * 999990) ~ i] %}{% endfor %}"
          "{{ ns.l|length }}\n")


def _render(tmp_path: Path, text: str, name: str = "t.md.j2") -> sb.Sandbox:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    env = sb.sandbox(read_templates(folder.parent), trim=True)
    sb.render_template(env, name, {}, lambda n: f"templates/{n}")
    return env


def _problem(tmp_path: Path, text: str) -> tuple[str, str | None, int | None, str | None]:
    with pytest.raises(InputError) as exc:
        _render(tmp_path, text)
    p = exc.value.problems[0]
    return p.message, p.file, p.line, p.hint


def test_a_costly_filter_is_charged_by_its_input(tmp_path: Path) -> None:
    # ran for minutes before the fix: 500 wordwraps of 900,000 characters
    assert _problem(tmp_path, WORDWRAP) == (
        "the template takes more than 1,000,000 steps (loop iterations, calls and operations)",
        "templates/t.md.j2", 1, HINT)


def test_the_characters_built_in_a_render_are_bounded(tmp_path: Path) -> None:
    # peaked near 2 GB before the fix: 490 texts of a million characters kept in a list
    assert _problem(tmp_path, MEMORY) == (
        "the template builds more than 50,000,000 characters or items in all",
        "templates/t.md.j2", 1, HINT)


def test_a_run_is_bounded_in_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sb, "MAX_RUN_STEPS", 25_000)
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.md.j2").write_text("{% for i in range(10000) %}{% endfor %}\n")
    env = sb.sandbox(read_templates(folder.parent), trim=True)
    env.start_run()
    sb.render_template(env, "t.md.j2", {}, str, new_run=False)
    sb.render_template(env, "t.md.j2", {}, str, new_run=False)
    # fails before the fix: each render was bounded on its own, never a run's renders in all
    with pytest.raises(InputError) as exc:
        sb.render_template(env, "t.md.j2", {}, str, new_run=False)
    assert exc.value.problems[0].message == (
        "the template takes, with the templates rendered before it in this run, more than "
        "25,000 steps")
    sb.render_template(env, "t.md.j2", {}, str)  # a new run starts afresh


def test_cvm_run_stops_at_the_template_with_exit_1(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    (project / "templates" / "brief.md.j2").write_text(WORDWRAP)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 1, res.stderr
    assert res.stderr == (
        "error: templates/brief.md.j2:1: the template takes more than 1,000,000 steps (loop "
        "iterations, calls and operations)\n"
        f"  hint: {HINT}\n")
    assert not out.exists()


@pytest.mark.parametrize("text", [
    "{% for i in range(10**7) %}x{% endfor %}\n",  # a limit whatever the data
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n"])
def test_a_template_over_its_limits_on_every_sample_fails_validate(tmp_path: Path,
                                                                   text: str) -> None:
    """Session 41's list: a brief template asking for range(10**7) passed cvm validate with a
    warning ('cvm run stops here on data like it') and failed every run: one that fails on
    every sample, the thinnest too, fails whatever the data."""
    project = copy_example_project(tmp_path)
    brief = project / "templates" / "brief.md.j2"
    brief.write_text(brief.read_text() + text)
    line = len(brief.read_text().splitlines())
    res = runner.invoke(app, ["validate", "-p", str(project)])
    assert res.exit_code == 1, res.output
    first = res.stderr.splitlines()[0]
    assert first.startswith(f"error: templates/brief.md.j2:{line}: the template "), first
    assert res.stderr.splitlines()[1] == (
        f"  hint: {HINT}; found rendering every sample action list, the thinnest too: cvm run "
        "stops here whatever the data")
    run = runner.invoke(app, ["run", "-p", str(project), "-q", "--no-history"])
    assert run.exit_code == 1 and run.stderr.startswith(first)


def test_a_template_failing_for_one_campaign_only_stays_a_warning(tmp_path: Path) -> None:
    """A review: a template failing for welcome_new alone failed validate 'whatever the
    data', where a run in which welcome_new has no customer renders every brief."""
    project = copy_example_project(tmp_path)
    brief = project / "templates" / "brief.md.j2"
    brief.write_text(brief.read_text() + '{% if campaign.id == "welcome_new" %}'
                     "{{ range(10**7) | list | length }}{% endif %}\n")
    res = runner.invoke(app, ["validate", "-p", str(project)])
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith("warning: templates/brief.md.j2:"), res.stderr
