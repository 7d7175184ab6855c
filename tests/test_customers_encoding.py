"""A UTF-8 file read in a one-byte encoding (a shop's export in cp1252, its CRM's customers file
in UTF-8) is refused, not read garbled: a trial's 142 customers got the region 'SÃ¼d', said
nowhere but in `validate --audience`'s values seen, and a byte order mark became part of the
first column's name. The customers file has its own setting, data.customers_encoding."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_CONFIG

CONFIG = BASE_CONFIG.replace(
    "    cost: cost\n", "    cost: cost\n  encoding: cp1252\n  customers: customers.csv\n"
    "  customer_columns:\n    customer_id: id\n  attributes:\n    region: text\n")
TX = "cust,day,amount,cost\na,2024-05-05,100.00,60.00\nb,2024-06-01,200.00,150.00\n"
CUSTOMERS = "id,region\na,Nord\nb,Süd\n"


def _validate(project) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    got = CliRunner().invoke(app, ["validate", "-p", str(project)])
    return got.exit_code, got.stderr


def test_a_utf8_customers_file_read_as_cp1252_is_refused_with_its_setting(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(CONFIG, tx=TX.encode("cp1252"),
                           files={"customers.csv": CUSTOMERS.encode("utf-8")})
    code, said = _validate(project)
    assert code == 1
    # (at the letter's line: it was line 1, the letter "on line 3")
    assert ("error: customers.csv:3: the file is UTF-8 text ('ü' in UTF-8's bytes, "
            "which cp1252 reads as 'Ã¼'), read as cp1252: every letter beyond ASCII would be "
            "changed\n  hint: set data.customers_encoding: utf-8 in cvm.yaml (the customers "
            "file's own encoding; data.encoding stays the transactions file's)\n") in said, said
    score = CliRunner().invoke(app, ["score", "-p", str(project), "-o", str(project / "o")])
    assert score.exit_code == 1 and "the file is UTF-8 text" in score.stderr
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("  encoding: cp1252\n", "  encoding: cp1252\n"
                                                 "  customers_encoding: utf-8\n"))
    assert "customers.csv" not in _validate(project)[1]  # (the project has no policies)
    got = CliRunner().invoke(app, ["score", "-p", str(project), "-o", str(project / "out")])
    assert got.exit_code == 0, got.output
    table = pd.read_csv(project / "out" / "customers.csv", dtype=str)
    assert table.set_index("customer_id").loc["b", "region"] == "Süd"


def test_a_byte_order_mark_under_a_one_byte_encoding_is_said(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(CONFIG, tx=TX.encode("cp1252"),
                           files={"customers.csv": "\ufeffid,region\na,Nord\nb,Ost\n"})
    code, said = _validate(project)
    assert code == 1
    assert "error: customers.csv:1: the file is UTF-8 text (a UTF-8 byte order mark at its " \
        "start), read as cp1252" in said, said


def test_a_utf8_transactions_file_read_as_latin1_names_data_encoding(make_project) -> None:  # type: ignore[no-untyped-def]
    config = BASE_CONFIG.replace("    cost: cost\n", "    cost: cost\n  encoding: latin-1\n")
    project = make_project(config, tx="cust,day,amount,cost\nJosé,2024-01-05,100.00,60.00\n")
    code, said = _validate(project)
    assert code == 1
    assert "error: tx.csv:2: the file is UTF-8 text ('é' in UTF-8's bytes, which " \
        "latin-1 reads as 'Ã©'), read as latin-1: every letter beyond ASCII would be changed\n" \
        "  hint: set data.encoding: utf-8 in cvm.yaml\n" in said, said


def test_a_cp1252_customers_file_read_as_utf8_names_its_own_setting(make_project) -> None:  # type: ignore[no-untyped-def]
    """The re-trial: the hint said to set data.encoding, which was cp1252 already."""
    config = CONFIG.replace("  encoding: cp1252\n", "  encoding: cp1252\n"
                            "  customers_encoding: utf-8\n")
    project = make_project(config, tx=TX.encode("cp1252"),
                           files={"customers.csv": CUSTOMERS.encode("cp1252")})
    code, said = _validate(project)
    assert code == 1
    assert "error: customers.csv:3: byte 0xfc at byte offset 20 is not valid utf-8\n  hint: " \
        "save the file as UTF-8, or set data.customers_encoding in cvm.yaml (e.g. latin-1 or " \
        "cp1252)\n" in said, said


def test_a_one_byte_file_whose_last_letter_starts_utf8_s_bytes_is_read(make_project) -> None:  # type: ignore[no-untyped-def]
    """The review: a cp1252 file ending in `José` (no line end) stopped validate with an
    internal error: UTF-8's decoder held the é back, and no letter beyond ASCII was found."""
    config = CONFIG.replace("  encoding: cp1252\n", "  encoding: cp1252\n"
                            "  customers_encoding: cp1252\n")
    project = make_project(config, tx=TX.encode("cp1252"),
                           files={"customers.csv": "id,region\na,Nord\nb,José".encode("cp1252")})
    said = _validate(project)[1]
    assert "customers.csv" not in said and "internal error" not in said, said


def test_a_file_in_an_encoding_of_more_bytes_a_letter_is_not_taken_for_utf8(make_project) -> None:  # type: ignore[no-untyped-def]
    """The review: a GBK file whose letters' bytes happen to be UTF-8's too was refused."""
    config = BASE_CONFIG.replace("    cost: cost\n", "    cost: cost\n  encoding: gbk\n")
    project = make_project(config, tx="cust,day,amount,cost\n一,2024-05-05,100.00,60.00\n"
                           .encode("gbk"))
    assert "UTF-8 text" not in _validate(project)[1]
