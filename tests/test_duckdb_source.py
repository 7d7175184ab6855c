"""data.transactions from a DuckDB file (the duckdb extra, in the dev extra so CI tests it): the
same values and errors as a file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_CONFIG, ROOT, copy_example_project

runner = CliRunner()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with the retail example's transactions (typed by DuckDB's CSV reader, in
    file order) and small tables of bad rows."""
    path = tmp_path_factory.mktemp("duck") / "shop.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE sales AS SELECT * FROM read_csv(?, header = true)",
                     [str(ROOT / "examples/retail/transactions.csv")])
        conn.execute("CREATE TABLE tx (n INTEGER PRIMARY KEY, ord VARCHAR, cust VARCHAR, "
                     "day DATE, amount VARCHAR, cost DECIMAL(10, 2))")
        conn.execute("INSERT INTO tx VALUES (3, 'O3', NULL, '2024-02-01', '200', 150), "
                     "(1, 'O1', 'a', '2024-01-05', '100', 60), "
                     "(2, 'O2', 'a', '2024-03-10', 'abc', 30)")
        conn.execute("CREATE TABLE none_yet AS SELECT * FROM tx WHERE n < 0")
    return path


def db_config(path: Path, source: str) -> str:
    return BASE_CONFIG.replace("  transactions: tx.csv\n",
                               f"  transactions:\n    url: duckdb:///{path}\n{source}")


def score(project: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["score", "--project", str(project), "--quiet"])
    return result.exit_code, result.stderr


def test_a_duckdb_table_gives_the_outputs_of_the_same_rows_in_a_file(shop: Path,
                                                                      tmp_path: Path) -> None:
    runs = {}
    for name in ("file", "db"):
        (tmp_path / name).mkdir()
        project = copy_example_project(tmp_path / name)
        if name == "db":
            text = (project / "cvm.yaml").read_text()
            line = next(x for x in text.splitlines() if x.startswith("  transactions:"))
            (project / "cvm.yaml").write_text(text.replace(
                line, f"  transactions:\n    url: duckdb:///{shop}\n    table: sales"))
        result = runner.invoke(app, ["score", "--project", str(project), "--out",
                                     str(project / "out"), "--quiet"])
        assert result.exit_code == 0, result.stderr
        runs[name] = project / "out"
    for file in ("customers.csv", "customers.parquet"):
        assert (runs["file"] / file).read_bytes() == (runs["db"] / file).read_bytes(), file


