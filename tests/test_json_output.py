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


def _checked(kind: str, args: list[str], code: int = 0) -> dict[str, Any]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    doc = json.loads(result.stdout)
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


def test_explain_json() -> None:
    doc = _checked("explain", ["explain", "C000001", "--json", "-p", str(ROOT)])
    assert doc["customer_id"] == "C000001"
    assert doc["decision"]["action"]


def test_score_json(tmp_path: Path) -> None:
    doc = _checked("score", ["score", "--json", "-p", str(ROOT), "--out", str(tmp_path / "o")])
    assert doc["customers"] > 0 and len(doc["wrote"]) == 2


@pytest.mark.parametrize("project", [ROOT, ROOT / "examples" / "cdnow"], ids=["retail", "cdnow"])
def test_fit_json(project: Path, tmp_path: Path) -> None:
    doc = _checked("fit", ["fit", "--json", "-p", str(project), "--out", str(tmp_path / "o")])
    assert "gamma_gamma" in doc["models"]


def test_plan_json(tmp_path: Path) -> None:
    proposed = tmp_path / "proposed" / "policies"
    proposed.mkdir(parents=True)
    text = (ROOT / "policies" / "win_back.yaml").read_text()
    (proposed / "win_back.yaml").write_text(text.replace("clv_discounted: {gte: 25}",
                                                         "clv_discounted: {gte: 5}"))
    doc = _checked("plan", ["plan", "--json", "-p", str(ROOT), "--overlay", "--proposed",
                            str(proposed.parent)])
    assert doc["changed"] and doc["totals"]["changed"] > 0
