"""`cvm test`: policy tests through the decision path of `cvm run`; `cvm validate` checks them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

WRONG = """\
tests:
  - name: a silver customer overdue is retained
    customer:
      value_tier: silver
      tenure_days: 700
      recency_days: 200
      recency_ratio: 2.0
    expect:
      policy: retain_high_value
      stage: exit
"""


def _project(tmp_path: Path, text: str | None = None) -> Path:
    project = copy_example_project(tmp_path)
    shutil.copytree(ROOT / "policy_tests", project / "policy_tests")
    if text is not None:
        (project / "policy_tests" / "mine.yaml").write_text(text)
    return project


@pytest.mark.parametrize("project", [ROOT, ROOT / "examples" / "cdnow"], ids=["retail", "cdnow"])
def test_bundled_policy_tests_pass(project: Path) -> None:
    result = CliRunner().invoke(app, ["test", "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("passed\n") and "FAIL" not in result.output


def test_a_wrong_expectation_fails_with_the_explanation(tmp_path: Path) -> None:
    project = _project(tmp_path, WRONG)
    result = CliRunner().invoke(app, ["test", "--project", str(project),
                                      str(project / "policy_tests" / "mine.yaml")])
    assert result.exit_code == 1
    assert result.stdout == (
        "FAIL policy_tests/mine.yaml:2: a silver customer overdue is retained\n"
        "  line 9: expected policy retain_high_value, got none (no_action: no policy matched)\n"
        "    why: policy retain_high_value (policies/retain_high_value.yaml:2) not matched: "
        "value_tier is 'silver', needed platinum or gold\n"
        "  line 10: expected stage exit, got decline (rule overdue_or_falling)\n"
        "    why: rule one_time_lapsed (rules/lifecycle.yaml:29) not matched: recency_ratio is "
        "2, needed it to be missing\n"
        "1 policy test(s): 0 passed, 1 FAILED\n")


def test_a_losing_policy_names_the_winner(tmp_path: Path) -> None:
    project = _project(tmp_path, WRONG.replace("silver", "gold").replace(
        "policy: retain_high_value", "service_policy: service_platinum").replace(
        "      stage: exit\n", ""))
    result = CliRunner().invoke(app, ["test", "--project", str(project),
                                      str(project / "policy_tests" / "mine.yaml")])
    assert result.exit_code == 1
    assert "  line 9: expected service policy service_platinum, got service_gold " \
        "(service policy service_gold)\n    why: policy service_gold (policies/service_gold" \
        ".yaml:2, priority 30) won the service level with priority\n    why: policy " \
        "service_platinum " \
        "(policies/service_platinum.yaml:2) not matched: value_tier is 'gold', needed " \
        "platinum\n" in result.stdout


def test_suppressed_and_no_action_expectations(tmp_path: Path) -> None:
    text = """\
tests:
  - name: suppressed
    customer: {lifecycle_stage: exit, value_tier: gold, clv_discounted: 900}
    expect: {suppressed_by: no_win_back_low_value}
"""
    project = _project(tmp_path, text)
    result = CliRunner().invoke(app, ["test", "--project", str(project),
                                      str(project / "policy_tests" / "mine.yaml")])
    assert result.exit_code == 1
    assert ("  line 4: expected suppressed by no_win_back_low_value, got action win_back by "
            "policy win_back\n    why: policy no_win_back_low_value "
            "(policies/no_win_back_low_value.yaml:2) not matched: clv_discounted is 900, "
            "needed less than 25\n") in result.stdout


def test_the_same_decision_path_as_run(tmp_path: Path) -> None:
    """A policy test follows a change of the policies exactly as `cvm run` does: disabling
    the policy a bundled test expects makes that test fail."""
    project = _project(tmp_path)
    pol = project / "policies" / "welcome_new.yaml"
    pol.write_text(pol.read_text() + "enabled: false\n")
    result = CliRunner().invoke(app, ["test", "--project", str(project)])
    assert result.exit_code == 1
    assert "expected policy welcome_new, got none" in result.stdout
    assert "why: policy welcome_new (policies/welcome_new.yaml:2) is disabled" in result.stdout


def test_an_expected_action_of_a_disabled_policy_says_it_is_disabled(tmp_path: Path) -> None:
    """A new user switched cross_sell_maturity off; the test expecting its action said only
    "got no_action (no_action: no policy matched)": the policies giving an action were looked
    for among the enabled ones."""
    text = """\