def test_the_manifest_hashes_the_rows_read(shop: Path, tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    text = (project / "cvm.yaml").read_text()
    line = next(x for x in text.splitlines() if x.startswith("  transactions:"))
    # relative to the project: duckdb:///shop.duckdb
    (project / "shop.duckdb").write_bytes(shop.read_bytes())
    (project / "cvm.yaml").write_text(text.replace(
        line, "  transactions:\n    url: duckdb:///shop.duckdb\n    table: sales"))
    result = runner.invoke(app, ["run", "--project", str(project), "--no-history", "--quiet"])
    assert result.exit_code == 0, result.stderr
    inputs = json.loads((project / "output" / "manifest.json").read_text())["inputs"]
    assert len(inputs["duckdb:///shop.duckdb (table sales)"]) == 64


CASES = [
    ("missing_table", "    table: txx\n",
     "error: duckdb:///{path}: data.transactions.table (cvm.yaml:5:5): table 'txx' not found\n"
     "  hint: did you mean 'tx'?"),
    # inserted first, third by its key; named by its key as PostgreSQL's rows are (a new
    # user's trial: "row 3" alone, which a user cannot find in the table)
    ("rows_in_key_order", "    table: tx\n",
     "error: duckdb:///{path} (table tx): row 3 (n = 3), column 'cust': found an empty value, "
     "expected "
     "a value in every row\n  hint: fill it in, or leave such rows out with "
     "data.transactions.query (... WHERE \"cust\" IS NOT NULL AND trim(CAST(\"cust\" AS "
     "text)) <> '')"),
    ("not_a_number", "    query: select * from tx where n < 3 order by n\n",
     "error: duckdb:///{path} (query): row 2, column 'amount': found 'abc', expected a "
     "number such as 12.50\n  hint: use '.' as the decimal mark, no thousands separators or "
     "currency signs"),
    ("null_customer", "    query: select * from tx where n <> 2 order by n\n",
     "error: duckdb:///{path} (query): row 2, column 'cust': found an empty value, expected a "
     "value in every row\n  hint: fill it in, or leave such rows out with "
     "data.transactions.query (... WHERE \"cust\" IS NOT NULL AND trim(CAST(\"cust\" AS "
     "text)) <> '')"),
    ("control_character", "    query: select n, ord, 'a' || chr(9) || 'b' AS cust, day, "
     "amount, cost from tx where n = 1\n",
     "error: duckdb:///{path} (query): row 1, column 'cust': found 'a\\tb', expected an id "
     "without control characters (line breaks, tabs, NUL, escapes)\n  hint: the query returns "
     "it: clean the value in the database, or read a cleaned one with data.transactions.query"),
    # DuckDB's own type name, not PostgreSQL's, and the column named once (a new user's trial:
    # "column 'day': column 'day' has type int8, expected dates (date, timestamp) or text")
    ("wrong_type", "    query: select n, ord, cust, n AS day, amount, cost from tx\n",
     "error: duckdb:///{path} (query): column 'day': has type INTEGER, expected dates (DATE, "
     "TIMESTAMP, TIMESTAMP WITH TIME ZONE) or text\n  hint: cvm.yaml maps date to this column; "
     "map another column, or cast it in a query"),
    ("wrong_number_type", "    query: select n, ord, cust, day, day AS amount, cost from tx\n",
     "error: duckdb:///{path} (query): column 'amount': has type DATE, expected numbers "
     "(DECIMAL, INTEGER, BIGINT, FLOAT, DOUBLE) or text\n  hint: cvm.yaml maps amount to this "
     "column; map another column, or cast it in a query"),
    # a new user's trial: no hint for a query without rows, nor for one failing on a row
    ("query_without_rows", "    query: select * from tx where n < 0\n",
     "error: duckdb:///{path} (query): data.transactions.query (cvm.yaml:5:5): the query has "
     "no rows\n  hint: the transactions are the rows it returns: check its WHERE clause, in "
     "the duckdb shell"),
    ("table_without_rows", "    table: none_yet\n",
     "error: duckdb:///{path} (table none_yet): data.transactions.table (cvm.yaml:5:5): the "
     "table has no rows\n  hint: the transactions are its rows: name the table that holds "
     "them"),
    ("query_failing_on_a_row", "    query: select n, ord, cust, day, CAST(amount AS INTEGER) "
     "AS amount, cost from tx\n",
     "error: duckdb:///{path} (query): data.transactions.query (cvm.yaml:5:5): reading the "
     "rows failed: Conversion Error: Could not convert string 'abc' to INT32 when casting "
     "from source column amount\n  hint: the query may fail on a row it reads, or the "
     "database stopped it: run it in the duckdb shell to see which"),
    ("missing_file", None,
     "error: {missing}: data.transactions.url (cvm.yaml:4:5): file not found\n"
     "  hint: duckdb:///path is relative to the project folder; duckdb:////path is an "
     "absolute path"),
]


@pytest.mark.parametrize(("name", "source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_from_duckdb_gets_a_file_s_errors(shop: Path, make_project, name: str,
                                                    source: str | None, expected: str) -> None:
    missing = shop.with_name("nope.duckdb")
    config = db_config(shop, source) if source else db_config(missing, "    table: tx\n")
    project = make_project(config, tx=None)
    assert score(project) == (1, expected.format(path=shop, missing=missing) + "\n")


def test_the_hint_for_a_null_id_is_a_query_that_runs(tmp_path: Path, make_project) -> None:
    # a reviewer: the suggested `"cust" <> ''` failed on an integer id column, and kept an id
    # of spaces (read as empty): the hint's clause, pasted into the query, must work
    path = tmp_path / "ids.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE tx (n INTEGER PRIMARY KEY, cust BIGINT, day DATE, "
                     "amount DOUBLE, cost DOUBLE)")
        conn.execute("INSERT INTO tx VALUES (1, 7, '2024-01-05', 100, 60), "
                     "(2, NULL, '2024-03-10', 50, 30), (3, 8, '2024-02-01', 200, 150), "
                     "(4, 7, '2024-05-15', 30, 20)")
        conn.execute("CREATE TABLE tx_text AS SELECT n, CASE WHEN n = 2 THEN '  ' ELSE "
                     "CAST(cust AS VARCHAR) END AS cust, day, amount, cost FROM tx")
    for table in ("tx", "tx_text"):
        project = make_project(db_config(path, f"    table: {table}\n"), tx=None)
        code, err = score(project)
        assert code == 1, err
        clause = err.split("(... WHERE ", 1)[1].rstrip(")\n")
        assert clause == "\"cust\" IS NOT NULL AND trim(CAST(\"cust\" AS text)) <> ''", err
        project = make_project(db_config(path, f"    query: select * from {table} where "
                                         f"{clause} order by n\n"), tx=None)
        assert score(project) == (0, ""), table


def test_a_file_that_is_no_duckdb_database_gets_a_hint(tmp_path: Path, make_project) -> None:
    """A CSV file named by duckdb:/// said only DuckDB's "Cannot launch in-memory database in
    read-only mode!" (a new user's trial)."""
    csv = tmp_path / "tx.csv"
    csv.write_text("cust,day,amount,cost\na,2024-01-05,1,1\n")
    project = make_project(db_config(csv, "    table: tx\n"), tx=None)
    code, err = score(project)
    assert code == 1
    assert err.startswith(f"error: duckdb:///{csv} (table tx): data.transactions.url "
                          "(cvm.yaml:4:5): cannot be opened as a DuckDB database: "), err
    assert err.endswith("\n  hint: duckdb:/// names a database file made by DuckDB; a CSV or "
                        "Parquet file is named as a path: data.transactions: "
                        "path/to/file.csv\n"), err


def test_a_duckdb_url_without_its_third_slash_gets_a_duckdb_hint(make_project) -> None:
    """duckdb://shop.duckdb was refused with a hint on PostgreSQL URLs (a new user's trial)."""
    project = make_project(BASE_CONFIG.replace(
        "  transactions: tx.csv\n", "  transactions:\n    url: duckdb://shop.duckdb\n"
        "    table: tx\n"), tx=None)
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    assert "data.transactions.url: found 'duckdb://shop.duckdb', expected a file: " \
        "duckdb:///path/file.duckdb\n  hint: write duckdb:///file.duckdb for a file in the " \
        "project folder (three slashes), duckdb:////abs/path/file.duckdb for an absolute " \
        "path\n" in result.stdout + result.stderr, result.stdout + result.stderr


def test_a_table_is_read_in_the_order_of_its_typed_key(tmp_path: Path, make_project) -> None:
    """The key columns read as text for the messages must not sort the rows as text (a review:
    1, 10, 11, 12, 2, ... made n = 2 "row 5", and changed the input hash)."""
    path = tmp_path / "keys.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE tx (n INTEGER PRIMARY KEY, cust VARCHAR, day DATE, "
                     "amount DOUBLE, cost DOUBLE)")
        for n in range(12, 0, -1):
            conn.execute("INSERT INTO tx VALUES (?, ?, '2024-01-05', 10, 5)",
                         [n, None if n == 2 else "a"])
    project = make_project(db_config(path, "    table: tx\n"), tx=None)
    code, err = score(project)
    assert code == 1
    assert err.startswith(f"error: duckdb:///{path} (table tx): row 2 (n = 2), column 'cust': "
                          "found an empty value"), err


