"""Every YAML file of the project is read once per command: the one YAML loader
(engine.project.yamlio.load_file) is instrumented and each command run on the retail example.
So is the templates' reader (engine.project.templates.read_file): each template is read once,
with the project (engine.run.build), and compiled from that text."""

from __future__ import annotations

import collections
import importlib
import pkgutil
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import engine
from engine.cli import app
from engine.project import templates, yamlio
from engine.render import sandbox
from tests import golden

ROOT = Path(__file__).resolve().parents[1]
# (`cvm plan` reads two projects: each of their files once)
COMMANDS = ("validate", "validate-strict", "score", "decide", "explain-C000001", "run",
            "run-jsonl", "report", "fit", "plan", "plan-html", "plan-overlay", "test",
            "validate-audience", "measure", "history")


def _commands(project: Path, out: Path) -> list[tuple[str, list[str]]]:
    """golden's commands on the example, then those it does not run (after `cvm run`, so
    that there is a history to measure)."""
    p = ["--project", str(project)]
    return [*golden.commands("retail", project, out),
            ("test", ["test", *p]), ("validate-audience", ["validate", "--audience", *p]),
            ("measure", ["measure", *p, "--out", str(out / "measure")]),
            ("history", ["history", *p])]


@pytest.fixture(scope="module")
def reads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, collections.Counter[str]]:
    tmp = tmp_path_factory.mktemp("read-once")
    project = golden._copy("retail", tmp / "projects")
    golden._proposal("retail", project)  # for cvm plan
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")  # for cvm test
    counts: collections.Counter[str] = collections.Counter()
    loader = yamlio.load_file

    def counted(path: Path, **kwargs: Any) -> yamlio.YamlDoc:
        counts[str(Path(path).resolve())] += 1
        return loader(path, **kwargs)

    patch = pytest.MonkeyPatch()
    read_template = templates.read_file

    def counted_template(path: Path) -> bytes:
        counts[str(Path(path).resolve())] += 1
        return read_template(path)

    patch.setattr(templates, "read_file", counted_template)
    # modules bind the loader by name: each binding is replaced
    # (Alembic's migration scripts are run by Alembic, never imported)
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        if info.name != "engine.__main__" and ".migrations" not in info.name:
            module = importlib.import_module(info.name)
            if getattr(module, "load_file", None) is loader:
                patch.setattr(module, "load_file", counted)
    found: dict[str, collections.Counter[str]] = {}
    try:
        for label, args in _commands(project, tmp / "out"):
            if label in COMMANDS:
                counts.clear()
                sandbox.sandbox.cache_clear()  # as in a new process: no template compiled yet
                result = CliRunner().invoke(app, args)
                # --detailed-exitcode: 2 says the plan changes something
                assert result.exit_code == (2 if label == "plan-overlay" else 0), result.output
                found[label] = collections.Counter(counts)
    finally:
        patch.undo()
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
