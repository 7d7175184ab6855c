"""`cvm init --from` guesses checked against the engine's own reader (issue 17 review)."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT


def _init(folder: Path, source: Path | None = None) -> tuple[int, str, str]:
    args = ["init", str(folder)] + (["--from", str(source)] if source else [])
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def _rows(n: int, date: object) -> list[str]:
    return [f"C{i % 40},{date(i)},{10 + i % 13}.25" for i in range(n)]  # type: ignore[operator]


def test_non_zero_padded_dates_are_read_as_written(tmp_path: Path) -> None:
    """Excel writes 5/4/2024: the engine reads it with %m/%d/%Y (finding 3)."""
    source = tmp_path / "tx.csv"
    rows = _rows(400, lambda i: f"{1 + i % 12}/{1 + i % 28}/2024")
    source.write_text("CustomerID,OrderDate,Amount\n" + "\n".join(rows) + "\n")
    code, _, err = _init(tmp_path / "p", source)
    assert (code, err) == (0, "")
    assert yaml.safe_load((tmp_path / "p" / "cvm.yaml").read_text())["data"][
        "date_format"] == "%m/%d/%Y"
    result = CliRunner().invoke(app, ["score", "-p", str(tmp_path / "p"), "--out",
                                      str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "Scored 40 customers" in result.stdout


def test_impossible_unpadded_date_still_fails(tmp_path: Path) -> None:
    project = tmp_path / "p"
    source = tmp_path / "tx.csv"
    source.write_text("CustomerID,OrderDate,Amount\nA,5/4/2024,1.5\nB,2/3/2024,2.5\n")
    assert _init(project, source)[0] == 0
    source.write_text("CustomerID,OrderDate,Amount\nA,5/4/2024,1.5\nB,30/2/2024,2.5\n")
    result = CliRunner().invoke(app, ["score", "-p", str(project), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "found '30/2/2024', expected a date in the format '%d/%m/%Y'" in result.stderr


def test_iso_dates_with_minutes_or_a_zone_are_dates_not_order_ids(tmp_path: Path) -> None:
    """Finding 4: read by the engine without date_format, so no id is guessed from them."""
    for n, stamp in enumerate(("2024-01-{:02d} 10:00", "2024-01-{:02d}T10:00:00Z")):
        source = tmp_path / f"tx{n}.csv"
        rows = [f"C{i % 9},{stamp.format(1 + i % 28)},{i}.5" for i in range(60)]
        source.write_text("CustomerID,OrderDate,Amount\n" + "\n".join(rows) + "\n")
        code, _out, err = _init(tmp_path / f"p{n}", source)
        assert (code, err) == (0, "")
        data = yaml.safe_load((tmp_path / f"p{n}" / "cvm.yaml").read_text())["data"]
        assert data["columns"] == {"customer_id": "CustomerID", "date": "OrderDate",
                                   "amount": "Amount"}
        assert "date_format" not in data


def test_customer_no_beats_customer_name(tmp_path: Path) -> None:
    """Finding 5: by whole words of the name and by the values (names are prose)."""
    source = tmp_path / "tx.csv"
    rows = [f"Ann Smith {i % 7},K{i % 7:03d},2024-01-{1 + i % 28:02d},{i}.5" for i in range(60)]
    source.write_text("Customer Name,Customer No,Date,Amount\n" + "\n".join(rows) + "\n")
    code, _out, _ = _init(tmp_path / "p", source)
    assert code == 0
    cols = yaml.safe_load((tmp_path / "p" / "cvm.yaml").read_text())["data"]["columns"]
    assert cols["customer_id"] == "Customer No"


def test_two_competing_id_columns_lower_the_confidence(tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    rows = [f"K{i % 7},M{i % 5},2024-01-{1 + i % 28:02d},{i}.5" for i in range(60)]
    source.write_text("CustomerID,Customer Key,Date,Amount\n" + "\n".join(rows) + "\n")
    code, out, _ = _init(tmp_path / "p", source)
    assert code == 0
    assert ("customer_id  <- 'CustomerID' (medium: the name, and the values are text; "
            "'Customer Key' is named like it too: check which holds the customer)") in out


def test_headerless_cdnow_sample_is_refused_with_the_fix(tmp_path: Path) -> None:
    """Finding 6: cvm.yaml reads files with a header line; a headerless file is refused."""
    code, out, err = _init(tmp_path / "p", ROOT / "examples" / "cdnow" / "CDNOW_sample.txt")
    assert code == 1 and out == ""
    assert err == (
        f"error: {ROOT / 'examples' / 'cdnow' / 'CDNOW_sample.txt'}:1: found no header "
        "line: every field of the first line is a number or a date ('00004', '0001', "
        "'19970101', '2', '29.33'), expected the names of the columns\n"
        "  hint: CVM Engine reads files whose first line names the columns: add one (e.g. "
        "customer_id date amount, with the file's delimiter) and run `cvm init --from` "
        "again\n")
    assert not (tmp_path / "p").exists()


def test_optional_column_of_other_values_is_not_mapped_exit_0(tmp_path: Path) -> None:
    """Finding 7: only customer_id, date and amount make exit 1."""
    source = tmp_path / "tx.csv"
    rows = [f"C{i % 9},2024-01-{1 + i % 28:02d},{i}.5,many" for i in range(60)]
    source.write_text("CustomerID,Date,Amount,Qty\n" + "\n".join(rows) + "\n")
    code, out, err = _init(tmp_path / "p", source)
    assert (code, err) == (0, "")
    text = (tmp_path / "p" / "cvm.yaml").read_text()
    assert "NOT GUESSED" not in text
    assert "    # quantity: not mapped: 'Qty' is named like it but holds text values" in text
    assert "  quantity     not mapped: 'Qty' is named like it but holds text values" in out


def test_amount_named_column_with_decimal_comma_says_so(tmp_path: Path) -> None:
    """Finding 8: the thousands separator reason, not just 'text' (a decimal comma alone is
    read since data.decimal: tests/test_decimal_comma.py)."""
    for n, (value, what) in enumerate((  # 1,212.50 alone: data.thousands (test_written_numbers)
            ("12,50|1.5", "numbers with a decimal comma ('12,50') and a decimal point "
             "('1.5'), which cvm init cannot read as they are: export them with one decimal mark "
             "(data.decimal: ',' reads commas), no currency symbol or thousands separator"),)):
        source = tmp_path / f"tx{n}.csv"
        parts = value.split("|")  # the values, in turn
        rows = [f"C{i % 9};2024-01-{1 + i % 28:02d};{parts[i % len(parts)]}" for i in range(30)]
        source.write_text("CustomerID;Date;Amount\n" + "\n".join(rows) + "\n")
        code, _, err = _init(tmp_path / f"p{n}", source)
        assert code == 1
        config = tmp_path / f"p{n}" / "cvm.yaml"
        line = next(i + 1 for i, text in enumerate(config.read_text().splitlines())
                    if text.startswith("    amount: null"))  # the line to fill in
        assert err.startswith(f"error: {config}:{line}: data.columns.amount: "
                              f"not guessed: column 'Amount' holds {what}\n"), err


def test_ambiguous_day_and_month_is_said_on_stdout(tmp_path: Path) -> None:
    """Finding 9: low confidence and the one line to change."""
    source = tmp_path / "tx.csv"
    rows = [f"C{i % 9},{1 + i % 12:02d}/{1 + i % 12:02d}/2024,{i}.5" for i in range(30)]
    source.write_text("CustomerID,Date,Amount\n" + "\n".join(rows) + "\n")
    code, out, _ = _init(tmp_path / "p", source)
    assert code == 0
    assert ("  dates %d/%m/%Y (low: day and month cannot be told apart in the sample; if the "
            "month comes first, write date_format: \"%m/%d/%Y\" in cvm.yaml)") in out


def test_unambiguous_day_first_is_high(tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    rows = [f"C{i % 9},{1 + i % 28:02d}/{1 + i % 12:02d}/2024,{i}.5" for i in range(30)]
    source.write_text("CustomerID,Date,Amount\n" + "\n".join(rows) + "\n")
    code, out, _ = _init(tmp_path / "p", source)
    assert code == 0
    assert "  dates %d/%m/%Y (high: every sampled date parses as %d/%m/%Y" in out


def test_binary_files_are_refused(tmp_path: Path) -> None:
    """Finding 10: an .xlsx (a zip) or UTF-16 without a byte order mark."""
    cases = {
        "book.xlsx": (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4,
                      "found binary data (NUL bytes), expected a text file such as CSV; it "
                      "starts like a zip archive (an Excel .xlsx or .ods workbook)"),
        "u16.csv": ("CustomerID,Date,Amount\nA,2024-01-01,1.5\n".encode("utf-16-le"),
                    "found binary data (NUL bytes), expected a text file such as CSV; it "
                    "looks like UTF-16 text without a byte order mark")}
    for name, (content, message) in cases.items():
        source = tmp_path / name
        source.write_bytes(content)
        code, out, err = _init(tmp_path / name.replace(".", "_"), source)
        assert (code, out) == (1, "")
        assert err == (f"error: {source}: {message}\n  hint: export or save it as CSV "
                       "(UTF-8), then run `cvm init --from` again\n")
        assert not (tmp_path / name.replace(".", "_")).exists()


def test_a_folder_in_the_way_refuses_before_writing_anything(tmp_path: Path) -> None:
    """Finding 11: `templates` as a file: nothing is written, exit 3."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "templates").write_text("mine")
    code, out, err = _init(project)
    assert code == 3 and out == ""
    assert "refused: 1 file(s) already exist: templates" in err
    assert [p.name for p in project.iterdir()] == ["templates"]


def test_a_folder_as_from_is_exit_1(tmp_path: Path) -> None:
    code, _, err = _init(tmp_path / "p", tmp_path)
    assert code == 1
    assert err == (f"error: {tmp_path}: --from: is a folder, expected a transactions file\n"
                   "  hint: give the path of your transactions export (CSV or Parquet), "
                   "relative to the current folder or absolute\n")


def test_a_folder_given_to_cvm_test_is_exit_1(tmp_path: Path) -> None:
    assert _init(tmp_path / "p")[0] == 0
    result = CliRunner().invoke(app, ["test", str(tmp_path), "-p", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert result.stderr == (f"error: {tmp_path}: is a folder, expected a test file\n"
                             "  hint: cvm test takes policy test files (policy_tests/*.yaml); "
                             "with none, it runs every one of the project's\n")
