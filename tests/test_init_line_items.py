"""`cvm init --from` on line items: rows alike in every mapped column that differ in a column
the engine does not read (two articles of one order at the same price) are purchases, and
`duplicates: drop` skipped them as exact duplicates (a new user's trial: a customer's revenue
29.98 for 39.97, said as "exact duplicates")."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()

HEADER = "order_id,customer_id,order_date,article,amount\n"
ROWS = ("O1,c1,2024-01-03,ART-A,9.99\n"
        "O2,c2,2024-01-05,ART-C,40.00\n"
        "O3,c1,2024-02-11,ART-D,13.50\n") + "".join(
    f"P{m},c{m % 3 + 2},2024-{m:02d}-15,ART-E,20.00\n" for m in range(3, 13))


def _init(tmp_path: Path, text: str) -> tuple[str, str]:
    source = tmp_path / "export.csv"
    source.write_text(text)
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout, (tmp_path / "p" / "cvm.yaml").read_text()


def test_line_items_alike_in_the_mapped_columns_are_kept(tmp_path: Path) -> None:
    _, config = _init(tmp_path, HEADER + ROWS + "O1,c1,2024-01-03,ART-B,9.99\n")
    assert ("  duplicates: keep  # rows 1 and 14 are alike in every mapped column and differ "
            "in 'article' (line items?): each is a purchase; `drop` would count the second and "
            "skip it\n") in config, config
    # and the run reads them as the export holds them: 9.99 twice
    ran = runner.invoke(app, ["score", "-p", str(tmp_path / "p"), "-o", str(tmp_path / "o"),
                              "--quiet"])
    assert ran.exit_code == 0, ran.stderr
    import pandas as pd

    table = pd.read_csv(tmp_path / "o" / "customers.csv", index_col="customer_id")
    assert table.loc["c1", "revenue"] == 33.48


def test_rows_exported_twice_are_still_dropped(tmp_path: Path) -> None:
    _, config = _init(tmp_path, HEADER + ROWS + "O1,c1,2024-01-03,ART-A,9.99\n")
    assert "  duplicates: drop  # exact duplicate rows are counted and skipped; `keep` when " \
        "identical rows are real purchases\n" in config, config


def test_line_items_beside_rows_exported_twice_say_both(tmp_path: Path) -> None:
    """A re-trial: line items and rows repeated whole in one export got `keep` with the line
    items' reason alone, and the repeated rows then counted as purchases without a word."""
    _, config = _init(tmp_path, HEADER + ROWS + "O1,c1,2024-01-03,ART-B,9.99\n"
                      "O2,c2,2024-01-05,ART-C,40.00\n")
    assert ("  duplicates: keep  # rows 1 and 14 are alike in every mapped column and differ "
            "in 'article' (line items?): each is a purchase; `drop` would count the second and "
            "skip it; but rows 2 and 15 are alike in every column (exported twice?): with keep "
            "both count, so remove such rows from the export\n") in config, config

