"""One builder (issue 12): ``cvm validate`` and every command that loads the project read it
through the same call, so errors in several files are reported together by both, and a
project that validates builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InputError
from engine.run.build import build, load_project
from tests import golden

# every command labels each problem; `cvm validate` counts them, the other commands stop
VALIDATE = """\
error: rules/value_tiers.yaml:6:8: basis: found 'total_valeu', expected one of total_value, \
historic_value, potential_value, clv_discounted, clv_simple, value_score
  hint: did you mean 'total_value'?
error: policies/win_back.yaml:6:11: priority: found 'high' (text), expected a whole number
  hint: the higher number wins: e.g. 90 comes before 70
error: policies/channels.yaml:13:23: channels[0].cost_per_contact: found -35.0, expected a \
number of at least 0
  hint: a negative number is never one here: write it without the minus sign
error: templates/brief.md.j2:1: template syntax error: unexpected end of template, expected \
'end of print statement'.
  hint: Jinja2's syntax: {{ expression }}, {% tag %}, and each {% if %}, {% for %}, \
{% macro %} closed by its {% endif %}, {% endfor %}, {% endmacro %}
4 error(s), 0 warning(s) in 4 file(s)
not checked until policies/channels.yaml reads: the channels the policies and the contact \
policies name
not checked until policies/win_back.yaml reads: the rules' and policies' conditions (compiled, \
never matching, shadowed, out of range), the campaigns they name and the templates rendered
"""


def _broken(tmp_path: Path) -> Path:
    project = golden._copy("retail", tmp_path)
    for file, old, new in (("rules/value_tiers.yaml", "basis: total_value", "basis: total_valeu"),
                           ("policies/win_back.yaml", "priority: 70", "priority: high"),
                           ("policies/channels.yaml", "cost_per_contact: 35.00",
                            "cost_per_contact: -35.00")):
        text = (project / file).read_text()
        assert old in text
        (project / file).write_text(text.replace(old, new, 1))
    (project / "templates" / "brief.md.j2").write_text("{{ oops \n")
    return project


def test_validate_and_run_report_the_errors_of_every_file_together(tmp_path: Path) -> None:
    project = _broken(tmp_path)
    runner = CliRunner()
    validated = runner.invoke(app, ["validate", "--project", str(project)])
    assert (validated.exit_code, validated.output) == (1, VALIDATE)
    # before: `cvm run` stopped at the first file with errors (the value tiers)
    for command in (["run", "--out", str(tmp_path / "out")], ["decide"],
                    ["explain", "C000001"], ["test"]):
        got = runner.invoke(app, [*command, "--project", str(project)])
        assert (got.exit_code, got.output) == (1, VALIDATE.rsplit("4 error(s)", 1)[0]), command



def test_the_errors_are_the_builders(tmp_path: Path) -> None:
    project = _broken(tmp_path)
    built = build(project, None, lint=True)
    assert built.project is None
    assert [p.file for p in built.errors] == ["rules/value_tiers.yaml", "policies/win_back.yaml",
                                             "policies/channels.yaml", "templates/brief.md.j2"]
    with pytest.raises(InputError) as exc:
        load_project(project)
    assert [p.format() for p in exc.value.problems] == [p.format() for p in built.errors]


def test_a_project_that_validates_builds(tmp_path: Path) -> None:
    project = golden._copy("retail", tmp_path)
    built = build(project, None, lint=True)
    assert not built.errors
    assert load_project(project) == built.project
