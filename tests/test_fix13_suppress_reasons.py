"""Every contact policy that blocks an allowed option of a customer is in their reason and is
counted for that policy, whatever the order of the file (issue 13 trial: only the first
policy that blocked each option was named and counted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.activation.contact import ContactLog, suppress
from engine.project.contact_policies import load_contact_policies

CHANNELS = ["email", "sms"]
FILE = """\
contact_policies:
  - {id: email_weekly, kind: cap, channel: email, max_contacts: 1, days: 7}
  - {id: after_complaint_or_purchase, kind: quiet_after, days: 14}
"""


def obj(*values: object) -> np.ndarray:
    return np.array(values, dtype=object)


def test_every_blocking_policy_is_named_and_counted(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "contact_policies.yaml").write_text(FILE)
    pols = load_contact_policies(tmp_path, CHANNELS, {"win_back"})
    # a: emailed and converted 3 days ago; b: emailed 3 days ago only
    log = ContactLog(
        contact_customer=obj("a", "b"), contact_days_ago=np.array([3, 3]),
        contact_channel=obj("email", "email"), contact_campaign=obj("win_back", "win_back"),
        response_customer=obj("a"), response_days_ago=np.array([3]),
        response_outcome=obj("converted"), response_campaign=obj("win_back"))
    allowed = np.array([[True, False], [True, False]])  # email only: sms not consented
    found = suppress(pols, log, obj("a", "b"), obj("win_back", "win_back"), CHANNELS, allowed)
    assert found.reason.tolist() == [
        "contact policy email_weekly: 1 contact in the last 7 days (at most 1); "
        "contact policy after_complaint_or_purchase: converted 3 days ago (quiet for 14 days)",
        "contact policy email_weekly: 1 contact in the last 7 days (at most 1)"]
    assert found.counts == {"email_weekly": 2, "after_complaint_or_purchase": 1}
    assert found.blocked.tolist() == [[True, True], [True, False]]
