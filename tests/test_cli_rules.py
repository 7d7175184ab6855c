"""``cvm validate``, ``cvm decide`` and ``cvm explain`` through the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


_project = copy_example_project
# a new user read "valid" as "run will work": the data's other rows are checked by the commands
# that read them
DATA_CHECKED = ("  data: the columns, the first 1,000 rows and every row's customer id, date "
                "and numbers of each file checked; the other values are checked by cvm run, "
                "or now by cvm validate --audience\n")


def test_validate_clean_project() -> None:
    res = runner.invoke(app, ["validate", "--project", str(ROOT)])
    assert res.exit_code == 0, res.output
    assert res.stdout == ("valid: cvm.yaml, rules/, policies/, templates/, triggers/ "
                          "and policy_tests/ have no problems\n" + DATA_CHECKED)


def test_validate_names_only_the_folders_it_checked(tmp_path: Path) -> None:
    project = _project(tmp_path)
    for folder in ("triggers", "policy_tests"):
        shutil.rmtree(project / folder, ignore_errors=True)
    res = runner.invoke(app, ["validate", "--project", str(project)])
    assert res.exit_code == 0, res.output
    assert res.stdout == ("valid: cvm.yaml, rules/, policies/ and templates/ have no "
                          "problems\n" + DATA_CHECKED)


def test_validate_names_the_configuration_file_it_checked(tmp_path: Path) -> None:
    # a new user's trial: `-c other.yaml` said "valid: cvm.yaml, ..."
    project = _project(tmp_path)
    for folder in ("triggers", "policy_tests"):
        shutil.rmtree(project / folder, ignore_errors=True)
    (project / "staging.yaml").write_text((project / "cvm.yaml").read_text())
    elsewhere = tmp_path / "other.yaml"
    elsewhere.write_text((project / "cvm.yaml").read_text())  # paths: from the project
    for config, said in (("staging.yaml", "staging.yaml"), (str(elsewhere), str(elsewhere))):
        res = runner.invoke(app, ["validate", "--project", str(project), "-c",
                                  str(project / config) if config == "staging.yaml" else config])
        assert res.exit_code == 0, res.output
        assert res.stdout == (f"valid: {said}, rules/, policies/ and templates/ have "
                              "no problems\n" + DATA_CHECKED)


def test_validate_reports_every_broken_file(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "policies" / "win_back.yaml").write_text(
        (project / "policies" / "win_back.yaml").read_text().replace("clv_discounted",
                                                                     "clv_discountd"))
    (project / "policies" / "channels.yaml").write_text(
        (project / "policies" / "channels.yaml").read_text().replace("capacity: 40\n",
                                                                     "capacity: -1\n"))
    (project / "templates" / "brief.html.j2").write_text("{% for x in %}\n")
    res = runner.invoke(app, ["validate", "--project", str(project)])
    assert res.exit_code == 1
    err = res.stderr
    assert "error: policies/win_back.yaml:" in err and "did you mean 'clv_discounted'?" in err
    assert "error: policies/channels.yaml:14:15: channels[0].capacity: found -1" in err
    assert "error: templates/brief.html.j2:1: template syntax error:" in err
    assert err.strip().endswith("3 error(s), 0 warning(s) in 3 file(s)\nnot checked until "
                                "policies/channels.yaml reads: the channels the policies and "
                                "the contact policies name\nnot checked until "
                                "policies/win_back.yaml reads: the rules' and policies' "
                                "conditions (compiled, never matching, shadowed, out of "
                                "range), the campaigns they name and the templates rendered")


def test_decide_writes_one_decision_per_customer(tmp_path: Path) -> None:
    res = runner.invoke(app, ["decide", "-p", str(ROOT), "-o", str(tmp_path)])
    assert res.exit_code == 0, res.stderr
    frame = pd.read_csv(tmp_path / "decisions.csv")
    assert len(frame) == 2000 and frame["customer_id"].is_unique
    for col in ("customer_id", "lifecycle_stage", "stage_rule", "action", "policy_id",
                "priority", "service_level", "offer", "channels", "reason"):
        assert col in frame
    assert frame["lifecycle_stage"].notna().all() and frame["action"].notna().all()


def test_explain_tells_why() -> None:
    res = runner.invoke(app, ["explain", "C001212", "-p", str(ROOT)])
    assert res.exit_code == 0, res.stderr
    assert "Lifecycle stage: maturity (rule established)" in res.stdout
    assert "not matched: lifecycle_stage is 'maturity', needed decline or exit" in res.stdout
    assert "<- wins the action" in res.stdout


def test_explain_unknown_customer() -> None:
    res = runner.invoke(app, ["explain", "C00121", "-p", str(ROOT)])
    assert res.exit_code == 1
    assert res.stderr.startswith("error: CUSTOMER_ID: customer 'C00121' is not in the value "
                                 "table (2,000 customers with a purchase before 2026-01-01)\n"
                                 "  hint: did you mean ")


def test_validate_warns_about_campaigns_that_are_not_declared(tmp_path: Path) -> None:
    project = _project(tmp_path)
    policy = ("id: {id}\ndescription: d\npriority: {priority}\nwhen: {{Region: {id}}}\n"
              "then: {{action: retain, channels: [email]}}\n")
    (project / "policies" / "own.yaml").write_text(policy.format(id="own", priority=55))
    (project / "policies" / "typo.yaml").write_text(
        policy.format(id="typo", priority=56) + "campaign: win_bak\n")
    (project / "policies" / "named.yaml").write_text(
        policy.format(id="named", priority=57) + "campaign: retention_q3\n")
    res = runner.invoke(app, ["validate", "-p", str(project)])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""  # warnings go to stderr
    assert res.stderr.splitlines() == [
        "warning: policies/named.yaml:6:11: campaign: campaign 'retention_q3' of policy 'named' "
        "is not declared in policies/campaigns.yaml: its brief has no name, objective or budget",
        "  hint: declare it under `campaigns:` in policies/campaigns.yaml (name, objective, "
        "budget, kpis)",
        "warning: policies/typo.yaml:6:11: campaign: campaign 'win_bak' of policy 'typo' is not "
        "declared in policies/campaigns.yaml: its brief has no name, objective or budget",
        "  hint: did you mean 'win_back'?",
        "warning: policies/own.yaml:1:5: id: policy 'own' has no campaign, so its campaign is "
        "its id, 'own', which is not declared in policies/campaigns.yaml: its brief has no "
        "name, objective or budget",
        "  hint: declare it under `campaigns:` in policies/campaigns.yaml (name, objective, "
        "budget, kpis)",
        "0 error(s), 3 warning(s) in 3 file(s)"]
    assert runner.invoke(app, ["validate", "--strict", "-p", str(project)]).exit_code == 1