def test_a_duckdb_file_that_cannot_be_opened_gets_no_csv_hint(tmp_path: Path,
                                                              make_project) -> None:
    """The CSV hint is for a file that is no DuckDB database, not for every failure (a review:
    a database locked by another process was told to name a CSV file as a path)."""
    path = tmp_path / "locked.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE tx (n INTEGER)")
    writer = duckdb.connect(str(path))  # holds the file's lock
    try:
        project = make_project(db_config(path, "    table: tx\n"), tx=None)
        code, err = score(project)
    finally:
        writer.close()
    assert code == 1
    assert "cannot be opened as a DuckDB database: " in err, err
    assert "hint" not in err, err


def test_a_plan_of_an_unchanged_copy_sees_no_change_in_the_database_source(
        shop: Path, tmp_path: Path) -> None:
    """A new user's CI gate: the proposal (a copy of campaigns.yaml) changed nothing, yet the
    plan listed data.transactions.setting_at (the temporary copies' cvm.yaml:8:5) as changed
    and exited 2."""
    project = copy_example_project(tmp_path)
    text = (project / "cvm.yaml").read_text()
    line = next(x for x in text.splitlines() if x.startswith("  transactions:"))
    (project / "cvm.yaml").write_text(text.replace(
        line, f"  transactions:\n    url: duckdb:///{shop}\n    table: sales"))
    proposed = tmp_path / "proposed"
    (proposed / "policies").mkdir(parents=True)
    (proposed / "policies" / "campaigns.yaml").write_bytes(
        (project / "policies" / "campaigns.yaml").read_bytes())
    result = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                 "--overlay", "--detailed-exitcode", "--quiet", "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)
    assert plan["changed"] is False
    assert plan["definitions"] == []


