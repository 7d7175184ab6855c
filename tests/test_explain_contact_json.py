"""`cvm explain --json` (schema version 3) carries the contact policies' verdicts and the
expected response of the customer's campaign, as the text output shows them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from engine.cli import app
from engine.workflow.json_output import schema_path
from tests.history_runs import retail_copy

ROOT = Path(__file__).resolve().parents[1]


def cvm(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_explain_json_has_the_contact_verdicts(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    config = (ROOT / "cvm.yaml").read_text()
    (project / "cvm.yaml").write_text(config.replace("as_of: null", "as_of: 2025-12-28"))
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    done = cvm("run", "--project", str(project), "--out", str(tmp_path / "run1"), "-q")
    assert done.exit_code == 0, done.stderr
    (project / "cvm.yaml").write_text(config)
    acts = pd.read_csv(tmp_path / "run1" / "actions.csv")
    who = acts[(acts["status"] == "allocated") & (acts["channel"] == "email")
               & (acts["campaign"] == "win_back")].iloc[0]["customer_id"]
    shown = cvm("explain", who, "--json", "--project", str(project))
    assert shown.exit_code == 0, shown.stderr
    doc = json.loads(shown.stdout)
    jsonschema.validate(doc, json.loads(schema_path("explain").read_text()),
                        cls=jsonschema.Draft202012Validator)
    assert doc["schema_version"] == 8
    contact = doc["contact_policies"]
    assert (contact["file"], contact["contacts_from"], contact["contacts_counted"]) == (
        "policies/contact_policies.yaml", "the history", 1)
    weekly = next(v for v in contact["verdicts"] if v["id"] == "email_weekly")
    assert weekly == {"id": "email_weekly", "kind": "cap", "scope": "channel email",
                      "allows": False, "blocks": ["email"],
                      "reason": "contact policy email_weekly: 1 contact in the last 7 days "
                                "(at most 1)"}
    assert sum(not v["allows"] for v in contact["verdicts"]) == 1
    expected = doc["expected_response"]
    assert (expected["campaign"], expected["figure"], expected["runs_measured"]) == (
        "win_back", "declared", 0)
    assert expected["channels"]["email"]["response"] == 0.03
    text = cvm("explain", who, "--project", str(project)).stdout
    # one column for the names, as wide as the longest (it overflowed the 24 of before)
    assert "  email_weekly                cap (channel email): blocks email: contact policy " \
        "email_weekly: 1 contact in the last 7 days (at most 1)" in text
    assert "  monthly_total               cap (every contact): allows a contact" in text
    assert "  after_complaint_or_purchase quiet_after (every contact): allows a contact" in text
