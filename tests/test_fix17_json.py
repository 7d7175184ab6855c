"""--json documents agree with the exit code, carry data errors, and their schemas are closed
(issue 17 review, findings 16 and 17)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.workflow.json_output import KINDS, SCHEMA_VERSIONS, schema_path
from tests.conftest import ROOT, copy_example_project
from tests.shared_runs import SharedCommands


def _schema(kind: str) -> dict[str, Any]:
    return dict(json.loads(schema_path(kind).read_text()))


def _valid(kind: str, doc: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(doc, _schema(kind), cls=jsonschema.Draft202012Validator)
    except jsonschema.ValidationError:
        return False
    return True


def _warning_only(tmp_path: Path) -> Path:
    project = copy_example_project(tmp_path)
    (project / "rules" / "old.yml").write_text("x: 1\n")  # not read: a warning
    return project


def test_strict_json_with_only_warnings_says_invalid(tmp_path: Path) -> None:
    project = _warning_only(tmp_path)
    result = CliRunner().invoke(app, ["validate", "--json", "--strict", "-p", str(project)])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["valid"], doc["strict"], doc["errors"], doc["warnings"]) == (False, True, 0, 1)
    assert _valid("validate", doc)
    result = CliRunner().invoke(app, ["validate", "--json", "-p", str(project)])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc["valid"], doc["strict"]) == (True, False)


def test_audience_json_carries_the_data_errors(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    data = tmp_path / "tx.csv"
    rows = (ROOT / "examples" / "retail" / "transactions.csv").read_text().splitlines()
    head = rows[0].split(",")
    bad = rows[1].split(",")
    bad[head.index("OrderDate")] = "yesterday"
    data.write_text("\n".join([rows[0], ",".join(bad), *rows[2:50]]) + "\n")
    config = project / "cvm.yaml"
    text = config.read_text()
    start = text.index("transactions: ") + len("transactions: ")
    config.write_text(text[:start] + str(data) + text[text.index("\n", start):])
    result = CliRunner().invoke(app, ["validate", "--json", "--audience", "-p", str(project)])
    assert result.exit_code == 1
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert _valid("validate", doc)
    assert doc["valid"] is False and doc["errors"] == 1
    problem = doc["problems"][0]
    assert (problem["file"], problem["line"]) == (str(data), 2)
    assert "found 'yesterday'" in problem["message"]


def test_warnings_go_to_stderr_beside_the_audience_table(tmp_path: Path) -> None:
    project = _warning_only(tmp_path)
    result = CliRunner().invoke(app, ["validate", "--audience", "-p", str(project)])
    assert result.exit_code == 0
    assert "warning: rules/old.yml" in result.stderr
    assert "warning" not in result.stdout
    assert result.stdout.startswith("Audience sizes: ")


def test_each_document_has_its_own_version() -> None:
    assert set(SCHEMA_VERSIONS) == set(KINDS)
    for kind in KINDS:
        assert _schema(kind)["properties"]["schema_version"] == {
            "const": SCHEMA_VERSIONS[kind]}


@pytest.fixture(scope="module")
def plan_doc(shared_commands: SharedCommands) -> dict[str, Any]:
    """The plan of tests/test_json_output.py, run once for the session (tests/shared_runs.py)."""
    done = shared_commands.plan_json(ROOT, "policies/win_back.yaml",
                                     "clv_discounted: {gte: 25}", "clv_discounted: {gte: 5}")
    assert done.exit_code == 0, done.stdout + done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    assert _valid("plan", doc)
    return doc


@pytest.mark.parametrize("part", ["policies", "channels", "unserved", "sample", "totals"])
def test_plan_rows_accept_no_unlisted_field(plan_doc: dict[str, Any], part: str) -> None:
    """A field added to (or renamed in) a row is caught by the schema."""
    doc = json.loads(json.dumps(plan_doc))
    row = doc[part] if part == "totals" else doc[part][0]
    row["renamed_field"] = row.pop(next(iter(row)))
    assert not _valid("plan", doc)
    doc = json.loads(json.dumps(plan_doc))
    row = doc[part] if part == "totals" else doc[part][0]
    row["added_field"] = 1
    assert not _valid("plan", doc)
