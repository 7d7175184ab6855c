"""Times written with a zone (Shopify's `2025-05-25 00:09:00 +0100`) are read as the shop
wrote them: the purchase's day is the day written, not UTC's (a new user's trial: 307 of 1,500
rows moved to another day, first and last purchases and frequencies with them, unsaid). The
same in a CSV file read as ISO 8601, with a date_format holding %z, and in a Parquet column
of timestamps with a zone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_written_numbers import project, scored

# just after midnight east of UTC, and late in the evening west of it: UTC's day differs
ZONED = ("{} 00:09:00 +0100", "{}T23:30:00-05:00", "{} 00:30:00+01", "{}T12:00:00Z")


def _rewrite(folder: Path, dates: list[str], fmt: str | None = None) -> None:
    tx = pd.read_csv(folder / "tx.csv", dtype=str, keep_default_na=False)
    tx["OrderDate"] = dates
    tx.to_csv(folder / "tx.csv", index=False)
    if fmt:
        config = folder / "cvm.yaml"
        config.write_text(config.read_text().replace('  delimiter: ","', '  delimiter: ","\n'
                                                     f'  date_format: "{fmt}"\n'
                                                     '  customers_date_format: "%Y-%m-%d"'))


def _pair(tmp_path: Path, zoned: list[str], unzoned: list[str], fmt: str | None = None,
          plain_fmt: str | None = None) -> tuple[bytes, bytes]:
    """The figures of the rows with their times zoned, and without the zones."""
    out = []
    for name, dates, f in (("zoned", zoned, fmt), ("plain", unzoned, plain_fmt)):
        folder = project(tmp_path / name, None)
        _rewrite(folder, dates, f)
        out.append(scored(folder))
    return out[0], out[1]


def test_an_offset_keeps_the_day_written(tmp_path: Path) -> None:
    days = pd.read_csv(project(tmp_path / "days", None) / "tx.csv", dtype=str)["OrderDate"]
    zoned = [ZONED[i % 4].format(d) for i, d in enumerate(days)]
    unzoned = [z.replace("T", " ")[:19] for z in zoned]
    assert unzoned[1].endswith(" 23:30:00") and zoned[1].endswith("-05:00")
    left, right = _pair(tmp_path, zoned, unzoned)
    assert left == right


def test_a_date_format_with_its_zone_keeps_the_day_written(tmp_path: Path) -> None:
    days = pd.to_datetime(pd.read_csv(project(tmp_path / "days", None) / "tx.csv",
                                      dtype=str)["OrderDate"])
    unzoned = [d.strftime("%d/%m/%Y 23:45") for d in days]
    zoned = [u + (" -0500" if i % 2 else " +0100") for i, u in enumerate(unzoned)]
    left, right = _pair(tmp_path, zoned, unzoned, "%d/%m/%Y %H:%M %z", "%d/%m/%Y %H:%M")
    assert left == right


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_a_parquet_column_with_a_zone_keeps_its_own_day(tmp_path: Path, zone: str) -> None:
    sides = []
    for name in ("zoned", "plain"):
        folder = project(tmp_path / name, None)
        tx = pd.read_csv(folder / "tx.csv", dtype=str, keep_default_na=False)
        local = pd.to_datetime(tx["OrderDate"]) + pd.Timedelta(hours=23, minutes=50)
        table = pa.Table.from_pandas(tx.drop(columns="OrderDate"), preserve_index=False)
        table = table.append_column("OrderDate", pa.array(
            local.dt.tz_localize(zone) if name == "zoned" else local))
        pq.write_table(table, folder / "tx.parquet")
        config = folder / "cvm.yaml"
        config.write_text(config.read_text().replace("tx.csv", "tx.parquet"))
        sides.append(scored(folder))
    assert sides[0] == sides[1]


@pytest.mark.parametrize(("values", "fmt", "read"), [
    # ISO 8601's basic format: the day as written
    (["20240105T003000+0100", "20240105T2330-0500"], None,
     ["2024-01-05 00:30:00", "2024-01-05 23:30:00"]),
    # a date_format with %z after a 12-hour time, or a time without colons
    (["05/01/2024 10:00 PM +0100"], "%d/%m/%Y %I:%M %p %z", ["2024-01-05 22:00:00"]),
    (["20240105 223000 -0500"], "%Y%m%d %H%M%S %z", ["2024-01-05 22:30:00"]),
])
def test_every_way_of_writing_a_zone_keeps_the_day(values: list[str], fmt: str | None,
                                                   read: list[str]) -> None:
    """The review of the change: these were converted to UTC, or refused."""
    from engine.data.date_text import read_dates

    ts, bad = read_dates(pa.chunked_array([pa.array(values, pa.string())]), fmt)
    assert not bad.any()
    assert [str(t) for t in ts.to_pylist()] == read


def test_an_offset_no_zone_has_is_no_date() -> None:
    from engine.data.date_text import read_dates

    _, bad = read_dates(pa.chunked_array([pa.array(["2024-01-05 10:00 +99:99"])]), None)
    assert bad.tolist() == [True]