def test_validate_checks_the_first_rows_of_a_table_as_run_reads_them(shop: Path,
                                                                     make_project) -> None:
    """A new user's table held a NULL id at row 100 and 'abc' at row 200: validate said
    "valid", run stopped at row 100. Each column's first problem, as run gives it."""
    project = make_project(db_config(shop, "    table: tx\n    order_by: [n]\n"), tx=None)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("    amount: amount\n",
                                                 "    amount: amount\n    order_id: ord\n"))
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1, result.output
    assert f"error: duckdb:///{shop} (table tx): row 2 (n = 2, order id O2), column 'amount': " \
        "found 'abc', expected a number such as 12.50\n  hint: use '.' as the decimal mark, no " \
        "thousands separators or currency signs\n" in result.output
    assert f"error: duckdb:///{shop} (table tx): row 3 (n = 3, order id O3), column 'cust': " \
        "found an empty value" in result.output
    run = runner.invoke(app, ["score", "--project", str(project), "--quiet"])
    assert run.exit_code == 1 and "row 3 (n = 3, order id O3), column 'cust'" in run.stderr


def test_a_file_another_process_writes_gets_a_hint(tmp_path: Path, make_project) -> None:
    """A new user's pipeline loaded the file while cvm ran: 'cannot be opened as a DuckDB
    database: IO Error: Could not set lock ...', with no hint, read as a broken file."""
    import subprocess
    import sys

    path = tmp_path / "busy.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE tx (n INTEGER)")
    writer = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               f"c = duckdb.connect({str(path)!r})\nprint('open', flush=True)\n"
                               "sys.stdin.read()"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "open\n"
        project = make_project(db_config(path, "    table: tx\n"), tx=None)
        code, err = score(project)
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert (code, err) == (1, (
        f"error: duckdb:///{path} (table tx): data.transactions.url (cvm.yaml:4:5): cannot be "
        f"read while another process has it open for writing (PID {writer.pid})\n"
        "  hint: run when that process has closed the file (DuckDB lets no one read a file "
        "while it is written), or point data.transactions.url at a copy of it\n"))


def test_a_missing_column_s_hint_names_the_configuration_file_given(shop: Path,
                                                                   make_project) -> None:
    """A data engineer's trial: with --config q.yaml, the hint sent them to cvm.yaml (a file
    the command had not read), where a file's same error names q.yaml."""
    project = make_project(db_config(shop, "    table: tx\n").replace("cost: cost",
                                                                      "cost: Spend"), tx=None)
    (project / "cvm.yaml").rename(project / "q.yaml")
    result = runner.invoke(app, ["score", "--project", str(project), "--config",
                                 str(project / "q.yaml"), "--quiet"])
    assert (result.exit_code, result.stderr) == (1, (
        f"error: duckdb:///{shop} (table tx): columns: column 'Spend' (mapped to cost in "
        "q.yaml) not found; columns of the table: 'n', 'ord', 'cust', 'day', 'amount', 'cost'\n"
        "  hint: fix the column name under data.columns.cost in q.yaml\n"))
