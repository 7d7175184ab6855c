"""The customers whose ``preferred_channel`` no channel's ``preferred_as`` names: their
contacts get no preference lift (README "Channels"), which nothing else would say (a CRM
writing ``Phone`` or ``telephone`` where policies/channels.yaml lists ``phone``)."""

from __future__ import annotations

import pandas as pd

from engine.data.object_store import shown_names
from engine.project.channels import CHANNELS_FILE, ChannelSetup
from engine.words import counted


def unmatched_preferences(values: object, channels: ChannelSetup) -> str | None:
    """The note on the customers (``values``: their ``preferred_channel``, one per customer)
    whose preferred channel no channel lists in ``preferred_as``, the three most frequent
    values named with their counts; None when every one is listed, or when no channel lists
    any (a project that maps the column for its conditions only)."""
    listed = {v for ch in channels.channels for v in ch.preferred_as}
    if not listed:
        return None
    # counted on the column as it is (an Arrow string column at millions of customers), and
    # as the allocation compares it: exactly, spaces included
    counts = pd.Series(values).value_counts(dropna=True)
    counts = counts[[str(v) != "" and str(v) not in listed for v in counts.index]]
    if counts.empty:
        return None
    # the most frequent first, then in text order: the same words for the same data
    ordered = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))
    named = shown_names([f"{value!r} ({int(n):,})" for value, n in ordered[:4]])
    lower = {v.lower(): v for v in sorted(listed)}
    cased = [f"{value!r} is not {lower[str(value).lower()]!r}" for value, _ in ordered
             if str(value).lower() in lower][:2]
    n = int(counts.sum())
    return (f"{counted(n, 'customer')} prefer{'s' * (n == 1)} a channel that no channel's "
            f"preferred_as in {CHANNELS_FILE.as_posix()} lists: {named}: no preference lift "
            "for them" + (f" (preferred_as is matched with its letter case: "
                          f"{'; '.join(cased)})" if cased else ""))
