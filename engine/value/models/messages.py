"""A fit's failure as users read it: the model named by our title in the sentence around it,
never by the fitter's class (``GammaGammaFitter``), and without the advice for the Python API
(``penalizer=0.001``), which a command replaces by its own hint."""

from __future__ import annotations

# the fitters by the names users know the models by (README "Probabilistic models")
TITLES = {"ModifiedBetaGeoFitter": "MBG/NBD", "BetaGeoFitter": "BG/NBD",
          "ParetoNBDFitter": "Pareto/NBD", "GammaGammaFitter": "Gamma-Gamma spend model",
          "ShiftedBetaGeoFitter": "sBG"}


def title_of(fitter: str) -> str:
    """A fitter's class name as the model's name (a title is kept as it is)."""
    return TITLES.get(fitter, fitter)


def reason_of(exc: BaseException) -> str:
    """The reason of a fit's ``ConvergenceError`` or ``ValueError``, without the advice and
    without the fitter's class name that starts the message (``BetaGeoFitter: ...``)."""
    reason = str(getattr(exc, "reason", exc))
    head, sep, rest = reason.partition(": ")
    return rest if sep and head.endswith("Fitter") and " " not in head else reason
