"""`cvm validate --audience` allocates today's customers and renders every brief on the real
figures, as `cvm run` does, so that a template (or a campaign's value at stake) that fails on
this data is an error before the run, not only a warning from the samples."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


def test_a_template_that_fails_on_today_s_figures_fails_validate_audience(
        tmp_path: Path) -> None:
    """A marketer's trial: a template dividing by audience.not_served was a warning of
    `cvm validate` (and `--audience` exited 0), then `cvm run` failed on win_back_advocates,
    whose not_served is 0."""
    project = copy_example_project(tmp_path)
    template = project / "templates" / "brief.md.j2"
    text = template.read_text()
    template.write_text(text + "Cost per not-served: {{ expected.cost / audience.not_served }}\n")
    line = len(text.splitlines()) + 1
    plain = runner.invoke(app, ["validate", "-p", str(project)])
    assert plain.exit_code == 0, plain.stderr
    assert f"warning: templates/brief.md.j2:{line}: could not render" in plain.stderr
    said = runner.invoke(app, ["validate", "-p", str(project), "--audience"])
    ran = runner.invoke(app, ["run", "-p", str(project), "--no-history", "--quiet"])
    assert ran.exit_code == 1
    lines = ran.stderr.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("error: "))
    stop = lines[at:at + 2]  # the run's error and its hint, said by validate before the run
    assert "found rendering the brief of campaign" in stop[1], stop
    assert said.exit_code == 1, said.stderr
    shown = said.stderr.splitlines()
    assert any(shown[i:i + 2] == stop for i in range(len(shown))), (stop, said.stderr)
