"""A budget's spending as the terminal says it, beside the rounded figures of the allocation
summary (engine.activation.money). Light: ``cvm run``'s module imports it at start."""

from __future__ import annotations

# a channel's cost shown above its budget, spent within it (its share of the exact cost at most
# 1): each campaign's amount rounded up by half a cent or less (a new user read an overspend)
ROUNDED_OVER = " (spent within it: each campaign's amount is rounded to the cent)"


def rounded_over(shown: float, budget: float | None, used_share: float | None) -> str:
    """``ROUNDED_OVER`` when a budget's shown spending is over it but its exact one is not."""
    return ROUNDED_OVER if budget is not None and budget == budget and used_share is not None \
        and shown > budget and used_share <= 1 else ""
