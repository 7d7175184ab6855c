"""A model's calibration fit is a function of its calibration columns, the penalizer and the
fitter: ``compare`` asked again with the same ones in the same process (cvm plan's baseline
and proposal, a reload of cvm serve, a script scoring twice) gives the score it computed,
without fitting again; anything else that differs is fitted afresh."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.value.models import compare as compare_module
from engine.value.models.compare import compare
from engine.value.models.mbgnbd import ModifiedBetaGeoFitter
from engine.value.models.pareto_nbd import ParetoNBDFitter
from tests.models.conftest import synthetic_draw


def _frame(seed: int) -> pd.DataFrame:
    x, tx, t, _ = synthetic_draw(seed)
    return pd.DataFrame({"frequency_cal": x, "recency_cal": tx, "T_cal": t,
                         "frequency_holdout": np.minimum(x, 3.0),
                         "duration_holdout": np.full(len(x), 26.0)})


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fits made, by model (each fitter's fit, counted); nothing kept from before."""
    monkeypatch.setattr(compare_module, "_SCORES", type(compare_module._SCORES)())
    made: list[str] = []
    for cls, name in ((ModifiedBetaGeoFitter, "mbgnbd"), (ParetoNBDFitter, "pareto_nbd")):
        def counting(self: Any, *args: Any, _fit: Any = cls.fit, _name: str = name,
                     **kwargs: Any) -> Any:
            made.append(_name)
            return _fit(self, *args, **kwargs)

        monkeypatch.setattr(cls, "fit", counting)
    return made


def test_the_same_columns_are_fitted_once(fits: list[str]) -> None:
    first = compare(_frame(3), models=("mbgnbd", "pareto_nbd"))
    again = compare(_frame(3), models=("mbgnbd", "pareto_nbd"))
    assert fits == ["mbgnbd", "pareto_nbd"]
    for name in ("mbgnbd", "pareto_nbd"):
        assert again.scores[name].predicted == first.scores[name].predicted
        assert again.scores[name].log_likelihood == first.scores[name].log_likelihood
    assert again.by_frequency.equals(first.by_frequency)


def test_other_columns_or_another_penalizer_are_fitted_afresh(fits: list[str]) -> None:
    frame = _frame(3)
    compare(frame, models=("mbgnbd",))
    changed = frame.copy()
    changed.loc[0, "T_cal"] += 1.0
    compare(changed, models=("mbgnbd",))
    compare(frame, models=("mbgnbd",), penalizer=0.01)
    holdout = frame.copy()
    holdout.loc[0, "frequency_holdout"] += 1.0  # the score's actual total: scored afresh
    compare(holdout, models=("mbgnbd",))
    assert fits == ["mbgnbd"] * 4
    compare(frame, models=("mbgnbd",))
    assert fits == ["mbgnbd"] * 4
