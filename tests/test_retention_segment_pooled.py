"""A value band with too few customer-periods for a rate of its own takes the overall rate; the
value table named the band all the same ("value band 4 of 4" beside the overall 0.416667, a
new user: the column is "the group whose measured retention rate applies")."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app


def test_a_pooled_band_is_named_as_the_group_whose_rate_applies(make_project: object,
                                                                 tmp_path: Path) -> None:
    project = make_project()  # type: ignore[operator]
    result = CliRunner().invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "value band 1 of 4 50.0% (pooled: few customers)" in result.stdout
    table = pd.read_csv(tmp_path / "o" / "customers.csv").set_index("customer_id")
    assert table["retention_rate"].tolist() == [0.5, 0.5, 0.5]
    assert table["retention_segment"].tolist() == [
        f"all customers (value band {k} of 4 pooled: few customers)" for k in (4, 2, 1)], \
        table["retention_segment"].tolist()


def test_a_band_with_its_own_rate_keeps_its_name(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    result = CliRunner().invoke(app, ["score", "-p", str(ROOT), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "o" / "customers.csv")
    assert sorted(table["retention_segment"].unique()) == [
        f"value band {k} of 4" for k in range(1, 5)]
