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
                "write a comma as the decimal mark (12,50); if the points separate thousands "
                "(1.250,00), set data.thousands: \".\"\n") in result.output, result.output
    assert not (tmp_path / "out").exists()


def test_decimal_commas_without_the_setting_are_an_error(tmp_path: Path) -> None:
    tx = ("OrderID;CustomerID;OrderDate;Category;SalesChannel;Qty;NetAmount;Cost\n"
          "O1;C000001;2023-01-02;Garden;app;1;42,70;28,42\n")
    folder = project(tmp_path / "p", tx, decimal=None)
    result = runner.invoke(app, ["validate", "-p", str(folder)])
    assert result.exit_code == 1
    assert ("column 'NetAmount': found '42,70', expected a number such as 12.50\n  hint: a "
            "decimal comma: set data.decimal: \",\" in cvm.yaml if every number of the file is "
            "written so, or export with a decimal point\n") in result.output, result.output


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


def test_a_folder_of_files_reads_decimal_commas_in_one_process(tmp_path: Path) -> None:
    rows = semicolons((ROOT / "examples/retail/transactions.csv").read_text(), comma=True)
    single = project(tmp_path / "single", rows, decimal=",")
    folder = project(tmp_path / "folder", rows, decimal=",")
    lines = rows.splitlines(keepends=True)
    (folder / "tx.csv").unlink()
    (folder / "tx.csv").mkdir()
    half = len(lines) // 2
    (folder / "tx.csv" / "a.csv").write_text("".join(lines[:half]))
    (folder / "tx.csv" / "b.csv").write_text(lines[0] + "".join(lines[half:]))
    for side in (single, folder):
        result = runner.invoke(app, ["validate", "-p", str(side)])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["score", "-p", str(side), "-o", str(side / "out")])
        assert result.exit_code == 0, result.output
    assert (single / "out" / "customers.csv").read_bytes() == \
        (folder / "out" / "customers.csv").read_bytes()


