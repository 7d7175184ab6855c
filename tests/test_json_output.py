"""`--json` on validate, explain, plan, fit and score: each output validates against its
documented, versioned schema (engine/schemas/output-*.schema.json)."""

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
from tests.shared_runs import Done, SharedCommands


def _checked(kind: str, args: list[str], code: int = 0) -> dict[str, Any]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    return _conforms(kind, result.stdout)


def _shared(kind: str, done: Done) -> dict[str, Any]:
    """The document of a command run once for the session (tests/shared_runs.py)."""
    assert done.exit_code == 0, done.stdout + done.stderr
    return _conforms(kind, done.stdout)


def _conforms(kind: str, stdout: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(stdout)
    schema = json.loads(schema_path(kind).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert doc["kind"] == f"cvm.{kind}" and doc["schema_version"] == SCHEMA_VERSIONS[kind]
    assert doc["schema_version"] == schema["properties"]["schema_version"]["const"]
    return doc


def test_every_schema_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for kind in KINDS:
        assert f"engine/schemas/output-{kind}.schema.json" in readme


def test_validate_json_with_problems_and_audience(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    doc = _checked("validate", ["validate", "--json", "--audience", "-p", str(project)])
    assert doc["valid"] and doc["problems"] == []
    policies = {r["id"]: r for r in doc["audience"]["rows"] if r["kind"] == "policy"}
    assert policies["welcome_new"]["wins"] > 0
    bad = project / "policies" / "win_back.yaml"
    bad.write_text(bad.read_text().replace("clv_discounted:", "clv_discountd:"))
    doc = _checked("validate", ["validate", "--json", "-p", str(project)], code=1)
    assert not doc["valid"] and doc["problems"][0]["file"] == "policies/win_back.yaml"
    assert doc["problems"][0]["line"] is not None


def test_explain_json(shared_commands: SharedCommands) -> None:
    doc = _shared("explain", shared_commands.explain_json(ROOT, "C000001"))
    assert doc["customer_id"] == "C000001"
    assert doc["decision"]["action"]


def test_score_json(shared_commands: SharedCommands) -> None:
    doc = _shared("score", shared_commands.score_json(ROOT))
    assert doc["customers"] > 0 and len(doc["wrote"]) == 2


@pytest.mark.parametrize("project", [ROOT, ROOT / "examples" / "cdnow"], ids=["retail", "cdnow"])
def test_fit_json(project: Path, shared_commands: SharedCommands) -> None:
    doc = _shared("fit", shared_commands.fit_json(project))
    assert "gamma_gamma" in doc["models"]


def test_plan_json(shared_commands: SharedCommands) -> None:
    doc = _shared("plan", shared_commands.plan_json(
        ROOT, "policies/win_back.yaml", "clv_discounted: {gte: 25}", "clv_discounted: {gte: 5}"))
    assert doc["changed"] and doc["totals"]["changed"] > 0
    # counts are whole numbers, money amounts (a new user: "customers": 2000.0)
    counts = [k for k in doc["totals"] if not k.startswith(("cost_", "expected_value_"))]
    assert counts and all(type(doc["totals"][k]) is int for k in counts), doc["totals"]
