"""Why a customer of the same action moved into or out of a campaign's holdout group between
the two versions of a plan: the holdout draw depends on the salt, the campaign's
holdout_share and the campaign alone (``engine.activation.holdout``), so one of them
changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.project.channels import ChannelSetup


def moved_by_holdout(row: Mapping[str, Any], before: ChannelSetup,
                     after: ChannelSetup) -> str | None:
    """The reason of a changed customer whose holdout membership changed, naming what was
    drawn differently; None when it did not change, or none of the draw's inputs did."""
    into = row["status_after"] == "holdout"
    if into == (row["status_before"] == "holdout"):
        return None
    campaign = row["campaign_after"] if into else row["campaign_before"]
    if not isinstance(campaign, str):
        return None
    held = f"same action; {'in' if into else 'out of'} campaign {campaign}'s holdout group now"
    was, now = row["campaign_before"], row["campaign_after"]
    if isinstance(was, str) and isinstance(now, str) and was != now:
        return f"{held}: its campaign changed {was} -> {now} (each campaign draws its own group)"
    if before.salt != after.salt:
        return f"{held}: the groups are drawn again (salt {before.salt!r} -> {after.salt!r})"
    share_b = before.campaign(campaign).holdout_share
    share_a = after.campaign(campaign).holdout_share
    if share_b != share_a:
        return f"{held}: its holdout_share changed {share_b:g} -> {share_a:g}"
    return None