def test_a_parquet_file_s_text_numbers_follow_the_setting(tmp_path: Path) -> None:
    """data.decimal is the mark of numbers written as text: a Parquet file's text columns
    too (as --engine dask's partitions of a CSV file hold them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = (ROOT / "examples/retail/transactions.csv").read_text()
    points = project(tmp_path / "points", semicolons(rows, comma=False), decimal=None)
    folder = project(tmp_path / "pq", semicolons(rows, comma=True), decimal=",")
    frame = pd.read_csv(folder / "tx.csv", sep=";", dtype=str, keep_default_na=False)
    assert frame["NetAmount"].str.contains(",").any()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / "tx.parquet")
    config = folder / "cvm.yaml"
    config.write_text(config.read_text().replace(str(folder / "tx.csv"),
                                                 str(folder / "tx.parquet")))
    for side in (points, folder):
        result = runner.invoke(app, ["score", "-p", str(side), "-o", str(side / "out")])
        assert result.exit_code == 0, result.output
    assert (points / "out" / "customers.csv").read_bytes() == \
        (folder / "out" / "customers.csv").read_bytes()


def _init(tmp_path: Path, name: str, text: str) -> tuple[int, str, str]:
    source = tmp_path / f"{name}.csv"
    source.write_text(text)
    result = runner.invoke(app, ["init", str(tmp_path / name), "--from", str(source)])
    config = tmp_path / name / "cvm.yaml"
    return result.exit_code, result.output, config.read_text() if config.exists() else ""


def test_init_does_not_take_a_thousands_separator_for_a_decimal_comma(tmp_path: Path) -> None:
    """Whole dollars written "5,273", beside item ids written "328,78": not a decimal comma
    (that read every amount of 1,000 or more a thousand times too small)."""
    code, out, config = _init(tmp_path, "en", (
        "OrderID,CustomerID,OrderDate,Amount,ItemIDs\nO1,C1,2024-04-26,\"28,409\",\"328,78\"\n"
        "O2,C2,2024-04-27,350,12\nO3,C1,2024-05-27,\"5,273\",\"1,2\"\n"))
    assert code == 1
    assert "  decimal:" not in config
    assert ("column 'Amount' holds numbers with a thousands separator ('28,409'), which cvm "
            "init cannot read as they are: export them without one, or set data.thousands in "
            "cvm.yaml if it separates thousands") in out, out
    code, out, config = _init(tmp_path, "points", (  # a point in a column of text and numbers
        'Customer,Date,Amount,Sizes\nK1,2024-01-03,"1,234.50","8,10"\n'
        'K2,2024-01-14,8.00,"9,11"\nK1,2024-02-03,12.5,7\n'))
    assert "  decimal:" not in config


def test_init_with_decimal_commas_and_points_takes_no_column_for_the_amount(
        tmp_path: Path) -> None:
    """Umsatz written 42,70 beside Kosten written 28.42: the cost is not the amount."""
    code, out, config = _init(tmp_path, "de", (
        "Kundennummer;Datum;Umsatz;Kosten\nK1;02/01/2023;42,70;28.42\n"
        "K2;03/01/2023;12,70;8.42\nK1;04/02/2023;2,70;1.42\n"))
    assert code == 1
    assert '    amount: null  # NOT GUESSED' in config
    assert ("not guessed: column 'Umsatz' holds numbers with a decimal comma ('42,70'), which "
            "cvm init cannot read as they are: export them with a decimal point, or every "
            "number of the file with a decimal comma (data.decimal: ',')") in out, out
    code, out, _ = _init(tmp_path, "mixed", (
        "Kd;Tag;Betrag\nK1;03.01.2024;12,50\nK2;04.01.2024;8.99\nK1;05.02.2024;7,25\n"))
    assert ("column 'Betrag' holds numbers with a decimal comma ('12,50') and a decimal point "
            "('8.99'), which cvm init cannot read as they are: export them with one decimal mark "
            "(data.decimal: ',' reads commas), no currency symbol or thousands separator") \
        in out, out


def test_init_refuses_a_file_without_a_header_written_with_decimal_commas(
        tmp_path: Path) -> None:
    code, out, config = _init(tmp_path, "nohead", (
        "10001;03.01.2024;12,50\n10002;04.01.2024;8,99\n10001;05.02.2024;7,25\n"))
    assert code == 1 and config == ""
    assert "found no header line: every field of the first line is a number or a date" in out


def test_under_a_decimal_comma_the_first_bad_row_is_said_first(tmp_path: Path) -> None:
    """The review: with `abc` on line 2 and `37.37` on line 6 only line 6 was named (points
    were checked before anything else), and a word with a point (`k.A.`, no figure given)
    got the thousands separator's hint."""
    head = "OrderID;CustomerID;OrderDate;Category;SalesChannel;Qty;NetAmount;Cost\n"
    row = "O{0};C000001;2023-0{0}-02;Garden;app;1;{1};28,42\n"
    for case, (amounts, said) in enumerate((
            (["abc", "42,70", "37.37"], "tx.csv:2: row 1, column 'NetAmount': found 'abc', "
             "expected a number such as 12,50\n  hint: use ',' as the decimal mark "
             "(data.decimal), no thousands separators or currency signs\n"),
            (["42,70", "k.A.", "12,50"], "tx.csv:3: row 2, column 'NetAmount': found 'k.A.', "
             "expected a number such as 12,50\n  hint: use ',' as the decimal mark "
             "(data.decimal), no thousands separators or currency signs\n"),
            (["42,70", "37.37", "abc"], "tx.csv:3: row 2, column 'NetAmount': found '37.37', "
             "expected a number such as 12,50\n  hint: data.decimal is ',' in cvm.yaml: write a "
             "comma as the decimal mark (12,50); if the points separate thousands (1.250,00), "
             "set data.thousands: \".\"\n"))):
        tx = head + "".join(row.format(i + 1, a) for i, a in enumerate(amounts))
        folder = project(tmp_path / f"case{case}", tx, decimal=",")
        result = runner.invoke(app, ["validate", "-p", str(folder)])
        assert (result.exit_code, said in result.output) == (1, True), result.output
