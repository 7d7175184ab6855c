"""CDNOW fixtures: the 2,357-customer sample of the papers and the 23,570-customer master."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.value.models import bgnbd, gamma_gamma, rfm

DATA = Path(__file__).resolve().parents[2] / "examples" / "cdnow"
CALIBRATION_END = "1997-09-30"  # end of week 39 counted from 1997-01-01
OBSERVATION_END = "1998-06-30"  # end of week 78


def read_sample() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                        names=["master_id", "customer_id", "date", "cds", "dollars"],
                        dtype={"date": str})
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def read_master() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "CDNOW_master.txt", sep=r"\s+", dtype={"date": str})
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame.rename(columns={"dollar_value": "dollars"})


def cal_holdout(frame: pd.DataFrame) -> pd.DataFrame:
    return rfm.calibration_holdout(frame, customer_col="customer_id", date_col="date",
                                   value_col="dollars", calibration_end=CALIBRATION_END,
                                   observation_end=OBSERVATION_END, time_unit_days=7.0)


@pytest.fixture(scope="session")
def sample() -> pd.DataFrame:
    """Calibration (weeks 1-39) summary and holdout (weeks 40-78) of the 1/10 sample."""
    return cal_holdout(read_sample())


@pytest.fixture(scope="session")
def master() -> pd.DataFrame:
    return cal_holdout(read_master())


def synthetic_draw(seed: int) -> tuple[np.ndarray, ...]:
    """1,500 customers drawn from BG/NBD and Gamma-Gamma near CDNOW's estimates (T of 1 to 78
    weeks): frequency, recency, T and mean spend."""
    rng = np.random.default_rng(seed)
    big_t = rng.integers(7, 547, 1_500) / 7.0
    x, tx, t = bgnbd.simulate({"r": 0.25, "alpha": 4.8, "a": 0.72, "b": 2.2}, big_t, rng=rng)
    m = gamma_gamma.simulate({"p": 6.3, "q": 3.6, "gamma": 15.0}, x, rng=rng)
    return x, tx, t, m
