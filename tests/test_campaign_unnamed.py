"""A campaign declared in policies/campaigns.yaml that no policy or trigger names is a warning
of `cvm validate` at its line (a misspelt campaign on either side: the policy then takes the
defaults, its budget and KPIs silently unused). A campaign named by a disabled policy (a paused
one) is no warning."""

from __future__ import annotations

from pathlib import Path

from tests.history_runs import cvm, retail_copy


def test_a_campaign_nothing_names_is_a_warning_at_its_line(tmp_path: Path) -> None:
    project = retail_copy(tmp_path, ("triggers",))
    campaigns = project / "policies" / "campaigns.yaml"
    text = campaigns.read_text()
    campaigns.write_text(text.replace("  win_back:\n", "  winback:\n", 1))
    line = text[:text.index("  win_back:\n")].count("\n") + 1
    result = cvm("validate", "--project", str(project))
    assert result.exit_code == 0
    lines = result.stderr.splitlines()  # after the policy's own warning (an undeclared one)
    at = lines.index(f"warning: policies/campaigns.yaml:{line}:3: campaigns.winback: campaign "
                     "'winback' is declared but no policy or trigger names it")
    assert lines[at + 1] == ("  hint: a policy's campaign is its `campaign:`, by default its "
                             "id: check the spelling there and here, or remove this campaign")
    assert cvm("validate", "--strict", "--project", str(project)).exit_code == 1


def test_a_paused_campaign_is_no_warning(tmp_path: Path) -> None:
    project = retail_copy(tmp_path, ("triggers",))
    policy = project / "policies" / "win_back.yaml"
    text = policy.read_text()
    assert "\nenabled:" not in text
    policy.write_text(text + "enabled: false\n")
    result = cvm("validate", "--project", str(project))
    assert result.exit_code == 0 and "names it" not in result.stderr
