"""The Python API returns what the README promises."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import engine
from engine import api
from engine.project import yamlio
from tests import golden
from tests.shared_runs import SharedCommands

ROOT = Path(__file__).resolve().parents[1]


def test_score_returns_the_value_table_as_written(shared_commands: SharedCommands) -> None:
    result = api.score(ROOT)
    assert isinstance(result, api.ScoreResult)
    assert result.as_of == dt.date(2026, 1, 1)
    assert result.counts["customers"] == len(result.table) == 2000
    assert result.counts["rows_read"] == result.counts["rows_used"] + sum(
        v for k, v in result.counts.items() if k.startswith("rows_skipped"))
    # what `cvm score` wrote: the session's score of the example (tests/shared_runs.py)
    scored = shared_commands.score_json(ROOT)
    assert scored.exit_code == 0
    written = pd.read_parquet(scored.out / "customers.parquet")
    pd.testing.assert_frame_equal(result.table, written, check_dtype=False,
                                  check_categorical=False)
    assert not list(Path.cwd().glob(".cvm-tmp-*"))


def test_a_project_is_read_once_then_every_call_takes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """api.load_project reads and checks the files; run and score take the Project, read no
    YAML again (the loader refuses once it is built) and give what a folder gives."""
    folder = golden._copy("retail", tmp_path / "projects")
    from_folder = api.run(folder, out=tmp_path / "a", history=False)
    scored = api.score(folder).table
    project = api.load_project(folder)
    assert isinstance(project, api.Project) and project.folder == folder
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.tiers = project.tiers  # type: ignore[misc]

    def refused(path: Path, **kwargs: Any) -> yamlio.YamlDoc:
        raise AssertionError(f"{path} read again")

    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        if info.name != "engine.__main__" and ".migrations" not in info.name:
            module = importlib.import_module(info.name)
            if getattr(module, "load_file", None) is yamlio.load_file:
                monkeypatch.setattr(module, "load_file", refused)
    from_project = api.run(project, out=tmp_path / "b", history=False)
    for name in ("decisions.csv", "actions.csv", "customers.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert from_project.counts == from_folder.counts
    pd.testing.assert_frame_equal(api.score(project).table, scored)
