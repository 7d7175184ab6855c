"""`cvm validate` makes the checks `cvm run` makes over every row before it values anyone
(engine/value/every_row.py), on every row's date and amount: a new user's project validated
and then stopped `cvm run` at period_days (the purchases spanning 51 days) and at as_of (every
row after it). The corpus (tests/cases/bad_input) holds those messages; here, contracts
checked on their payments, and a bad value past the first 1,000 rows."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner, Result

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()
SUBSCRIPTION = ROOT / "examples" / "subscription"
HEADER = "contract_id,customer_id,start_date,end_date,plan,signup_channel,monthly_price," \
    "monthly_cost\n"


def _contracts(tmp_path: Path, rows: str) -> Path:
    project = tmp_path / "p"
    for name in ("rules", "policies", "templates"):
        shutil.copytree(SUBSCRIPTION / name, project / name)
    (project / "cvm.yaml").write_text((SUBSCRIPTION / "cvm.yaml").read_text())
    (project / "contracts.csv").write_text(HEADER + rows)
    return project


def test_contracts_are_checked_on_their_payments(tmp_path: Path) -> None:
    """Two contracts of 2025 with a payment a month to the as-of date (2026-01-01): the
    payments reach the periods retention starts from; validate passes, as the run does."""
    project = _contracts(tmp_path, "K1,S1,2025-01-01,,basic,web,9.99,4.50\n"
                                   "K2,S2,2025-01-21,2025-08-01,basic,web,9.99,4.50\n")
    validated = runner.invoke(app, ["validate", "-p", str(project), "-q"])
    assert validated.exit_code == 0, validated.output
    scored = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o"), "-q"])
    assert scored.exit_code == 0, scored.output


def test_contracts_whose_payments_span_too_little_are_refused_as_run_refuses_them(
        tmp_path: Path) -> None:
    project = _contracts(tmp_path, "K1,S1,2025-11-01,,basic,web,9.99,4.50\n"
                                   "K2,S2,2025-11-10,2025-12-01,basic,web,9.99,4.50\n")
    said = [runner.invoke(app, [*command, "-p", str(project), "-q"]) for command in (
        ["validate"], ["score", "-o", str(tmp_path / "o")])]
    assert [r.exit_code for r in said] == [1, 1]
    error = ("error: cvm.yaml:22:14: period_days: the purchases span 61 days up to the as-of "
             "date 2026-01-01, less than two periods of period_days=90 days, so retention "
             "(active in one period and again in the next) cannot be measured\n"
             "  hint: lower period_days to 60 or less, or use more history\n")
    assert said[0].stderr == said[1].stderr == error  # -q: the errors only


TX = ROOT / "examples/retail/transactions.csv"


def _with_transactions(tmp_path: Path, data: bytes, encoding: str | None = None) -> Path:
    """The retail project reading ``data`` as its transactions (tx.csv), in ``encoding``."""
    project = copy_example_project(tmp_path)
    (tmp_path / "tx.csv").write_bytes(data)
    config = project / "cvm.yaml"
    text = config.read_text().replace(str(TX), str(tmp_path / "tx.csv"))
    if encoding is not None:
        text = text.replace('  delimiter: ","\n', f'  delimiter: ","\n  encoding: {encoding}\n', 1)
    config.write_text(text)
    return project


def _validate_and_score(project: Path, tmp_path: Path) -> list[Result]:
    """`cvm validate -q` and `cvm score -q` of the project (each one's errors only)."""
    return [runner.invoke(app, [*command, "-p", str(project), "-q"]) for command in (
        ["validate"], ["score", "-o", str(tmp_path / "o")])]


def test_a_bad_amount_past_the_first_rows_is_said_by_validate(tmp_path: Path) -> None:
    lines = TX.read_text().splitlines(keepends=True)
    lines[1499] = "O0001003,C000336,2023-10-17,Books,web,2,58.8x,51.12\n"
    said = _validate_and_score(_with_transactions(tmp_path, "".join(lines).encode()),
                               tmp_path)
    assert [r.exit_code for r in said] == [1, 1]
    assert said[1].stderr.startswith(f"error: {tmp_path / 'tx.csv'}:1500: row 1499, column "
                                     "'NetAmount': found '58.8x'")
    assert said[0].stderr == said[1].stderr  # -q: the errors only, as run prints them


def test_a_byte_not_in_the_encoding_past_the_first_rows_is_said_by_validate(
        tmp_path: Path) -> None:
    """A Latin-1 'é' in a channel near the end of the file (past the first MB): validate read
    every row's id, date and numbers, passed, and `cvm run` then stopped at the byte (the
    channel is read by run alone). A byte in a column cvm.yaml does not map stops neither."""
    data = TX.read_bytes().split(b"\n")
    data[-3] = data[-3].replace(b",web,", b",w\xe9b,").replace(b",app,", b",\xe9pp,") \
        .replace(b",store,", b",st\xe9re,")
    project = _with_transactions(tmp_path, b"\n".join(data))
    config = project / "cvm.yaml"
    said = _validate_and_score(project, tmp_path)
    assert [r.exit_code for r in said] == [1, 1]
    offset = sum(len(line) + 1 for line in data[:-3]) + data[-3].index(0xE9)
    assert said[1].stderr == (
        f"error: {tmp_path / 'tx.csv'}:{len(data) - 2}: byte 0xe9 at byte offset "
        f"{offset} is not valid utf-8\n"
        "  hint: save the file as UTF-8, or set data.encoding in cvm.yaml (e.g. latin-1 or "
        "cp1252)\n")
    assert said[0].stderr == said[1].stderr
    # the same byte in a column the project does not map: every command passes
    config.write_text(config.read_text().replace("    channel: SalesChannel\n", ""))
    assert [r.exit_code for r in _validate_and_score(project, tmp_path)] == [0, 0]


def test_a_bad_value_in_the_first_rows_is_counted_over_every_row(tmp_path: Path) -> None:
    """Bad amounts at rows 5 and 50 and three more past the first 1,000 rows: validate said
    "2 of the first 1,000 rows have this problem" where it had read every row, and run says
    all 5."""
    lines = TX.read_text().splitlines(keepends=True)
    for row in (5, 50, 3000, 9000, 15000):
        fields = lines[row].split(",")
        fields[6] += "x"
        lines[row] = ",".join(fields)
    said = _validate_and_score(_with_transactions(tmp_path, "".join(lines).encode()),
                               tmp_path)
    assert [r.exit_code for r in said] == [1, 1]
    assert said[1].stderr == (
        f"error: {tmp_path / 'tx.csv'}:6: row 5, column 'NetAmount': found '37.37x', expected "
        "a number such as 12.50\n"
        "  hint: 5 rows have this problem; use '.' as the decimal mark, no thousands "
        "separators or currency signs\n")
    assert said[0].stderr == said[1].stderr


def test_a_byte_cp1252_lacks_is_said_at_its_line(tmp_path: Path) -> None:
    """A review: with data.encoding cp1252, a byte it maps to nothing (0x81) ended validate
    and run in 'internal error: UnicodeDecodeError' (Arrow's transcoder raises Python's
    error)."""
    data = TX.read_bytes().split(b"\n")
    data[100] = data[100].replace(b",web,", b",w\x81b,").replace(b",app,", b",\x81pp,") \
        .replace(b",store,", b",st\x81re,")
    said = _validate_and_score(_with_transactions(tmp_path, b"\n".join(data), "cp1252"),
                               tmp_path)
    assert [r.exit_code for r in said] == [1, 1], said[0].output
    offset = sum(len(line) + 1 for line in data[:100]) + data[100].index(0x81)
    assert said[1].stderr == (
        f"error: {tmp_path / 'tx.csv'}:101: byte 0x81 at byte offset {offset} is not valid "
        "cp1252\n  hint: save the file as UTF-8, or set data.encoding in cvm.yaml to the "
        "file's (latin-1 reads every byte)\n")
    assert said[0].stderr == said[1].stderr
