"""A date with a fraction of a second (a Parquet timestamp in microseconds, or text such as
2023-01-05 10:00:00.5) is read to the second below it, in transactions and responses alike
(review 13d: Arrow's safe cast refused to lose the fraction: an internal error, exit 4)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from engine.data.tabular import Source
from engine.data.typed_columns import as_date_seconds

SRC = Source(Path("t.csv"), "t.csv", "data.transactions")
WANT = int(dt.datetime(2023, 1, 5, 10, 0, 0, tzinfo=dt.timezone.utc).timestamp())


def test_text_with_a_fraction() -> None:
    table = pa.table({"date": ["2023-01-05 10:00:00.5", "2023-01-05T10:00:00.999"]})
    seconds = as_date_seconds(SRC, table, "date", "date", date_format=None, required=True)
    assert seconds.tolist() == [WANT, WANT]


def test_timestamps_in_microseconds() -> None:
    stamps = pa.array([dt.datetime(2023, 1, 5, 10, 0, 0, 500_000)], pa.timestamp("us"))
    for column in (stamps, stamps.cast(pa.timestamp("us", tz="UTC"))):
        seconds = as_date_seconds(SRC, pa.table({"date": column}), "date", "date",
                                  date_format=None, required=True)
        assert seconds.tolist() == [WANT]


def test_before_1970_the_second_below() -> None:
    stamps = pa.array([dt.datetime(1969, 12, 31, 23, 59, 59, 500_000)], pa.timestamp("us"))
    seconds = as_date_seconds(SRC, pa.table({"date": stamps}), "date", "date",
                              date_format=None, required=True)
    assert seconds.tolist() == [-1]
