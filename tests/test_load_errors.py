"""Bad input: each case exits 1 with one exact message and writes no output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_CONFIG, BASE_TX

runner = CliRunner()


def _score(project: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["score", "--project", str(project), "--quiet"])
    return result.exit_code, result.stderr


CASES: list[tuple[str, str, str | bytes | None, str]] = [
    ("missing_column", BASE_CONFIG, BASE_TX.replace("amount", "amt"),
     "error: tx.csv:1: header: column 'amount' (mapped to amount in cvm.yaml) not found; "
     "columns present: 'cust', 'day', 'amt', 'cost'\n  hint: did you mean 'amt'?"),
    ("bad_date", BASE_CONFIG, BASE_TX.replace("2024-03-10", "2024-13-10"),
     "error: tx.csv:3: row 2, column 'day': found '2024-13-10', expected a date such as "
     "2024-01-31\n  hint: write dates as YYYY-MM-DD (time optional), or set data.date_format "
     "in cvm.yaml"),
    ("bad_amount", BASE_CONFIG, BASE_TX.replace("200.00", "€200").replace(",50.00,", ",abc,"),
     "error: tx.csv:3: row 2, column 'amount': found 'abc', expected a number such as 12.50\n"
     "  hint: 2 rows have this problem; use '.' as the decimal mark, no thousands separators "
     "or currency signs"),
    ("empty_file", BASE_CONFIG, "",
     "error: tx.csv: the file is empty, expected a header line and data rows\n"
     "  hint: check data.transactions at cvm.yaml:3:17, or whether the export stopped early or "
     "wrote its rows to another file"),
    ("header_only", BASE_CONFIG, "cust,day,amount,cost\n",
     "error: tx.csv: the file has a header but no data rows\n"
     "  hint: check data.transactions at cvm.yaml:3:17, or whether the export stopped early or "
     "wrote its rows to another file"),
    ("missing_file", BASE_CONFIG, None,
     "error: tx.csv: file not found\n  hint: check data.transactions at cvm.yaml:3:17 (paths are "
     "relative to the project folder)"),
    ("wrong_delimiter", BASE_CONFIG, BASE_TX.replace(",", ";"),
     "error: tx.csv:1: header: found one column 'cust;day;amount;cost', expected the columns "
     "'cust', 'day', 'amount', 'cost' separated by ','\n  hint: the header looks "
     "semicolon-separated but data.delimiter is ',': set data.delimiter: ';' in cvm.yaml"),
    ("not_utf8", BASE_CONFIG, BASE_TX.encode().replace(b"b,2024", b"\xe9,2024"),
     "error: tx.csv:5: byte 0xe9 at byte offset 97 is not valid utf-8\n  hint: save the file "
     "as UTF-8, or set data.encoding in cvm.yaml (e.g. latin-1 or cp1252)"),
    ("mapping_names_absent_column", BASE_CONFIG.replace("cost: cost", "cost: Cost"), BASE_TX,
     "error: tx.csv:1: header: column 'Cost' (mapped to cost in cvm.yaml) not found; columns "
     "present: 'cust', 'day', 'amount', 'cost'\n  hint: did you mean 'cost'?"),
    ("bad_config_value", BASE_CONFIG.replace("discount_rate: 0.1", "discount_rate: ten"),
     BASE_TX,
     "error: cvm.yaml:13:16: discount_rate: found 'ten' (text), expected a number above 0 "
     "and at most 1"),
    ("bad_config_range", BASE_CONFIG.replace("discount_rate: 0.1", "discount_rate: 10"),
     BASE_TX,
     "error: cvm.yaml:13:16: discount_rate: found 10, expected a number above 0 and at most 1\n"
     "  hint: rates are fractions: write 0.1 for 10%"),
    # a marketer's trial: 6% got the hint "0.1 for 10%", 5 "write 0.1 for 10%" (their own
    # figure is the example)
    ("percent_config_value", BASE_CONFIG.replace("discount_rate: 0.1", "discount_rate: 6%"),
     BASE_TX,
     "error: cvm.yaml:13:16: discount_rate: found '6%' (text), expected a number above 0 and "
     "at most 1\n  hint: write a fraction, without %: 0.06 for 6%"),
    ("percent_config_range", BASE_CONFIG.replace("discount_rate: 0.1", "discount_rate: 5"),
     BASE_TX,
     "error: cvm.yaml:13:16: discount_rate: found 5, expected a number above 0 and at most 1\n"
     "  hint: rates are fractions: write 0.05 for 5%"),
    ("unknown_config_key", BASE_CONFIG.replace("currency: EUR", "curency: EUR"), BASE_TX,
     "error: cvm.yaml:10:1: curency: unknown key 'curency'\n  hint: did you mean 'currency'?"),
    ("duplicate_config_key", BASE_CONFIG + "currency: USD\n", BASE_TX,
     "error: cvm.yaml:15:1: currency: duplicate key 'currency' (first defined on line 10)\n"
     "  hint: YAML keeps only one of them; remove or rename one"),
    ("empty_customer_id", BASE_CONFIG, BASE_TX.replace("c,2024-06-02", ",2024-06-02"),
     "error: tx.csv:7: row 6, column 'cust': found an empty value, expected a value in every "
     "row\n  hint: fill it in, or leave such rows out of the export"),
    ("short_row", BASE_CONFIG, BASE_TX.replace("b,2024-02-01,200.00,150.00", "b,2024-02-01"),
     "error: tx.csv:5: found 2 fields, expected 4 like the header\n  hint: a value may contain "
     "the delimiter without quotes, or the line is cut"),
    ("impossible_date_with_format",
     BASE_CONFIG.replace("  columns:", '  date_format: "%d/%m/%Y"\n  columns:'),
     BASE_TX.replace("2024-01-05", "05/01/2024").replace("2024-03-10", "30/02/2024")
     .replace("2024-06-20", "20/06/2024").replace("2024-02-01", "01/02/2024")
     .replace("2024-05-15", "15/05/2024").replace("2024-06-02", "02/06/2024"),
     "error: tx.csv:3: row 2, column 'day': found '30/02/2024', expected a date in the format "
     "'%d/%m/%Y'\n  hint: no such day: February 2024 has 29 days: fix the value"),
    ("infinite_amount", BASE_CONFIG, BASE_TX.replace("30.00,20.00", "inf,20.00"),
     "error: tx.csv:6: row 5, column 'amount': found 'inf', expected a number such as 12.50\n"
     "  hint: NaN and infinity are not numbers here; leave an optional value empty instead"),
]


@pytest.mark.parametrize(("name", "config", "tx", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(make_project: Callable[..., Path], name: str, config: str,
                   tx: str | bytes | None, expected: str) -> None:
    project = make_project(config, tx)
    code, err = _score(project)
    assert err.strip() == expected
    assert code == 1
    assert not (project / "output").exists()


def test_yaml_syntax_error_points_at_line(make_project: Callable[..., Path]) -> None:
    project = make_project(BASE_CONFIG.replace("currency: EUR", "currency: [EUR"))
    code, err = _score(project)
    assert code == 1
    assert err.startswith("error: cvm.yaml:11:12: YAML syntax error: while parsing a flow "
                          "sequence, did not find expected ',' or ']'\n  hint: the lines around "
                          "it:\n")
    assert "      10 | currency: [EUR\n" in err


def test_unwritable_output_keeps_earlier_output(make_project: Callable[..., Path]) -> None:
    project = make_project()
    (project / "output").write_text("a file where the output folder should be")
    result = runner.invoke(app, ["score", "--project", str(project), "--quiet"])
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ")
    assert "cannot write here" in result.stderr
    assert (project / "output").read_text() == "a file where the output folder should be"


def test_a_bug_exits_4_with_a_hint_and_no_traceback(
        make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("engine.value.score.build_features", broken)
    result = runner.invoke(app, ["score", "--project", str(make_project())])
    assert result.exit_code == 4
    assert result.stderr == ("internal error: ZeroDivisionError: division by zero\n  hint: this "
                             "is a bug in CVM Engine; rerun with CVM_DEBUG=1 for the traceback "
                             "and report it\n")
    assert not (make_project() / "output").exists()


def test_finding_a_bad_line_leaves_the_csv_field_limit_as_it_was(
        make_project: Callable[..., Path]) -> None:
    """Finding a short row's line raised the csv module's field limit for the whole process,
    so a later header the size of the file (a UTF-8 file read as UTF-16) was no longer
    refused: test_bad_input's utf8_file_read_as_utf16 failed after this module's short_row."""
    import csv

    before = csv.field_size_limit()
    project = make_project(BASE_CONFIG,
                           BASE_TX.replace("b,2024-02-01,200.00,150.00", "b,2024-02-01"))
    code, err = _score(project)
    assert code == 1 and "found 2 fields, expected 4" in err
    assert csv.field_size_limit() == before


def test_the_bracket_hint_is_for_lists_of_values_only() -> None:
    """The review: `tiers: platinum` (a list of mappings) got "write it as a list, in brackets:
    [platinum]", which is no valid value either; a list of values keeps the hint."""
    from engine.project import checks as c

    def hint(kind: c.Kind, value: object) -> str | None:
        try:
            kind.convert(value, None, ())  # type: ignore[arg-type]
        except c.Invalid as exc:
            return exc.hint
        return "accepted"

    assert hint(c.ListOf(c.Record([c.Field("name", c.Text())])), "platinum") is None
    assert hint(c.ListOf(c.Text(), min_items=2), "a") is None
    assert hint(c.ListOf(c.Text()), "line") == "write it as a list, in brackets: [line]"
    assert hint(c.ListOf(c.Text()), True) is None


def test_a_percentage_s_fraction_is_given_only_for_a_share() -> None:
    """The review: 150 got "write 1.5 for 150%" (still above 1), '1,000%' "0.01"."""
    from engine.project.hints import as_fraction

    assert as_fraction("5%") == "0.05 for 5%"
    assert as_fraction("12,5%") == "0.125 for 12,5%"
    assert as_fraction(150) == "0.1 for 10%"
    assert as_fraction("1,000%") == "0.1 for 10%"
    assert as_fraction(100) == "1 for 100%"
