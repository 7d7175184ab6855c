"""Every YAML file of the project is read once per command: the one YAML loader
(engine.project.yamlio.load_file) is instrumented and each command run on the retail example.
So is the templates' loader (engine.render.sandbox): each template is read once, then held
compiled."""

from __future__ import annotations

import collections
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import engine
from engine.cli import app
from engine.project import yamlio
from engine.render import sandbox
from tests import golden

# (`cvm plan` reads two projects: each of their files once)
COMMANDS = ("validate", "score", "decide", "explain-C000001", "run", "report", "fit", "plan",
            "plan-html", "plan-overlay")


@pytest.fixture(scope="module")
def reads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, collections.Counter[str]]:
    tmp = tmp_path_factory.mktemp("read-once")
    project = golden._copy("retail", tmp / "projects")
    golden._proposal("retail", project)  # for cvm plan
    counts: collections.Counter[str] = collections.Counter()
    loader = yamlio.load_file

    def counted(path: Path, **kwargs: Any) -> yamlio.YamlDoc:
        counts[str(Path(path).resolve())] += 1
        return loader(path, **kwargs)

    patch = pytest.MonkeyPatch()
    get_source = sandbox._Loader.get_source

    def counted_template(self: sandbox._Loader, environment: Any, template: str) -> Any:
        found = [Path(f) / template for f in self.searchpath if (Path(f) / template).is_file()]
        counts[str(found[0].resolve()) if found else f"template:{template}"] += 1
        return get_source(self, environment, template)

    patch.setattr(sandbox._Loader, "get_source", counted_template)
    # modules bind the loader by name: each binding is replaced
    # (Alembic's migration scripts are run by Alembic, never imported)
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        if info.name != "engine.__main__" and ".migrations" not in info.name:
            module = importlib.import_module(info.name)
            if getattr(module, "load_file", None) is loader:
                patch.setattr(module, "load_file", counted)
    found: dict[str, collections.Counter[str]] = {}
    try:
        for label, args in golden.commands("retail", project, tmp / "out"):
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
