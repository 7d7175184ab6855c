"""Why the data may not identify a model's parameters, in terms its users can check: a
purchase model's recency/T mean nothing to the spend model or to the sBG (issue 15's trial:
the same hint followed every failure)."""

from __future__ import annotations

from collections.abc import Callable

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


RIDGE_LEAST = 100.0  # both of a pair this large, one past the range: they grow together
GROW_TOGETHER = "grow together"  # what the messages of a ridge say (engine.value.clv_models)
ANOTHER_MODEL = ("Another purchase model may describe such data (cvm fit compares them); a "
                 "penalizer keeps the parameters finite but pulls every one towards 0.")


def ridge(model: str, values: dict[str, float], largest: float) -> tuple[str, str] | None:
    """The message and advice when a pair of parameters runs off together past ``largest``
    with their ratio staying put: the data then say that a probability hardly varies between
    customers, and the model has no finite estimate; not that there are too few repeat buyers
    (a data scientist's trial: 5,000 simulated customers with one drop-out probability were
    told so). None otherwise. (The BG/NBD family's r and alpha, the purchase rates' pair, are
    said as out of range: a sample of a few identical customers runs them off.)"""
    for (u, v), (ratio, what) in _RIDGES.items():
        if u not in values or v not in values:
            continue
        x, y = values[u], values[v]
        if max(x, y) > largest and min(x, y) > RIDGE_LEAST:
            return (f"{model}: the likelihood still rises as {u} and {v} {GROW_TOGETHER} ({u} = "
                    f"{x:.4g}, {v} = {y:.4g}), with {ratio(x, y)}: {what} hardly vary "
                    f"between customers in these data, and {model} has no finite estimate "
                    "(its limit gives every customer that one value).", ANOTHER_MODEL)
    return None


_RIDGES: dict[tuple[str, str], tuple[Callable[[float, float], str], str]] = {
    ("a", "b"): (lambda a, b: f"a drop-out probability a/(a+b) = {a / (a + b):.4g} after "
                              "each purchase", "drop-out probabilities"),
}
