"""A new user's trial (session 35) with a German shop's export: `cvm init --from` guessed
two-digit years as four-digit ones (every row then refused as a date in year 24), did not
read dates with a time (02.12.2024 14:33), left Bestellnummer, Warengruppe and Menge unmapped
(orders counted as purchase days, every customer's category count 0), and wrote no decimal
mark for a file of decimal commas with one 1.299,00 in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()
HEADER = "Kundennummer;Bestellnummer;Bestelldatum;Warengruppe;Menge;Betrag\n"


def _export(dates: list[str], amounts: list[str] | None = None) -> str:
    amounts = amounts or [f"{10 + i % 7},{i % 10}9" for i in range(len(dates))]
    return HEADER + "".join(
        f"K{i % 5};B{i};{d};{('Garten', 'Haus', 'Küche')[i % 3]};{1 + i % 3};{a}\n"
        for i, (d, a) in enumerate(zip(dates, amounts, strict=True)))


DAYS = [f"{d:02d}.{m:02d}.2024" for m in range(1, 13) for d in (3, 17, 28)]


def _init(tmp_path: Path, text: str) -> tuple[int, str, str]:
    source = tmp_path / "umsatz.csv"
    source.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    config = tmp_path / "p" / "cvm.yaml"
    return result.exit_code, result.output, config.read_text() if config.exists() else ""


def _validates(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "-p", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("dates", "fmt"), [
    ([d[:6] + d[8:] for d in DAYS], "%d.%m.%y"),  # 28.01.24
    ([f"{d} {9 + i % 9:02d}:{i % 60:02d}" for i, d in enumerate(DAYS)], "%d.%m.%Y %H:%M"),
    ([f"{d} 09:15:{i % 60:02d}" for i, d in enumerate(DAYS)], "%d.%m.%Y %H:%M:%S"),
])
def test_dates_are_guessed_in_a_format_the_engine_reads(tmp_path: Path, dates: list[str],
                                                        fmt: str) -> None:
    code, out, config = _init(tmp_path, _export(dates))
    assert code == 0, out
    assert f'  date_format: "{fmt}"  # guess (high)' in config, config
    assert '    date: "Bestelldatum"' in config
    _validates(tmp_path)


def test_german_column_names_are_mapped(tmp_path: Path) -> None:
    code, out, config = _init(tmp_path, _export(DAYS))
    assert code == 0, out
    for field, column in (("customer_id", "Kundennummer"), ("order_id", "Bestellnummer"),
                          ("date", "Bestelldatum"), ("category", "Warengruppe"),
                          ("quantity", "Menge"), ("amount", "Betrag")):
        assert f'    {field}: "{column}"  # guess (high)' in config, (field, config)
    _validates(tmp_path)


def test_a_thousands_separator_in_decimal_commas_keeps_the_decimal_mark(tmp_path: Path) -> None:
    amounts = [f"{10 + i % 7},{i % 10}9" for i in range(len(DAYS))]
    amounts[4] = "1.299,00"
    code, out, config = _init(tmp_path, _export(DAYS, amounts))
    assert code == 1
    assert '  decimal: ","  # guess: column \'Betrag\' writes numbers with a decimal comma' \
        in config, config
    assert ("not guessed: column 'Betrag' holds numbers with a thousands separator "
            "('1.299,00'), which CVM Engine does not read: export them without one") in out, out
    config = config.replace("    amount: null", '    amount: "Betrag"')
    (tmp_path / "p" / "cvm.yaml").write_text(config)  # the user mends the row and the mapping
    source = tmp_path / "umsatz.csv"
    source.write_text(source.read_text().replace("1.299,00", "1299,00"))
    _validates(tmp_path)


def test_decimal_commas_without_the_setting_say_the_setting(tmp_path: Path) -> None:
    code, out, config = _init(tmp_path, _export(DAYS))
    assert code == 0, out
    (tmp_path / "p" / "cvm.yaml").write_text(config.replace('  decimal: ","', '  decimal: "."'))
    result = runner.invoke(app, ["validate", "-p", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert ("umsatz.csv:2: row 1, column 'Betrag': found '10,09', expected a number such as "
            "12.50\n  hint: 36 rows have this problem; a decimal comma: set data.decimal: \",\" "
            "in cvm.yaml if every number of the file is written so, or export with a decimal "
            "point\n"
            ) in result.output, result.output


def _guessed(tmp_path: Path, name: str, text: str) -> tuple[int, str, str]:
    source = tmp_path / f"{name}.csv"
    source.write_text(text)
    result = runner.invoke(app, ["init", str(tmp_path / name), "--from", str(source)])
    config = tmp_path / name / "cvm.yaml"
    return result.exit_code, result.output, config.read_text() if config.exists() else ""


def test_points_before_three_digits_are_not_read_as_decimals(tmp_path: Path) -> None:
    """The review: whole euros written 1.250 (a thousands point) beside a cost of 12,50 were
    mapped as the amount at high confidence, with no decimal mark: every amount of 1,000 or
    more read 1000 times too small, validate and score passing."""
    code, out, config = _guessed(tmp_path, "de", (
        "customer_id;date;amount;cost\nC1;2024-01-03;1.250;12,50\nC2;2024-01-14;980;8,40\n"
        "C1;2024-02-03;455;3,10\nC2;2024-03-01;-854;-12,50\n"))  # -854 is no ISO date
    assert code == 1
    assert '  decimal: ","' in config and "    amount: null  # NOT GUESSED" in config, config
    assert ("not guessed: column 'amount' holds numbers with a thousands separator ('1.250'), "
            "which CVM Engine does not read: export them without one") in out, out
    code, out, config = _guessed(tmp_path, "alone", (  # no decimal comma anywhere
        "customer_id;date;amount\nC1;2024-01-03;1.250\nC2;2024-01-14;980\n"
        "C1;2024-02-03;455\n"))
    assert code == 1
    assert "    amount: null  # NOT GUESSED" in config and "decimal:" not in config, config
    assert ("not guessed: column 'amount' holds numbers with a thousands separator ('1.250'), "
            "which CVM Engine does not read: export them without one") in out, out
    code, out, config = _guessed(tmp_path, "prices", (  # three decimals throughout: read
        "customer_id,date,amount\nC1,2024-01-03,1.459\nC2,2024-01-14,1.389\n"
        "C1,2024-02-03,12.5\n"))
    assert code == 0, out


def test_the_decimal_mark_is_guessed_from_money_columns_only(tmp_path: Path) -> None:
    """The review: item ids listed "242,334" and "143,98" in an English export made init guess
    a decimal comma, and the amounts written "1,065" past the sampled rows were read as 1.065
    (validate and score passing); sizes written "8,10" were even taken for the amount."""
    rows = "".join(f'O{i},C{i % 40},2024-01-{1 + i % 28:02d},{100 + i},"{i},{i + 98}"\n'
                   for i in range(60))
    code, out, config = _guessed(tmp_path, "en", "OrderID,CustomerID,OrderDate,Amount,ItemIDs\n"
                                 + rows)
    assert code == 0, out
    assert "decimal:" not in config and '    amount: "Amount"' in config, config
    code, out, config = _guessed(tmp_path, "sizes", 'Customer,Date,Sizes\nK1,2024-01-03,"8,10"\n'
                                 'K2,2024-01-14,"9,5"\nK1,2024-02-03,"7,25"\n')
    assert "\n  decimal:" not in config and "    amount: \"Sizes\"" not in config, config


def test_a_row_of_separators_only_is_said_as_an_empty_row(tmp_path: Path) -> None:
    """A new user's Excel export ended with rows of semicolons only (;;;;;): validate named an
    empty Bestelldatum, run an empty Kundennummer, neither said the row is empty."""
    code, out, _ = _init(tmp_path, _export(DAYS))
    assert code == 0, out
    source = tmp_path / "umsatz.csv"
    lines = source.read_text().splitlines(keepends=True)
    source.write_text("".join(lines[:30] + [";;;;;\n"] + lines[30:] + [";;;;;\n"] * 2))
    said = ("umsatz.csv:31: row 30, column 'Bestelldatum': found an empty row (no value in "
            "any column cvm.yaml maps), expected a transaction\n  hint: 3 rows have this "
            "problem; delete the empty rows (a spreadsheet's export often ends with rows of "
            "separators only, such as ;;;;;)\n")
    for command in (["validate"], ["run", "--no-history", "-o", str(tmp_path / "out")]):
        result = runner.invoke(app, [*command, "-p", str(tmp_path / "p")])
        assert (result.exit_code, said in result.output) == (1, True), result.output
