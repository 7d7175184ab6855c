"""A date that does not read in data.date_format says which setting it reads with, or why it
reads with none: a first-day trial met a month-first file, a two-digit year and a day the
month lacks, each under "fix the value or data.date_format"."""

from __future__ import annotations

import pytest

from engine.data.date_hints import date_format_hint


@pytest.mark.parametrize(("value", "fmt", "hint"), [
    ("01/13/2023", "%d/%m/%Y", "'01/13/2023' reads with the month first: if the file writes "
     "its dates so, set data.date_format: \"%m/%d/%Y\" in cvm.yaml"),
    ("13/01/2023", "%m/%d/%Y", "'13/01/2023' reads with the day first: if the file writes its "
     "dates so, set data.date_format: \"%d/%m/%Y\" in cvm.yaml"),
    ("01/02/24", "%d/%m/%Y", "'01/02/24' has a two-digit year: if the file writes its years "
     "so, set data.date_format: \"%d/%m/%y\" in cvm.yaml"),
    ("31/11/2024", "%d/%m/%Y", "no such day: November 2024 has 30 days: fix the value"),
    ("31/11/2024 10:00", "%d/%m/%Y %H:%M", "no such day: November 2024 has 30 days: fix the "
     "value"),
    ("2023-01-02", "%d/%m/%Y", "'2023-01-02' is written YYYY-MM-DD, which is read without a "
     "date_format: if the file writes its dates so, remove data.date_format from cvm.yaml"),
    ("2024-13-01", "%Y-%m-%d", "fix the value or data.date_format in cvm.yaml"),  # no Y-d-m
    ("soon", "%d/%m/%Y", "fix the value or data.date_format in cvm.yaml"),
])
def test_the_hint_names_the_setting_the_value_reads_with(value: str, fmt: str,
                                                         hint: str) -> None:
    assert date_format_hint(value, fmt, "cvm.yaml") == hint
