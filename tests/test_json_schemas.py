"""The editor JSON Schemas (engine/schemas/) are generated from the declarations that check
the files (engine.project.json_schemas), and say what the engine accepts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from engine.project import json_schemas
from engine.project.rulebook import load_rulebook
from engine.project.schema import attribute_types
from tests.test_rulebook import GOOD, project

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "engine" / "workflow" / "starter"


def _plain(value: Any) -> Any:
    """YAML as an editor sees it: an unquoted date is text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((json_schemas.FOLDER / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", list(json_schemas.FILES))
def test_the_committed_schemas_are_the_generated_ones(name: str) -> None:
    """Regenerate with python -m engine.project.json_schemas."""
    assert (json_schemas.FOLDER / name).read_text(encoding="utf-8") == json_schemas.text(name)


def _kind(path: Path) -> str | None:
    if path.name == "cvm.yaml":
        return "cvm.schema.json"
    if path.parent.name == "policies":
        return {"channels.yaml": "channels.schema.json",
                "campaigns.yaml": "campaigns.schema.json",
                "contact_policies.yaml": "contact_policies.schema.json"}.get(
                    path.name, "policy.schema.json")
    if path.parent.name == "rules":
        return "value_tiers.schema.json" if path.name == "value_tiers.yaml" else \
            "rules.schema.json"
    return None


SHIPPED = sorted({*ROOT.glob("cvm.yaml"), *ROOT.glob("examples/*/cvm.yaml"),
                  *ROOT.glob("rules/*.yaml"), *ROOT.glob("policies/*.yaml"),
                  *ROOT.glob("examples/*/rules/*.yaml"),
                  *ROOT.glob("examples/*/policies/*.yaml"),
                  *STARTER.glob("rules/*.yaml"), *STARTER.glob("policies/*.yaml")})


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_file_validates_against_its_schema(path: Path) -> None:
    kind = _kind(path)
    assert kind is not None
    errors = list(_validator(kind).iter_errors(_plain(yaml.safe_load(path.read_text()))))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("then", [
    "then:\n  action: retain\n  channels: [email]\n  offer: null\n",
    "then:\n  action: no_action\n  channels: []\n",
    "then:\n  service_level: premium\n  action: null\n",
])
def test_the_policy_schema_accepts_what_the_engine_accepts(tmp_path: Path, then: str) -> None:
    """The hand-written schema refused these (null where the engine reads null as unset; an
    empty channel list without a contact action): the declarations say them."""
    text = GOOD.split("then:")[0] + then
    folder = project(tmp_path, {"policies/x.yaml": text})
    assert "x" in [p.id for p in load_rulebook(folder, attribute_types()).policies]
    assert not list(_validator("policy.schema.json").iter_errors(yaml.safe_load(text)))


def test_the_policy_schema_knows_the_history_attributes_with_their_types() -> None:
    """previous_tier, tier_change, ...: typed and documented, no longer `other_test`."""
    validator = _validator("policy.schema.json")
    good = yaml.safe_load(GOOD)
    assert not list(validator.iter_errors({**good, "when": {"tier_change": {"lt": 0}}}))
    assert list(validator.iter_errors({**good, "when": {"tier_change": {"in": ["x"]}}}))
    assert list(validator.iter_errors({**good, "description": ""}))


def test_the_generator_checks_and_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(json_schemas, "FOLDER", tmp_path)
    assert json_schemas.main(["--check"]) == 1
    assert f"{len(json_schemas.FILES)} schema(s) differ from the declarations: " \
        "policy.schema.json" in capsys.readouterr().out
    assert json_schemas.main([]) == 0
    assert json_schemas.main(["--check"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(json_schemas.FILES)
