"""The report's whole-currency figures read as the monthly figures file's cents read: an
analyst's trial found customer_equity 52904.5 in monthly_figures.csv (money to the cent, half
up) shown 52,904 in the HTML (Python's format of the unrounded figure, half to even on its
binary value), where anyone rounding the file gets 52,905."""

from __future__ import annotations

import pytest

from engine.decimals import from_cents
from engine.report.charts import Unit, fmt, signed


@pytest.mark.parametrize(("value", "whole"), [
    (52904.5, 52905.0), (52904.49999999999, 52905.0), (6556.5, 6557.0), (-20192.5, -20193.0),
    (28597.5, 28598.0), (52904.494, 52904.0), (0.5, 1.0), (2.5, 3.0), (-0.4, 0.0)])
def test_a_money_figure_rounds_from_its_cents(value: float, whole: float) -> None:
    assert from_cents(value) == whole


def test_the_report_shows_money_as_the_file_s_cents_read() -> None:
    money = Unit("money", "EUR")
    assert fmt(52904.49999999999, money) == "EUR 52,905"
    assert fmt(-20192.5, money) == "-EUR 20,193"
    assert signed(6556.5, "+,.0f") == "+6,557"
    assert signed(-0.4, "+,.0f") == "+0"


def test_a_cell_of_a_customer_or_more_is_never_said_zero_percent() -> None:
    """An analyst's trial: 'acquisition -> maturity: 1 customer (0% of acquisition)'."""
    from engine.report.charts import matrix_chart

    svg = matrix_chart("flow", "Stages", ["acquisition"], ["growth", "maturity"],
                       [[999, 1]], row_caption="from", col_caption="to")
    assert "acquisition \u2192 maturity: 1 customer (under 1% of acquisition)" in svg
    assert "acquisition \u2192 growth: 999 customers (100% of acquisition)" in svg


def test_the_monthly_tables_show_money_as_the_file_s_cents_read() -> None:
    """The re-trial: the monthly tables' cells (not the tier table's and the tooltips') still
    showed customer_equity 52904.50 as 52,904."""
    from engine.report.html import _cell

    assert _cell(52904.49999999999, "money", "EUR") == "52,905"
    assert _cell(6556.5, "money", "EUR") == "6,557"
    assert _cell(1234.565, "money2", "EUR") == "1,234.57"
    assert _cell(2000, "count", "EUR") == "2,000"
