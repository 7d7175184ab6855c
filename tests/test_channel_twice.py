"""A channel declared twice in policies/channels.yaml is said at the second one's id, with a
hint (the new-user trial found none)."""

from __future__ import annotations

from pathlib import Path

from tests.history_runs import cvm, retail_copy


def test_a_channel_declared_twice_has_a_hint(tmp_path: Path) -> None:
    project = retail_copy(tmp_path)
    channels = project / "policies" / "channels.yaml"
    text = channels.read_text()
    start = text.index("  - id: sms\n")
    end = text.index("  - id: app_push\n")
    channels.write_text(text + text[start:end])
    line = text.count("\n") + 1
    result = cvm("validate", "--project", str(project))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        f"error: policies/channels.yaml:{line}:9: channels[6].id: channel 'sms' is declared "
        "twice (first as channels[4])",
        "  hint: declare each channel once: merge the two, or give this one its own id"]


def test_the_policies_are_offered_each_channel_once(tmp_path: Path) -> None:
    """The re-trial: beside a channel declared twice, a policy's unknown channel was told
    'expected one of account_manager, account_manager, ...'."""
    project = retail_copy(tmp_path)
    channels = project / "policies" / "channels.yaml"
    text = channels.read_text()
    start, end = text.index("  - id: sms\n"), text.index("  - id: app_push\n")
    channels.write_text(text + text[start:end])
    policy = project / "policies" / "win_back.yaml"
    policy.write_text(policy.read_text().replace("channels: [direct_mail, email, sms]",
                                                 "channels: [direct_mail, emial, sms]"))
    said = cvm("validate", "--project", str(project)).stderr
    unknown = next(line for line in said.splitlines() if "'emial'" in line)
    assert unknown.count("sms") == 1, unknown
