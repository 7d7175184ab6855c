"""Every YAML file of the project is read once per command: the one YAML loader
(engine.project.yamlio.load_file) is instrumented and each command run on the retail example.
So is the templates' reader (engine.project.templates.read_file): each template is read once,
with the project (engine.run.build), and compiled from that text. The commands tests/golden
runs are counted in the session's one golden run (tests/conftest.py, tests/read_counts.py)."""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests import golden
from tests.conftest import GoldenRun
from tests.read_counts import ReadCounter

ROOT = Path(__file__).resolve().parents[1]
# (`cvm plan` reads two projects: each of their files once)
COMMANDS = ("validate", "validate-strict", "score", "decide", "explain-C000001", "run",
            "run-jsonl", "report", "fit", "plan", "plan-html", "plan-overlay", "test",
            "validate-audience", "measure", "history")


def _more_commands(project: Path) -> list[tuple[str, list[str]]]:
    """The commands golden does not run (after `cvm run`, so that there is a history to
    measure)."""
    p = ["--project", str(project)]
    return [("test", ["test", *p]), ("validate-audience", ["validate", "--audience", *p]),
            ("measure", ["measure", *p, "--out", str(project.parent / "measure")]),
            ("history", ["history", *p])]


@pytest.fixture(scope="module")
def reads(golden_run: GoldenRun, tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, collections.Counter[str]]:
    """golden's commands on the retail example, counted in the session's one golden run
    (tests/conftest.py), and those it does not run, counted here."""
    found: dict[str, collections.Counter[str]] = {}
    for label in COMMANDS:
        if f"retail/{label}" in golden_run.reads:
            # --detailed-exitcode: 2 says the plan changes something
            printed = golden_run.prints[f"retail/{label}/output"]
            assert printed.startswith(f"exit {2 if label == 'plan-overlay' else 0}\n"), printed
            found[label] = golden_run.reads[f"retail/{label}"]
    tmp = tmp_path_factory.mktemp("read-once")
    project = golden._copy("retail", tmp / "projects")
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")  # for cvm test
    ran = CliRunner().invoke(app, ["run", "--project", str(project), "--out", str(tmp / "out"),
                                   "-q"])
    assert ran.exit_code == 0, ran.output
    counter = ReadCounter()
    with counter.installed():
        for label, args in _more_commands(project):
            with counter.counting(label):
                result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, result.output
    found.update(counter.found)
    assert set(found) == set(COMMANDS)
    return found


@pytest.mark.parametrize("command", COMMANDS)
def test_every_yaml_file_is_read_once(reads: dict[str, collections.Counter[str]],
                                      command: str) -> None:
    counts = reads[command]
    assert any(p.endswith("cvm.yaml") for p in counts), "the loader was not instrumented"
    again = {p: n for p, n in counts.items() if n > 1}
    assert not again, f"cvm {command} reads these files more than once: {again}"


def test_the_template_loader_is_instrumented(reads: dict[str, collections.Counter[str]]
                                             ) -> None:
    for command in ("run", "plan"):
        assert {Path(p).name for p in reads[command]} >= {"brief.md.j2", "brief.html.j2"}
