"""`cvm validate --audience` warns of a text value a condition asks for that no customer has
today (`Region: North` where the customers file says `north`): text is compared exactly, so the
policy silently matched nobody (the new-user trial). A value some customer has is no warning."""

from __future__ import annotations

from pathlib import Path

from tests.history_runs import cvm, retail_copy


def test_a_value_no_customer_has_is_said_with_the_values_seen(tmp_path: Path) -> None:
    project = retail_copy(tmp_path)
    policy = project / "policies" / "welcome_new.yaml"
    text = policy.read_text()
    old = "when:\n  lifecycle_stage: acquisition\n"
    assert old in text
    policy.write_text(text.replace(old, "when:\n  all:\n    - lifecycle_stage: acquisition\n"
                                        "    - Region: {in: [North, east]}\n"))
    line = text[:text.index(old)].count("\n") + 1  # the condition's own line: 3 below
    result = cvm("validate", "--audience", "--project", str(project))
    assert result.exit_code == 0
    assert result.stderr.splitlines()[:2] == [
        f"warning: policies/welcome_new.yaml:{line + 3}:7: when.all[1].Region: policy "
        "'welcome_new': no customer today has Region 'North' (values seen: 'east', 'north', "
        "'south', 'west')", "  hint: did you mean 'north'?"]
    assert "'east'" not in result.stderr.split("values seen")[0]  # east is there: no warning
    assert cvm("validate", "--audience", "--strict", "--project", str(project)).exit_code == 1


def test_the_bundled_example_has_no_such_warning() -> None:
    root = Path(__file__).resolve().parents[1]
    result = cvm("validate", "--audience", "--project", str(root))
    assert result.exit_code == 0 and "no customer today has" not in result.stderr


def test_ne_and_not_in_too_once_per_value_and_no_disabled_policy(tmp_path: Path) -> None:
    """A value misspelt after `ne` or `not_in` makes the comparison always hold; a value named
    twice in one policy is said once; a disabled policy is not checked (the review's cases)."""
    project = retail_copy(tmp_path)
    policy = project / "policies" / "welcome_new.yaml"
    text = policy.read_text()
    old = "when:\n  lifecycle_stage: acquisition\n"
    policy.write_text(text.replace(old, "when:\n  all:\n    - lifecycle_stage: acquisition\n"
                                        "    - Region: {ne: South}\n"
                                        "    - Region: {not_in: [South, west]}\n"))
    said = cvm("validate", "--audience", "--project", str(project)).stderr
    assert said.count("no customer today has Region 'South'") == 1
    policy.write_text(policy.read_text().replace("priority: 40", "priority: 40\nenabled: false"))
    said = cvm("validate", "--audience", "--project", str(project)).stderr
    assert "no customer today has" not in said


def test_a_preferred_channel_no_customer_has_is_said(tmp_path: Path) -> None:
    """A marketer's trial: `preferred_channel: Email` (the customers file says `email`)
    matched no one, with no warning even with --audience, as Region's got."""
    project = retail_copy(tmp_path)
    policy = project / "policies" / "welcome_new.yaml"
    text = policy.read_text()
    old = "when:\n  lifecycle_stage: acquisition\n"
    policy.write_text(text.replace(old, "when:\n  all:\n    - lifecycle_stage: acquisition\n"
                                        "    - preferred_channel: Email\n"))
    line = text[:text.index(old)].count("\n") + 1 + 3
    result = cvm("validate", "--audience", "--project", str(project))
    assert result.exit_code == 0
    assert result.stderr.splitlines()[:2] == [
        f"warning: policies/welcome_new.yaml:{line}:7: when.all[1].preferred_channel: policy "
        "'welcome_new': no customer today has preferred_channel 'Email' (values seen: "
        "'app', 'email', 'mail', 'phone', 'sms')", "  hint: did you mean 'email'?"]
