"""A quote that swallows the lines after it (engine/data/quotes.py), in the files a reviewer made
the first version miss: a quote closed and followed by text earlier in the file, a quote inside
an unquoted value (which made the quotes even in number), and UTF-16, whose quote byte is also
part of other characters. Rows silently gone in each; now an error at the line where the
quote opened. A value holding a line break on purpose, with empty lines around, is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_CONFIG

ROWS = ["cust,day,amount,cost,note", "a,2024-01-05,100.00,60.00,{first}",
        "a,2024-03-10,50.00,30.00,x", "a,2024-06-20,80.00,40.00,\"oops",
        "b,2024-02-01,200.00,150.00,x", "c,2024-05-15,30.00,20.00,x",
        "Тc,2024-06-02,40.00,25.00,x"]
SWALLOWED = ("error: tx.csv:4: a quote (\") opened on line 4 is never closed on it: lines 4 to 7, "
             "the rest of the file, would be read as one value\n"
             "  hint: close the quote, or remove it (a value holding the delimiter, a quote or a "
             "line break is written in quotes, each quote in it doubled)\n")


@pytest.mark.parametrize(("first", "encoding"), [
    ("\"Deluxe\" box", "utf-8"), ("27\" monitor", "utf-8"), ("x", "utf-16")],
    ids=["text-after-a-closing-quote", "a-quote-in-an-unquoted-value", "utf-16"])
def test_the_swallowing_quote_is_found(first: str, encoding: str, make_project: object,
                                       tmp_path: Path) -> None:
    project = make_project(BASE_CONFIG.replace("  columns:", f"  encoding: {encoding}\n"  # type: ignore
                                               "  columns:"), tx=None)
    (project / "tx.csv").write_bytes(("\n".join(ROWS).format(first=first) + "\n").encode(
        encoding))
    for command in (["score", "-o", str(tmp_path / "o")], ["validate"]):
        result = CliRunner().invoke(app, [*command, "-p", str(project), "-q"])
        assert result.exit_code == 1, result.output
        assert SWALLOWED in result.stderr, result.stderr


def test_a_value_with_a_line_break_on_purpose_is_read(make_project: object,
                                                       tmp_path: Path) -> None:
    text = "\r\n".join([ROWS[0], ROWS[1].format(first="x"), "", ROWS[2],
                        ROWS[3].replace("\"oops", "\"two\r\nlines, \"\"quoted\"\"\""), "",
                        *ROWS[4:], "", ""])
    project = make_project(tx=text)  # type: ignore[operator]
    result = CliRunner().invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "  rows: 6 read, 6 used\n" in result.stdout


@pytest.mark.parametrize(("data", "first", "line"), [
    (b'a,b\r1,27" monitor\r2,"oops\r3,x\r4,y\r', None, 3),  # lone CR line ends
    (b'a,b\n1,27" monitor\r2,z\n3,"oops\n4,x\n', None, 4),  # mixed line ends
    (b'a,b\n"Deluxe" box,"oops\n2,x\n3,y\n', None, 2),  # text after a quote, then a swallow
    (b'a;b\n1;"x\n2;y\n', None, 2),
    (b'a,b\n1,"x\n2,y\n', 1000, 2),  # cvm validate's first rows
    (b'a,b\n1,x\n2,"y\n\n\n', None, 3)], ids=[
    "lone-cr", "mixed-line-ends", "text-after-a-quote-on-the-same-line", "semicolons",
    "first-rows", "last-line-then-empty-lines"])
def test_the_second_reviewers_files_are_refused(data: bytes, first: int | None, line: int,
                                                tmp_path: Path) -> None:
    from engine.data.tabular import Source, read_columns
    from engine.errors import InputError

    (tmp_path / "t.csv").write_bytes(data)
    delimiter = ";" if b";" in data else ","
    src = Source(tmp_path / "t.csv", "t.csv", "data.transactions", delimiter, "utf-8")
    with pytest.raises(InputError) as raised:
        read_columns(src, {"a": "a", "b": "b"}, first=first)
    assert raised.value.problems[0].line == line
    assert raised.value.problems[0].message.startswith(f'a quote (") opened on line {line} ')


@pytest.mark.parametrize("data", [
    b'a,b\n1,"two\nlines" \n2,y\n', b'a,b\r1,"x, y"\r2,"z"\r', b'a,b\n1,x\n2,27" tv\n',
    b'a,b\n1,"two\r\nlines"\r\n\r\n2,y\r\n'],
    ids=["a-space-after-the-quote", "lone-cr", "a-quote-in-a-value", "crlf-empty-lines"])
def test_values_with_line_breaks_and_quotes_are_read(data: bytes, tmp_path: Path) -> None:
    from engine.data.tabular import Source, read_columns

    (tmp_path / "t.csv").write_bytes(data)
    src = Source(tmp_path / "t.csv", "t.csv", "data.transactions", ",", "utf-8")
    assert read_columns(src, {"a": "a", "b": "b"}).num_rows == 2
