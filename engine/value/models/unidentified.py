"""Why the data may not identify a model's parameters, in terms its users can check: a
purchase model's recency/T mean nothing to the spend model or to the sBG (issue 15's trial:
the same hint followed every failure)."""

from __future__ import annotations

PURCHASE = "too few repeat buyers, or recency/T in the wrong time unit"
BY_FITTER = {
    "GammaGammaFitter": "too few repeat buyers, or their mean spends per purchase day vary too "
                        "little between customers for the spread of spend to be estimated",
    "ShiftedBetaGeoFitter": "too few customers churned, or too few renewed, or "
                            "subscriptions.billing_days is not the billing period",
}


def unidentified(fitter: str) -> str:
    """The likely causes of parameters the data do not identify, for the fitter's users."""
    return BY_FITTER.get(fitter, PURCHASE)