tests:
  - name: a mature customer gets the cross-sell
    customer: {lifecycle_stage: maturity, value_tier: silver, category_breadth: 1}
    expect: {action: cross_sell}
"""
    project = _project(tmp_path, text)
    pol = project / "policies" / "cross_sell_maturity.yaml"
    pol.write_text(pol.read_text() + "enabled: false\n")
    result = CliRunner().invoke(app, ["test", "--project", str(project),
                                      str(project / "policy_tests" / "mine.yaml")])
    assert result.exit_code == 1
    assert ("expected action cross_sell, got no_action (no_action: no policy matched)\n"
            "    why: policy cross_sell_maturity (policies/cross_sell_maturity.yaml:2) is "
            "disabled\n") in result.stdout, result.stdout


BAD = """\
tests:
  - name: x
    customer:
      recency_day: 3
      value_tier: 4
      segment_vip: true
      stage_rule: established
    expect:
      polcy: a
      stage: nowhere
      no_action: yes please
"""


def test_validate_checks_test_files(tmp_path: Path) -> None:
    project = _project(tmp_path, BAD)
    result = CliRunner().invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: policy_tests/mine.yaml:4:7: tests[0].customer.recency_day: unknown attribute "
        "'recency_day'\n  hint: did you mean 'recency_days'?\n"
        "error: policy_tests/mine.yaml:5:19: tests[0].customer.value_tier: found 4, expected "
        "text for value_tier\n"
        "error: policy_tests/mine.yaml:6:7: tests[0].customer.segment_vip: 'segment_vip' "
        "cannot be given: segments are decided from the other attributes\n"
        "  hint: give the attributes the segment tests\n"
        "error: policy_tests/mine.yaml:7:7: tests[0].customer.stage_rule: 'stage_rule' cannot "
        "be given: the lifecycle rules give it\n"
        "  hint: give lifecycle_stage to skip the rules, or the attributes the rules test\n"
        "error: policy_tests/mine.yaml:9:7: tests[0].expect.polcy: unknown expectation "
        "'polcy', expected one of stage, stage_rule, action, policy, service_level, "
        "service_policy, offer, channel, no_action, suppressed_by\n"
        "  hint: did you mean 'policy'?\n"
        "error: policy_tests/mine.yaml:10:14: tests[0].expect.stage: found 'nowhere', expected "
        "stage: acquisition, decline, exit, growth, maturity\n"
        "error: policy_tests/mine.yaml:11:18: tests[0].expect.no_action: found 'yes please', "
        "expected true\n"
        "  hint: `no_action: true`: no policy gives an action; for a policy that withholds "
        "one, use `suppressed_by: <policy id>`\n"
        "7 error(s), 0 warning(s) in 1 file(s)\n")
    test = CliRunner().invoke(app, ["test", "--project", str(project)])
    assert test.exit_code == 1 and "unknown attribute 'recency_day'" in test.stderr


def test_no_tests_is_an_input_problem(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    result = CliRunner().invoke(app, ["test", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: policy_tests: no policy tests: policy_tests/ holds no .yaml file\n"
        "  hint: write one (README \"Policy tests: cvm test\"), or run `cvm init` for the "
        "starter tests\n")


README = (ROOT / "README.md").read_text()


def _readme_block(after: str, lang: str) -> str:
    return README.split(after, 1)[1].split(f"```{lang}\n", 1)[1].split("```", 1)[0]


def test_readme_examples(tmp_path: Path) -> None:
    """The README's test file passes; its failing test prints what the README shows."""
    example = _readme_block("## Policy tests: `cvm test`", "yaml")
    project = _project(tmp_path, example)
    mine = str(project / "policy_tests" / "mine.yaml")
    ok = CliRunner().invoke(app, ["test", "--project", str(project), mine])
    assert ok.exit_code == 0, ok.output
    shown = _readme_block("**A failing test** prints", "")
    (project / "policy_tests" / "mine.yaml").write_text(WRONG.replace("      stage: exit\n", ""))
    bad = CliRunner().invoke(app, ["test", "--project", str(project), mine])
    assert bad.exit_code == 1 and bad.stdout == shown


