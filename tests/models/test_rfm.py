"""The per-customer summary, the calibration/holdout split, the holdout check and its chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.value.models import rfm


@pytest.fixture
def purchases() -> pd.DataFrame:
    rows = [("A", "2024-01-01 09:00", 10.0), ("A", "2024-01-01 17:30", 5.0),  # one day
            ("A", "2024-01-08", 20.0), ("A", "2024-01-22", 30.0), ("A", "2024-03-01", 8.0),
            ("B", "2024-01-15", 7.0), ("C", "2024-02-10", 4.0)]
    frame = pd.DataFrame(rows, columns=["cust", "when", "amount"])
    frame["when"] = pd.to_datetime(frame["when"], format="ISO8601")
    return frame


def test_summary_conventions(purchases: pd.DataFrame) -> None:
    s = rfm.summary(purchases, customer_col="cust", date_col="when", value_col="amount",
                    observation_end="2024-02-01")
    assert list(s.index) == ["A", "B"]  # C starts after the end; A's 03-01 purchase ignored
    assert s.index.name == "cust"
    assert s.loc["A"].tolist() == [2.0, 3.0, 31 / 7, 25.0]  # first day (10 + 5) excluded
    assert s.loc["B"].tolist() == [0.0, 0.0, 17 / 7, 0.0]
    days = rfm.summary(purchases, customer_col="cust", date_col="when",
                       observation_end="2024-02-01", time_unit_days=1.0)
    assert days.loc["A", "T"] == 31.0 and days.loc["A", "monetary_value"] == 0.0


def test_calibration_holdout(purchases: pd.DataFrame) -> None:
    ch = rfm.calibration_holdout(purchases, customer_col="cust", date_col="when",
                                 value_col="amount", calibration_end="2024-01-10",
                                 observation_end="2024-03-31")
    assert list(ch.index) == ["A"]  # B and C first bought after calibration
    a = ch.loc["A"]
    assert a["frequency_cal"] == 1 and a["recency_cal"] == 1.0 and a["T_cal"] == 9 / 7
    assert a["monetary_value_cal"] == 20.0
    assert a["frequency_holdout"] == 2 and a["monetary_value_holdout"] == 19.0
    assert a["duration_holdout"] == 81 / 7
    with pytest.raises(ValueError, match=r"^observation_end 2024-01-01 must be after "
                                         r"calibration_end 2024-01-10$"):
        rfm.calibration_holdout(purchases, customer_col="cust", date_col="when",
                                calibration_end="2024-01-10", observation_end="2024-01-01")


def test_bad_columns_and_dates(purchases: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"^transactions has no column 'amt'; columns are "
                                         r"\['cust', 'when', 'amount'\]$"):
        rfm.summary(purchases, customer_col="cust", date_col="when", value_col="amt",
                    observation_end="2024-02-01")
    bad = purchases.assign(when=purchases["when"].astype(object))
    bad.loc[2, "when"] = None
    with pytest.raises(ValueError, match=r"^when is missing or not a date in 1 rows "
                                         r"\(first at row 2\)$"):
        rfm.summary(bad, customer_col="cust", date_col="when", observation_end="2024-02-01")


def test_summary_from_dates() -> None:
    s = rfm.summary_from_dates(["2024-01-01", "2024-01-15"], ["2024-01-22", "2024-01-15"],
                               [3, 1], observation_end="2024-02-01")
    assert s["frequency"].tolist() == [2.0, 0.0]
    assert s["recency"].tolist() == [3.0, 0.0]
    assert s["T"].tolist() == [31 / 7, 17 / 7]


class _Constant:
    """A stand-in model predicting 0.5 purchases per holdout week."""

    def expected_purchases(self, t: object, frequency: object, recency: object,
                           T: object) -> np.ndarray:
        return np.broadcast_to(0.5 * np.asarray(t, dtype=float),
                               np.shape(frequency)).astype(float)


def test_holdout_check_and_svg(tmp_path: Path) -> None:
    ch = pd.DataFrame({"frequency_cal": [0, 0, 1, 3, 9, 12], "recency_cal": [0, 0, 1, 2, 3, 4],
                       "T_cal": [5.0] * 6, "frequency_holdout": [0, 1, 1, 2, 5, 7],
                       "duration_holdout": [2.0] * 6})
    check = rfm.holdout_check(_Constant(), ch)
    assert list(check.index) == ["0", "1", "3", "7+", "total"]
    assert check.loc["7+"].tolist() == [2, 6.0, 1.0, 12.0, 2.0]
    assert check.loc["total"].tolist() == [6, 16 / 6, 1.0, 16.0, 6.0]
    path = rfm.plot_holdout(check, tmp_path / "holdout.svg", model="BG/NBD")
    root = ET.parse(path).getroot()  # well-formed XML
    assert root.tag.endswith("svg")
    assert len([e for e in root.iter() if e.tag.endswith("polyline")]) == 2
