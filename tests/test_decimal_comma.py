"""`data.decimal: ","`: numbers written 12,50, as many European exports write them (semicolon
separated). The figures equal those of the same rows written with decimal points; a number
with a point under a decimal comma (1.234,56: a thousands separator) is an error at its line;
`cvm init --from` guesses the mark."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT

runner = CliRunner()


def project(folder: Path, tx: str, *, decimal: str | None) -> Path:
    """The bundled example's rules and policies over the retail transactions as ``tx``."""
    folder.mkdir()
    for name in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / name, folder / name)
    (folder / "tx.csv").write_text(tx)
    customers = (ROOT / "examples/retail/customers.csv").read_text()
    assert ";" not in customers and '"' not in customers
    (folder / "customers.csv").write_text(customers.replace(",", ";"))
    text = (ROOT / "cvm.yaml").read_text()
    text = text.replace("examples/retail/transactions.csv", str(folder / "tx.csv"))
    text = text.replace("examples/retail/customers.csv", str(folder / "customers.csv"))
    text = text.replace('  delimiter: ","', '  delimiter: ";"' + (
        f'\n  decimal: "{decimal}"' if decimal else ""))
    (folder / "cvm.yaml").write_text(text.replace("examples/", f"{ROOT}/examples/"))
    return folder


def semicolons(text: str, *, comma: bool) -> str:
    lines = [line.replace(",", ";") for line in text.splitlines()]
    return "\n".join(x.replace(".", ",") if comma else x for x in lines) + "\n"


def test_decimal_commas_give_the_figures_of_decimal_points(tmp_path: Path) -> None:
    rows = (ROOT / "examples/retail/transactions.csv").read_text()
    assert ";" not in rows and '"' not in rows
    points = project(tmp_path / "points", semicolons(rows, comma=False), decimal=None)
    commas = project(tmp_path / "commas", semicolons(rows, comma=True), decimal=",")
    assert "12,50" not in rows and ",42;" not in semicolons(rows, comma=False)
    for folder in (points, commas):
        result = runner.invoke(app, ["validate", "-p", str(folder)])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["run", "-p", str(folder), "-o", str(folder / "out"),
                                     "--no-history"])
        assert result.exit_code == 0, result.output
    for name in ("customers.csv", "decisions.csv"):
        assert (points / "out" / name).read_bytes() == (commas / "out" / name).read_bytes()
    left, right = (pd.read_csv(f / "out" / "actions.csv", dtype=str, keep_default_na=False)
                   for f in (points, commas))  # the run ids differ, as their inputs do
    assert left.drop(columns="run_id").equals(right.drop(columns="run_id"))
    revenue = pd.read_csv(commas / "out" / "customers.csv")["revenue"].sum()
    assert revenue > 100_000  # amounts read as euros and cents, not as text or 0


def test_a_point_under_a_decimal_comma_is_an_error_at_its_line(tmp_path: Path) -> None:
    tx = ("OrderID;CustomerID;OrderDate;Category;SalesChannel;Qty;NetAmount;Cost\n"
          "O1;C000001;2023-01-02;Garden;app;1;42,70;28,42\n"
          "O2;C000001;2023-06-02;Garden;app;1;1.234,56;28,42\n")
    folder = project(tmp_path / "p", tx, decimal=",")
    for command in (["validate"], ["run", "--no-history", "-o", str(tmp_path / "out")]):
        result = runner.invoke(app, [*command, "-p", str(folder)])
        assert result.exit_code == 1, result.output
        assert ("tx.csv:3: row 2, column 'NetAmount': found '1.234,56', "
                "expected a number such as 12,50\n  hint: data.decimal is ',' in cvm.yaml: "
                "write no thousands separators (1234,56), and a comma as the decimal mark\n"
                ) in result.output, result.output
    assert not (tmp_path / "out").exists()


def test_decimal_commas_without_the_setting_are_an_error(tmp_path: Path) -> None:
    tx = ("OrderID;CustomerID;OrderDate;Category;SalesChannel;Qty;NetAmount;Cost\n"
          "O1;C000001;2023-01-02;Garden;app;1;42,70;28,42\n")
    folder = project(tmp_path / "p", tx, decimal=None)
    result = runner.invoke(app, ["validate", "-p", str(folder)])
    assert result.exit_code == 1
    assert ("column 'NetAmount': found '42,70', expected a number such as 12.50\n  hint: use "
            "'.' as the decimal mark, no thousands separators or currency signs") \
        in result.output, result.output


def test_a_decimal_mark_other_than_point_or_comma_is_refused(tmp_path: Path) -> None:
    folder = project(tmp_path / "p", "a;b\n", decimal="'")
    result = runner.invoke(app, ["validate", "-p", str(folder)])
    assert result.exit_code == 1
    assert "data.decimal: found \"'\", expected one of" in result.output, result.output


def test_init_guesses_a_decimal_comma(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text("Kunde;Datum;Umsatz\nK1;03.01.2024;12,50\nK2;14.01.2024;8\n"
                      "K1;25.02.2024;1,234\n")
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert result.exit_code == 0, result.output
    assert "  export.csv: utf-8, delimiter ';', decimal mark ','\n" in result.output
    text = (tmp_path / "p" / "cvm.yaml").read_text()
    assert ('  decimal: ","  # guess: column \'Umsatz\' writes numbers with a decimal comma '
            "('12,50')\n") in text
    assert '    amount: "Umsatz"' in text
    english = tmp_path / "english.csv"  # 1,234 alone may be a thousands separator
    english.write_text('Customer,Date,Amount\nK1,2024-01-03,"1,234"\nK2,2024-01-14,8\n')
    result = runner.invoke(app, ["init", str(tmp_path / "q"), "--from", str(english)])
    assert "  decimal:" not in (tmp_path / "q" / "cvm.yaml").read_text()
