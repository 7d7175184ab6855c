"""Every YAML file of the project is read once per command: the one YAML loader
(engine.project.yamlio.load_file) is instrumented and each command run on the retail example."""

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
from tests import golden

# `cvm plan` reads two projects through `cvm validate`'s checks and the pipeline's: not yet once
COMMANDS = ("validate", "score", "decide", "explain-C000001", "run", "report", "fit")


@pytest.fixture(scope="module")
def reads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, collections.Counter[str]]:
    tmp = tmp_path_factory.mktemp("read-once")
    project = golden._copy("retail", tmp / "projects")
    counts: collections.Counter[str] = collections.Counter()
    loader = yamlio.load_file

    def counted(path: Path, **kwargs: Any) -> yamlio.YamlDoc:
        counts[str(Path(path).resolve())] += 1
        return loader(path, **kwargs)

    patch = pytest.MonkeyPatch()
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
                result = CliRunner().invoke(app, args)
                assert result.exit_code == 0, result.output
                found[label] = collections.Counter(counts)
    finally:
        patch.undo()
    return found


@pytest.mark.parametrize("command", COMMANDS)
def test_every_yaml_file_is_read_once(reads: dict[str, collections.Counter[str]],
                                      command: str) -> None:
    counts = reads[command]
    assert any(p.endswith("cvm.yaml") for p in counts), "the loader was not instrumented"
    again = {Path(p).name: n for p, n in counts.items() if n > 1}
    assert not again, f"cvm {command} reads these files more than once: {again}"
