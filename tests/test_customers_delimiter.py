"""A customers file written with another delimiter than the transactions (a CRM's export with
';' beside a shop's with ','): `data.customers_delimiter` reads it (a new user's trial: the hint
said to set data.delimiter: ';', which then broke the transactions file, whose hint said to set
it back to ',')."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()


def _semicolons(tmp_path: Path) -> Path:
    project = copy_example_project(tmp_path)
    customers = pd.read_csv(ROOT / "examples/retail/customers.csv", dtype=str,
                            keep_default_na=False)
    customers.to_csv(project / "customers.csv", sep=";", index=False)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        f"{ROOT}/examples/retail/customers.csv", "customers.csv"))
    return project


def test_the_hint_names_the_customers_file_s_own_setting(tmp_path: Path) -> None:
    project = _semicolons(tmp_path)
    got = runner.invoke(app, ["validate", "-p", str(project)])
    assert got.exit_code == 1
    assert "  hint: the header looks semicolon-separated but the customers file is read with " \
        "',': set data.customers_delimiter: ';' in cvm.yaml (data.delimiter, when the " \
        "transactions file is semicolon-separated too)\n" in got.stderr, got.stderr


def test_customers_delimiter_reads_the_customers_file_alone(tmp_path: Path) -> None:
    project = _semicolons(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("  delimiter: \",\"\n", "  delimiter: \",\"\n"
                                                 "  customers_delimiter: \";\"\n"))
    got = runner.invoke(app, ["validate", "-p", str(project)])
    assert got.exit_code == 0, got.output
    got = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "a"), "-q"])
    assert got.exit_code == 0, got.output
    plain = runner.invoke(app, ["score", "-p", str(ROOT), "-o", str(tmp_path / "b"), "-q"])
    assert plain.exit_code == 0, plain.output
    assert (tmp_path / "a" / "customers.csv").read_bytes() == \
        (tmp_path / "b" / "customers.csv").read_bytes()
    # a bad one is said at its line, as data.delimiter's
    config.write_text(config.read_text().replace('customers_delimiter: ";"',
                                                 'customers_delimiter: ";;"'))
    got = runner.invoke(app, ["validate", "-p", str(project)])
    assert got.exit_code == 1 and "data.customers_delimiter: found ';;' (2 characters), " \
        "expected one character or 'whitespace'\n" in got.stderr, got.stderr
