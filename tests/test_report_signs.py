"""A figure of the report shown as zero reads without a minus (a trial's page read
"customers -0, value per customer +0, loyalty -0" where the CSV file said 0), and a count of
one customer is said in the singular ("1 customers" on the stage flows' chart)."""

from __future__ import annotations

from engine.report.charts import Unit, fmt, matrix_chart, signed


def test_a_value_shown_as_zero_has_no_minus() -> None:
    assert [fmt(v, Unit("count")) for v in (-0.3, -0.0, -1.6)] == ["0", "0", "-2"]
    assert fmt(-0.004, Unit("money", "EUR")) == "EUR 0.00"
    assert fmt(-0.4, Unit("money", "EUR")) == "-EUR 0.40"
    assert fmt(-0.0004, Unit("percent")) == "0.0%"
    assert [signed(v, "+,.0f") for v in (-0.3, 0.2, -1.2, 1500.0)] == ["+0", "+0", "-1",
                                                                         "+1,500"]
    assert signed(-0.0004, "+.1%") == "+0.0%"


def test_one_customer_of_a_flow_is_said_in_the_singular() -> None:
    svg = matrix_chart("flows", "Stage flows", ["growth"], ["growth", "decline"], [[1, 2]],
                       row_caption="from", col_caption="to")
    assert "growth \u2192 growth: 1 customer (33% of growth)" in svg
    assert "growth \u2192 decline: 2 customers (67% of growth)" in svg


def test_the_measure_section_shows_no_minus_zero() -> None:
    import pandas as pd

    from engine.history.measure_report import measure_rows

    row = {"run": "r1", "as_of": "2025-01-01", "campaign": "c", "treated": 100, "holdout": 10,
           "conversion_uplift": -0.000004, "margin_uplift": 1.0, "margin_low": 0.5,
           "margin_high": 1.5, "incremental_margin": -0.001, "cost": 2.0,
           "incremental_revenue": -0.004, "return_on_spend": -0.0001, "verdict": "unclear"}
    got = measure_rows(pd.DataFrame([row]))
    assert got is not None
    cells = got["rows"][0]
    assert cells[3] == "+0.00 pt" and cells[5] == "0.00 (2.00)" and cells[6:8] == ["0.00", "0.00"]