def test_a_missing_test_file(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = CliRunner().invoke(app, ["test", "--project", str(project), "nope.yaml"])
    assert result.exit_code == 1
    assert result.stderr == ("error: nope.yaml: file not found\n  hint: cvm test takes policy "
                             "test files (policy_tests/*.yaml); with none, it runs every one "
                             "of the project's\n")


def test_a_file_without_tests(tmp_path: Path) -> None:
    project = _project(tmp_path, "defaults: {value_tier: gold}\ntest: []\n")
    result = CliRunner().invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: policy_tests/mine.yaml:1:1: found no `tests:` list, expected a mapping with "
        "`tests:` (and optionally `defaults:`)\n"
        "  hint: see README \"Policy tests: cvm test\"\n"
        "1 error(s), 0 warning(s) in 1 file(s)\n")


def test_an_attribute_beside_customer_is_sent_under_it(tmp_path: Path) -> None:
    """`customer_id:` written beside `customer:` got "did you mean 'customer'?", a key the
    test already has (the trial); a misspelt key of the test still gets its suggestion."""
    text = WRONG.replace("    customer:\n", "    customer_id: C1\n    notes: x\n    customer:\n"
                         ).replace("    expect:\n", "    expct:\n")
    project = _project(tmp_path, text)
    result = CliRunner().invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:6] == [  # after line 2's missing expect:
        "error: policy_tests/mine.yaml:3:5: tests[0].customer_id: unknown key 'customer_id', "
        "expected one of name, customer, holdout, expect",
        "  hint: customer_id is an attribute of the customer: put it under `customer:`",
        "error: policy_tests/mine.yaml:4:5: tests[0].notes: unknown key 'notes', expected one "
        "of name, customer, holdout, expect",  # no hint: nothing to say beyond the keys
        "error: policy_tests/mine.yaml:10:5: tests[0].expct: unknown key 'expct', expected one "
        "of name, customer, holdout, expect",
        "  hint: did you mean 'expect'?"]


def test_the_policies_listed_are_those_the_expectation_can_name(tmp_path: Path) -> None:
    """A marketer's trial: `expect.policy` listed service_gold among the policies it could
    name, then refused it as setting only a service level; and two tests of one name passed
    unsaid."""
    project = _project(tmp_path, """\
tests:
  - name: twice
    customer: {value_tier: silver}
    expect: {policy: no_such_policy}
  - name: twice
    customer: {value_tier: gold}
    expect: {service_policy: no_such_policy}
""")
    result = CliRunner().invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    said = result.stderr.splitlines()
    policy = next(line for line in said if "tests[0].expect.policy" in line)
    service = next(line for line in said if "tests[1].expect.service_policy" in line)
    assert "service_gold" not in policy and "win_back" in policy, policy
    assert "win_back" not in service and "service_gold" in service, service
    assert "warning: policy_tests/mine.yaml:5:11: tests[1].name: the name 'twice' is the name " \
        "of tests[0] too\n  hint: give each test its own name: a failure is said by it" \
        in result.stderr, result.stderr
    names = project / "policy_tests" / "mine.yaml"
    names.write_text(names.read_text().replace("{policy: no_such_policy}", "{stage: exit}")
                     .replace("{service_policy: no_such_policy}", "{stage: exit}"))
    tested = CliRunner().invoke(app, ["test", "--project", str(project)])
    assert tested.stderr.startswith("warning: policy_tests/mine.yaml:5:11: tests[1].name: "), \
        tested.stderr
    assert "policy test(s): " in tested.stdout  # the tests ran


def test_yaml_s_readings_are_hinted_in_a_test_too(tmp_path: Path) -> None:
    """The re-trial: `clv_discounted: 1e3`, `consent_email: "no"`, `recency_days: "200"` and
    `holdout: "no"` in a policy test got no hint, where the same in a policy does."""
    project = _project(tmp_path, """\
tests:
  - name: yaml readings
    customer: {clv_discounted: 1e3, consent_email: "no", recency_days: "200"}
    holdout: "no"
    expect: {stage: exit}
""")
    said = CliRunner().invoke(app, ["validate", "--project", str(project)]).stderr
    hints = [line.strip() for line in said.splitlines() if line.startswith("  hint: ")]
    assert hints == [
        "hint: write 1000: YAML reads 1e3 as text (a number in e-notation needs a point and a "
        "signed exponent: 1.0e+3)", "hint: write false (or no without quotes)",
        "hint: write the number without quotes: 200", "hint: write false (or no without "
        "quotes)"], said
