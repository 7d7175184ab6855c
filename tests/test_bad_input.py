"""The bad-input corpus (tests/cases/bad_input/, see its README): every case gets its exact
message, its documented exit code, no traceback, and leaves the project as it was."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from tests.ci_jobs import main_job_only

CASES_DIR = Path(__file__).resolve().parent / "cases" / "bad_input"
PROJECT = CASES_DIR / "project"


# the corpora of YAML, cvm.yaml, the command line, rules and templates: what they refuse is
# read by PyYAML, typer, durable-rules and Jinja2, the same in every CI job (only pandas, numpy
# and pyarrow differ in the oldest)
NO_DATA = main_job_only("YAML, the command line, rules and templates are read alike whatever "
                        "the pandas; the oldest job runs the data's cases")
MAIN_JOB = {"templates", "rules", "yaml", "config", "cli"}


def _cases() -> list[Any]:
    out = []
    for file in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(file.read_text(encoding="utf-8"))["cases"]:
            out.append(pytest.param(case, id=f"{file.stem}:{case['name']}",
                                    marks=[NO_DATA] if file.stem in MAIN_JOB else []))
    return out


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _expand(text: str, repeat: dict[str, list[Any]]) -> str:
    for marker, (piece, times) in repeat.items():
        text = text.replace(marker, piece * times)
    return text


def prepare(case: dict[str, Any], project: Path) -> None:
    """Copy the base project to ``project`` and apply the case's changes."""
    shutil.copytree(PROJECT, project)
    repeat = case.get("repeat", {})
    for name, pairs in case.get("edit", {}).items():
        path = project / name
        text = path.read_text(encoding="utf-8")
        for old, new in pairs:
            assert old in text, f"{name}: {old!r} not found"
            text = text.replace(old, _expand(new, repeat))
        path.write_text(text, encoding="utf-8")
    for name, spec in case.get("write_parquet", {}).items():
        _write_parquet(project / name, project / spec["from"], spec.get("types", {}),
                       spec.get("rows"))
    for name, content in {**case.get("write", {}), **case.get("write_bytes", {})}.items():
        path = project / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        content = _expand(content, repeat)
        if name in case.get("write_bytes", {}):
            path.write_bytes(content.encode("latin-1"))
        else:
            path.write_text(content, encoding="utf-8")


def _write_parquet(path: Path, source: Path, types: dict[str, str], rows: int | None) -> None:
    """A Parquet file from a (case-edited) CSV file: every column text, or cast to the Arrow
    type named in ``types`` (``float64``, ``date32``...; ``list``: each value in a list)."""
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    columns = {}
    for column in frame.columns:
        values = [None if v == "" else v for v in frame[column]]
        kind = types.get(column, "string")
        columns[column] = pa.array([[v] for v in values]) if kind == "list" else \
            pa.array(values, pa.string()).cast(getattr(pa, kind)())
    table = pa.table(columns)
    pq.write_table(table if rows is None else table.slice(0, rows), path)


@pytest.mark.parametrize("case", _cases())
def test_bad_input(case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                   ) -> None:
    project = tmp_path / "project"
    prepare(case, project)
    monkeypatch.chdir(project)
    before = _snapshot(project)
    args = [a.replace("{project}", str(project)) for a in case["command"]]
    if case.get("project", True):
        args += ["--project", str(project)]
    result = CliRunner().invoke(app, args)
    if "stderr" in case:
        expected = case["stderr"].replace("{project}", str(project))
        assert result.stderr.rstrip("\n") == expected.rstrip("\n")
    else:  # a usage error worded by Typer: its own line is checked, not Typer's layout
        assert case["stderr_contains"].replace("{project}", str(project)) in result.stderr
    assert result.exit_code == case["exit"]
    assert "Traceback" not in result.stdout + result.stderr
    if case["exit"] != 0:
        assert _snapshot(project) == before  # nothing written, changed or deleted
    for name, patterns in case.get("output_matches", {}).items():
        content = (project / name).read_text(encoding="utf-8")
        for pattern in patterns:
            assert re.search(pattern, content, re.MULTILINE), f"{name} lacks {pattern!r}"
    for name, texts in case.get("output_lacks", {}).items():
        content = (project / name).read_text(encoding="utf-8")
        for text in texts:
            assert text not in content, f"{name} contains {text!r}"


def test_case_names_are_unique() -> None:
    names = [p.id for p in _cases()]
    assert len(names) == len(set(names))
