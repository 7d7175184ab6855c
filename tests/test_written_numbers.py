"""`data.thousands` and `data.currency_sign`: amounts written as exports write them (£1,234.50,
1.234,50 €, 1 234,50) give the figures of the same rows written as plain numbers, in a file, a
folder of files and a Parquet file's text columns; a separator out of place, another currency
or a setting missing is an error at its row naming the setting that reads it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT

runner = CliRunner()
RETAIL = ROOT / "examples/retail/transactions.csv"


def written(amount: float, style: str) -> str:
    """``amount`` as an export writes it: 'uk' £1,234.50, 'de' 1.234,50 €, 'fr' 1 234,50
    (a narrow no-break space), 'ch' CHF 1'234.50."""
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups = re.sub(r"(?<=\d)(?=(\d{3})+$)", "_", whole)
    if style == "uk":
        return f"{sign}£{groups.replace('_', ',')}.{cents}"
    if style == "de":
        return f"{sign}{groups.replace('_', '.')},{cents} €"
    if style == "fr":
        return f"{sign}{groups.replace('_', chr(0x202F))},{cents}"
    return f"CHF {sign}{groups.replace('_', chr(0x2019))}.{cents}"


SETTINGS = {"uk": ('","', '"£"', None), "de": ('"."', '"€"', '","'),
            "fr": ('" "', None, '","'), "ch": ('"\'"', '"CHF"', None)}


def project(folder: Path, style: str | None) -> Path:
    """The retail example with its amounts and costs written in ``style`` (None: plain)."""
    folder.mkdir()
    for name in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / name, folder / name)
    tx = pd.read_csv(RETAIL, dtype={"NetAmount": float, "Cost": float}, keep_default_na=False)
    text = (ROOT / "cvm.yaml").read_text().replace("examples/retail/transactions.csv",
                                                   str(folder / "tx.csv"))
    if style is not None:
        for col in ("NetAmount", "Cost"):
            tx[col] = [written(v, style) for v in tx[col]]
        thousands, sign, decimal = SETTINGS[style]
        extra = f"\n  thousands: {thousands}" + (f"\n  currency_sign: {sign}" if sign else "") \
            + (f"\n  decimal: {decimal}" if decimal else "")
        text = text.replace('  delimiter: ","', '  delimiter: ","' + extra)
    tx.to_csv(folder / "tx.csv", index=False)
    (folder / "cvm.yaml").write_text(text.replace("examples/", f"{ROOT}/examples/"))
    return folder


def scored(folder: Path) -> bytes:
    for command in (["validate"], ["score", "-o", str(folder / "out")]):
        result = runner.invoke(app, [*command, "-p", str(folder)])
        assert result.exit_code == 0, result.output
    return (folder / "out" / "customers.csv").read_bytes()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The retail example's figures with its amounts written as plain numbers (once)."""
    return scored(project(tmp_path_factory.mktemp("plain") / "p", None))


@pytest.fixture(scope="module")
def plain_initialised(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The same, of a project cvm init made from the plain export (once)."""
    return initialised(tmp_path_factory.mktemp("init") / "p", RETAIL)


@pytest.mark.parametrize("style", ["uk", "de", "fr", "ch"])
def test_written_amounts_give_the_figures_of_plain_ones(tmp_path: Path, style: str,
                                                        plain: bytes) -> None:
    shown = project(tmp_path / style, style)
    sample = (shown / "tx.csv").read_text().splitlines()
    assert any(("1,0" in x or "1.0" in x or "1\u202f0" in x or "1\u20190" in x) for x in sample)
    assert scored(shown) == plain


def test_a_folder_and_a_parquet_file_read_them_too(tmp_path: Path, plain: bytes) -> None:
    folder = project(tmp_path / "folder", "de")
    lines = (folder / "tx.csv").read_text().splitlines(keepends=True)
    (folder / "tx.csv").unlink()
    (folder / "tx.csv").mkdir()
    (folder / "tx.csv" / "a.csv").write_text("".join(lines[: len(lines) // 2]))
    (folder / "tx.csv" / "b.csv").write_text(lines[0] + "".join(lines[len(lines) // 2:]))
    assert scored(folder) == plain
    parquet = project(tmp_path / "parquet", "uk")
    pd.read_csv(parquet / "tx.csv", dtype=str, keep_default_na=False).to_parquet(
        parquet / "tx.parquet")
    config = parquet / "cvm.yaml"
    config.write_text(config.read_text().replace("tx.csv", "tx.parquet"))
    assert scored(parquet) == plain


def errors(tmp_path: Path, rows: str, settings: str = "") -> str:
    folder = project(tmp_path / "p", None)
    (folder / "tx.csv").write_text("OrderID,CustomerID,OrderDate,Category,SalesChannel,Qty,"
                                   "NetAmount,Cost\n" + rows)
    config = folder / "cvm.yaml"
    config.write_text(config.read_text().replace('  delimiter: ","', '  delimiter: ","'
                                                 + settings))
    result = runner.invoke(app, ["validate", "-p", str(folder)])
    assert result.exit_code == 1, result.output
    return result.output.replace(str(folder) + "/", "")


ROW = 'O1,C1,2024-01-02,Toys,app,1,{},1.00\n'


def test_a_separator_out_of_place_is_an_error_at_its_row(tmp_path: Path) -> None:
    rows = ROW.format('"£1,250.00"') + ROW.format('"£1,25"')
    out = errors(tmp_path, rows, '\n  thousands: ","\n  currency_sign: "£"')
    assert out.startswith(
        "error: tx.csv:3: row 2, column 'NetAmount': found '£1,25', expected a number such as "
        "£1,250.00\n  hint: data.thousands is ',' in cvm.yaml: a comma stands only before "
        "groups of three digits (£1,250.00); if a comma is the decimal mark, set "
        "data.decimal: ',' and data.thousands to the other mark\n"), out


def test_another_currency_is_an_error_not_a_figure(tmp_path: Path) -> None:
    out = errors(tmp_path, ROW.format("£12.50") + ROW.format("$12.50"),
                 '\n  currency_sign: "£"')
    assert out.startswith(
        "error: tx.csv:3: row 2, column 'NetAmount': found '$12.50', expected a number such as "
        "£12.50\n  hint: data.currency_sign is '£' in cvm.yaml: this amount is written with '$'"
        "; amounts in another currency need converting first\n"), out


@pytest.mark.parametrize(("value", "hint"), [
    ('"£1,250.00"', 'a currency sign and a thousands separator: set data.currency_sign: "£" '
     'and data.thousands: ","'),
    ('"1.250,00 €"', 'a currency sign, a decimal comma and a thousands separator: set '
     'data.currency_sign: "€", data.decimal: "," and data.thousands: "."'),
    ("12.50 EUR", 'a currency sign: set data.currency_sign: "EUR"'),
    ("1'250.50", "a thousands separator: set data.thousands: \"'\""),
])
def test_the_hint_names_the_settings_that_read_the_number(tmp_path: Path, value: str,
                                                          hint: str) -> None:
    out = errors(tmp_path, ROW.format(value))
    assert f"\n  hint: {hint} in cvm.yaml if the numbers are all written so, or export plain " \
        "numbers\n" in out, out


@pytest.mark.parametrize(("settings", "message"), [
    ('\n  thousands: ","\n  decimal: ","', "error: cvm.yaml:{}:14: data.thousands: found ',', "
     "the decimal mark too (data.decimal)\n  hint: a number has one decimal mark and another "
     "thousands separator: 1,250.00 is decimal '.' thousands ','; 1.250,00 the other way "
     "round\n"),
    ('\n  thousands: "_"', "error: cvm.yaml:{}:14: data.thousands: found '_', expected one of "
     "\",\" (1,250.00), \".\" (1.250,00), \" \" (1 250,00) or \"'\" (1'250.00)\n"),
    ('\n  currency_sign: "1"', "error: cvm.yaml:{}:18: data.currency_sign: found '1', expected "
     "a currency sign or code such as £, € or EUR\n"),
])
def test_settings_that_cannot_read_a_number_are_refused(tmp_path: Path, settings: str,
                                                        message: str) -> None:
    out = errors(tmp_path, ROW.format("12.50"), settings)
    line = next(i for i, x in enumerate((tmp_path / "p/cvm.yaml").read_text().splitlines(), 1)
                if x.startswith(("  thousands", "  currency_sign")))
    assert out.startswith(message.format(line)), out


def initialised(folder: Path, source: Path) -> bytes:
    result = runner.invoke(app, ["init", str(folder), "--from", str(source)])
    assert result.exit_code == 0, result.output
    return scored(folder)


@pytest.mark.parametrize("style", ["uk", "de", "fr", "ch"])
def test_init_guesses_the_settings_that_read_them(tmp_path: Path, style: str,
                                                  plain_initialised: bytes) -> None:
    """`cvm init --from` an export written so: the settings guessed, the figures of the same
    rows written as plain numbers (before: 'which CVM Engine does not read', exit 1)."""
    shown = project(tmp_path / "shown", style)
    assert initialised(tmp_path / "p", shown / "tx.csv") == plain_initialised
    thousands, sign, decimal = SETTINGS[style]
    config = (tmp_path / "p" / "cvm.yaml").read_text()
    for key, value in (("thousands", thousands), ("currency_sign", sign), ("decimal", decimal)):
        said = re.search(rf"^  {key}: (.*?)  # guess: column 'NetAmount' writes numbers like",
                         config, re.M)
        assert (said.group(1) if said else None) == value, config
    assert ("\ncurrency: EUR  # guess" in config) == (style == "de")
    assert ("\ncurrency: CHF  # guess: the amounts are written with CHF\n" in config) == \
        (style == "ch")


def test_init_takes_the_currency_from_a_currency_column(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text("Email,Created at,Total,Order Currency\n" + "".join(
        f"c{i % 7}@x.com,2024-0{1 + i % 9}-0{1 + i % 9},{10 + i}.50,GBP\n" for i in range(40)))
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert result.exit_code == 0, result.output
    assert "\ncurrency: GBP  # guess: column 'Order Currency' holds GBP\n" in \
        (tmp_path / "p" / "cvm.yaml").read_text()


def test_a_word_under_the_settings_is_told_how_numbers_are_written(tmp_path: Path) -> None:
    out = errors(tmp_path, ROW.format('"£1,250.00"') + ROW.format("n/a"),
                 '\n  thousands: ","\n  currency_sign: "£"')
    assert out.startswith(
        "error: tx.csv:3: row 2, column 'NetAmount': found 'n/a', expected a number such as "
        "£1,250.00\n  hint: write the numbers as cvm.yaml's data settings say: £1,250.00\n"), out


def test_a_responses_file_s_hint_names_no_cvm_yaml_setting(tmp_path: Path) -> None:
    """A responses file is read with fixed settings: £12.50 there gets no data.currency_sign
    hint (no cvm.yaml setting applies to it)."""
    from engine.errors import InputError
    from engine.history.responses import read_responses
    from tests.test_responses_fix13 import HEAD

    path = tmp_path / "r.csv"
    path.write_text(HEAD + "C0000003,win_back,2025-10-03,converted,£12.50\n")
    with pytest.raises(InputError) as exc:
        read_responses(path, "r.csv")
    assert exc.value.format().endswith(
        "found '£12.50', expected a number such as 12.50\n  hint: use '.' as the decimal mark, "
        "no thousands separators or currency signs"), exc.value.format()


def read(values: list[str], decimal: str = ".", thousands: str | None = None,
         sign: str | None = None) -> list[float] | str:
    """``values`` through the engine's reading of a number column under the settings."""
    import pyarrow as pa

    from engine.data.header import Source
    from engine.data.typed_columns import as_number
    from engine.errors import InputError
    from engine.project.number_format import Numbers

    src = Source(Path("tx.csv"), "tx.csv", "data.transactions",
                 numbers=Numbers(decimal, thousands, sign))
    try:
        return list(as_number(src, pa.table({"a": pa.array(values, pa.string())}), "a", "Amount",
                              required=False))
    except InputError as exc:
        return f"{exc.problems[0].message} | hint: {exc.problems[0].hint}"


@pytest.mark.parametrize(("value", "decimal", "thousands", "sign"), [
    # the review: each read as a number (250, 12000, -125, 3) before
    ("0,250", ".", ",", None), ("0.500", ",", ".", "€"), ("00,250", ".", ",", None),
    ("0 250", ",", " ", None), ("0'250", ".", "'", None), ("1,2e3", ".", ",", None),
    ("1,25E0", ".", ",", None), ("- 1 25", ",", " ", None), ("-\u00a01\u00a025", ",", " ", None),
    ("£3£", ".", None, "£"), ("12£50", ".", None, "£"), ("1,250.", ".", ",", None),
])
def test_a_number_the_settings_do_not_read_is_refused(value: str, decimal: str,
                                                      thousands: str | None,
                                                      sign: str | None) -> None:
    said = read([value], decimal, thousands, sign)
    assert isinstance(said, str) and said.startswith(f"found {value!r}, expected"), said


@pytest.mark.parametrize(("value", "decimal", "thousands", "sign", "number"), [
    ("-£3", ".", None, "£", -3.0), ("£-3", ".", None, "£", -3.0), ("£ 1,250.00", ".", ",", "£",
                                                                  1250.0),
    ("1\u00a0250,00\u00a0€", ",", " ", "€", 1250.0), ("1\u2009250,50", ",", " ", None, 1250.5),
    ("-1.250,00 €", ",", ".", "€", -1250.0), ("€-1.250,00", ",", ".", "€", -1250.0),
    ("1’250.50", ".", "'", None, 1250.5), ("12.50EUR", ".", None, "EUR", 12.5),
    ("1,250", ".", ",", None, 1250.0), ("1.25", ".", ",", None, 1.25), ("+1,250", ".", ",", None,
                                                                       1250.0),
])
def test_a_number_the_settings_read(value: str, decimal: str, thousands: str | None,
                                    sign: str | None, number: float) -> None:
    assert read([value], decimal, thousands, sign) == [number]


def test_the_first_bad_row_is_said_whatever_its_problem(tmp_path: Path) -> None:
    """The review: a separator out of place was said before a word on an earlier row."""
    rows = ROW.format('"£1,250.00"') + ROW.format("n/a") + ROW.format('"£1,25"')
    out = errors(tmp_path, rows, '\n  thousands: ","\n  currency_sign: "£"')
    assert out.startswith("error: tx.csv:3: row 2, column 'NetAmount': found 'n/a', expected a "
                          "number such as £1,250.00\n  hint: 2 rows have this problem"), out


def test_a_thousands_point_or_three_decimals_is_said_as_either(tmp_path: Path) -> None:
    """The review: 1,250 alone got the thousands hint, which read 1,250 meant as 1.25 (a
    decimal comma before three decimals) 1000 times too large."""
    out = errors(tmp_path, ROW.format('"1,250"'))
    assert ("  hint: 1,250 is 1250 with a thousands separator, or 1.250 with a decimal comma: "
            'set data.thousands: "," in cvm.yaml for the first, data.decimal: "," for the '
            "second (as the file's other numbers are written), or export plain numbers\n"
            ) in out, out


@pytest.mark.parametrize(("rows", "code", "settings"), [
    # whole pounds with a sign: 1,250 may be three decimals; refused (before: read 1.25)
    (['"£1,250"', "£980", "£45", '"£2,300"'], 1, {}),
    (['"1,250 EUR"', "980 EUR", "45 EUR"], 1, {}),
    # three decimals beside one that can only be decimals (0.500): the point is decimal
    (["KWD 1.250", "KWD 0.500", "KWD 12.125"], 0, {"currency_sign": '"KWD"'}),
])
def test_init_guesses_no_setting_the_values_cannot_tell(tmp_path: Path, rows: list[str],
                                                        code: int,
                                                        settings: dict[str, str]) -> None:
    source = tmp_path / "tx.csv"
    source.write_text("Email,Created at,Total\n" + "".join(
        f"c{i % 3}@x.com,2024-0{1 + i % 9}-1{i % 9},{v}\n" for i, v in enumerate(rows * 4)))
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert result.exit_code == code, result.output
    config = (tmp_path / "p" / "cvm.yaml").read_text()
    found = {k: v for k in ("thousands", "currency_sign", "decimal")
             if (v := (re.search(rf"^  {k}: (\S+)", config, re.M) or [None, None])[1])}
    assert found == settings, config


def test_init_takes_the_thousands_from_another_money_column_s_decimals(tmp_path: Path) -> None:
    """Whole amounts 1,250 beside costs 12.50: the comma is no decimal mark."""
    source = tmp_path / "tx.csv"
    source.write_text("Customer,Date,Amount,Cost\n" + "".join(
        f'c{i % 3},2024-0{1 + i % 9}-1{i % 9},"{a}",{c}\n'
        for i, (a, c) in enumerate([("1,250", "12.50"), ("980", "8.40"), ("45", "3.10")] * 4)))
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert result.exit_code == 0, result.output
    assert "  thousands: \",\"  # guess: column 'Amount' writes numbers like '1,250'\n" in \
        (tmp_path / "p" / "cvm.yaml").read_text()


@pytest.mark.parametrize(("value", "thousands", "sign", "shown"), [
    ("(£3.00)", None, "£", "-£3.00"), ("(1,250.00)", ",", None, "-1,250.00"),
    ("(3.00)", None, None, "-3.00"),
])
def test_an_accounting_negative_is_told_to_take_a_minus(value: str, thousands: str | None,
                                                        sign: str | None, shown: str) -> None:
    """QuickBooks and Xero write a refund (£3.00): the review found the hint said nothing of
    the parentheses (or named the thousands separator)."""
    said = read([value], ".", thousands, sign)
    assert isinstance(said, str) and said.endswith(
        "hint: a negative amount in parentheses, as accounting exports write it: write it "
        f"with a minus sign ({shown})"), said


@pytest.mark.parametrize(("value", "decimal", "thousands", "sign", "hint"), [
    # a new user's trial: another currency after the number was said a misplaced separator
    ("10.745,28 €", ",", ".", "£", "data.currency_sign is '£' in cvm.yaml: this amount is "
     "written with '€'; amounts in another currency need converting first"),
    # and the minus after a decimal-comma number was shown with a point (-12.00)
    ("12,00-", ",", None, None, "the minus sign stands after the number: write it first "
     "(-12,00), as a plain signed number"),
])
def test_the_hint_names_what_is_wrong_with_the_value(value: str, decimal: str,
                                                     thousands: str | None, sign: str | None,
                                                     hint: str) -> None:
    said = read([value], decimal, thousands, sign)
    assert isinstance(said, str) and said.endswith(f"hint: {hint}"), said
