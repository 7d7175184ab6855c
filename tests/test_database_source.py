"""data.transactions from a PostgreSQL table or query: the same values and the same errors as a
file (tests/conftest.py's PostgreSQL server; CI=1 fails instead of skipping without one)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import BASE_CONFIG, ROOT, copy_example_project
from tests.pg_server import new_database

runner = CliRunner()

RETAIL_TABLE = """
CREATE TABLE sales (line bigserial PRIMARY KEY, "OrderID" text, "CustomerID" text,
  "OrderDate" date, "Category" text, "SalesChannel" text, "Qty" integer, "NetAmount" numeric,
  "Cost" numeric)
"""
RETAIL_COLUMNS = '"OrderID", "CustomerID", "OrderDate", "Category", "SalesChannel", "Qty", ' \
    '"NetAmount", "Cost"'


@pytest.fixture(scope="module")
def shop(postgres_server: str) -> str:
    """A database with the retail example's transactions (table sales, in file order) and
    small tables of bad rows."""
    import psycopg

    url = new_database(postgres_server, f"cvm_src_{uuid.uuid4().hex[:10]}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RETAIL_TABLE)
        with conn.cursor().copy(f"COPY sales ({RETAIL_COLUMNS}) FROM STDIN WITH (FORMAT csv, "
                                "HEADER)") as copy:
            copy.write((ROOT / "examples/retail/transactions.csv").read_bytes())
        conn.execute("CREATE TABLE tx (n int PRIMARY KEY, ord text, cust text, day date, "
                     "amount numeric, cost numeric)")
        conn.execute("INSERT INTO tx VALUES (1, 'O1', 'a', '2024-01-05', 100, 60), "
                     "(2, 'O2', 'a', '2024-03-10', 50, 30), (3, 'O3', 'b', '2024-02-01', 200, "
                     "150), (4, 'O4', 'c', '2024-05-15', 30, 20)")
        conn.execute("CREATE TABLE tx_text AS SELECT n, ord, cust, day, amount::text AS amount, "
                     "cost FROM tx")
        conn.execute("UPDATE tx_text SET amount = 'abc' WHERE n IN (2, 4)")
        conn.execute("CREATE TABLE tx_null AS SELECT * FROM tx")
        conn.execute("UPDATE tx_null SET cust = NULL WHERE n = 3")
        conn.execute("CREATE TABLE tx_dates AS SELECT n, ord, cust, day, day AS amount, cost "
                     "FROM tx")
        for table in ("tx_text", "tx_null", "tx_dates"):  # rows are read in key order
            conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (n)")
    return url


def db_config(url: str, source: str, columns: str | None = None, *,
              keep_query: bool = False) -> str:
    """BASE_CONFIG with data.transactions read from the database (the URL's query left out,
    unless ``keep_query``)."""
    head = url if keep_query else url.partition("?")[0]
    text = BASE_CONFIG.replace("  transactions: tx.csv\n",
                               f"  transactions:\n    url: {head}\n{source}")
    return text.replace("    customer_id: cust\n", columns) if columns else text


def score(project: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["score", "--project", str(project), "--quiet"])
    return result.exit_code, result.stderr


def test_a_table_gives_the_outputs_of_the_same_rows_in_a_file(
        shop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.data.database

    # parsed in blocks of 64 KiB (16 MiB otherwise): the retail rows make 15 of them
    monkeypatch.setattr(engine.data.database, "BLOCK", 1 << 16)
    for name in ("file", "db"):
        (tmp_path / name).mkdir()
    from_file = copy_example_project(tmp_path / "file")
    from_db = retail_from(shop, tmp_path / "db")
    runs = {}
    for name, project in (("file", from_file), ("db", from_db)):
        result = runner.invoke(app, ["run", "--project", str(project), "--no-history",
                                     "--quiet"])
        assert result.exit_code == 0, result.output
        runs[name] = project / "output"
    files = sorted(p.relative_to(runs["file"]) for p in runs["file"].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(runs["db"]) for p in runs["db"].rglob("*")
                           if p.is_file())
    import json

    ids = {k: json.loads((runs[k] / "manifest.json").read_text())["run_id"] for k in runs}
    assert ids["file"] != ids["db"]  # the inputs differ by name: so does the run id
    compared = 0
    for rel in files:
        if rel.name == "manifest.json":
            continue
        a = (runs["file"] / rel).read_bytes().replace(ids["file"].encode(), b"RUN")
        b = (runs["db"] / rel).read_bytes().replace(ids["db"].encode(), b"RUN")
        assert a == b, rel
        compared += 1
    assert compared > 5
    manifest = json.loads((runs["db"] / "manifest.json").read_text())
    name = f"{shop} (table sales)"
    assert len(manifest["inputs"][name]) == 64  # the SHA-256 of the rows read


def test_a_query_is_read_in_its_own_order(shop: str, make_project) -> None:
    project = make_project(db_config(
        shop, "    query: select ord, cust, day, amount, cost from tx where n < 4 order by n\n"),
        tx=None)
    code, err = score(project)
    assert (code, err) == (0, "")


CASES = [
    ("missing_table", "    table: txx\n",
     "error: {url}: data.transactions.table (cvm.yaml:5:5): table 'txx' not found\n"
     "  hint: did you mean 'tx'?"),
    ("not_a_number", "    table: tx_text\n",
     "error: {url} (table tx_text): row 2 (n = 2), column 'amount': found 'abc', expected a "
     "number such as 12.50\n  hint: 2 rows have this problem; use '.' as the decimal mark, "
     "no thousands separators or currency signs"),
    ("null_customer", "    table: tx_null\n",
     "error: {url} (table tx_null): row 3 (n = 3), column 'cust': found an empty value, expected a "
     "value in every row\n  hint: fill it in, or leave such rows out with data.transactions.query "
     "(... WHERE \"cust\" IS NOT NULL AND trim(CAST(\"cust\" AS text)) <> '')"),
    ("wrong_type", "    table: tx_dates\n",
     "error: {url} (table tx_dates): column 'amount': has type date, expected "
     "numbers (numeric, integer, real, double precision) or text\n  hint: cvm.yaml maps amount "
     "to this column; map another column, or cast it in a query"),
    ("missing_column", "    table: tx\n",
     "error: {url} (table tx): columns: column 'cost' (mapped to cost in cvm.yaml) not found; "
     "columns of the table: 'n', 'ord', 'cust', 'day', 'amount', 'cost'\n"
     "  hint: fix the column name under data.columns.cost in cvm.yaml"),
]


@pytest.mark.parametrize(("name", "source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_from_a_table_gets_a_file_s_errors(shop: str, make_project, name: str,
                                                     source: str, expected: str) -> None:
    config = db_config(shop, source)
    if name == "missing_column":
        config = config.replace("cost: cost", "cost: Cost")
        expected = expected.replace("'cost' (mapped", "'Cost' (mapped").replace(
            "fix the column name under data.columns.cost in cvm.yaml", "did you mean 'cost'?")
    project = make_project(config, tx=None)
    assert score(project) == (1, expected.format(url=shop) + "\n")


def test_an_order_id_names_the_bad_row(shop: str, make_project) -> None:
    project = make_project(db_config(shop, "    table: tx_null\n").replace(
        "    cost: cost\n", "    cost: cost\n    order_id: ord\n"), tx=None)
    assert score(project) == (1, f"error: {shop} (table tx_null): row 3 (n = 3, order id "
                              "O3), column 'cust': found an empty value, expected a value in "
                              "every row\n  hint: fill it in, or leave such rows out with "
                              "data.transactions.query (... WHERE \"cust\" IS NOT NULL AND "
                              "trim(CAST(\"cust\" AS text)) <> '')\n")


def retail_from(url: str, tmp_path: Path, source: str = "    table: sales") -> Path:
    """The bundled example with its transactions read from the database."""
    project = copy_example_project(tmp_path)
    text = (project / "cvm.yaml").read_text()
    line = next(x for x in text.splitlines() if x.startswith("  transactions:"))
    (project / "cvm.yaml").write_text(text.replace(line, f"  transactions:\n    url: {url}\n"
                                                   + source))
    return project


def test_validate_checks_the_table_and_its_columns(shop: str, tmp_path: Path) -> None:
    project = retail_from(shop, tmp_path)
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 0, result.output
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace("amount: NetAmount", "amount: NetAmt"))
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert (result.exit_code, result.stderr) == (1, (
        f"error: {shop} (table sales): columns: column 'NetAmt' (mapped to amount in cvm.yaml) "
        "not found; columns of the table: 'line', 'OrderID', 'CustomerID', 'OrderDate', "
        "'Category', 'SalesChannel', 'Qty', 'NetAmount', 'Cost'\n"
        "  hint: did you mean 'NetAmount'?\n1 error(s), 0 warning(s) in 1 file(s)\n"))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_said_without_a_traceback(make_project) -> None:
    url = f"postgresql://cvm@127.0.0.1:{_closed_port()}/shop"
    project = make_project(db_config(url, "    table: tx\n"), tx=None)
    port = url.split(":")[2].split("/")[0]
    assert score(project) == (1, (
        f"error: {url} (table tx): data.transactions (cvm.yaml:4:5): connection failed: "
        f"connection to server at \"127.0.0.1\", port {port} failed: Connection refused\n"
        "  hint: check that the PostgreSQL server is running and reachable, the database "
        "exists and the user may read it (password: PGPASSWORD, ~/.pgpass or the variable "
        "named by password_env)\n"))


@pytest.mark.parametrize("url", ["postgresql://cvm:s3cret@db.example.com/shop",
                                 # a data engineer's re-trial: sslpassword= (libpq reads it)
                                 # was taken and written into the manifest
                                 "postgresql://cvm@db.example.com/shop?sslpassword=s3cret"])
def test_a_password_in_the_url_is_refused_and_never_shown(make_project, url: str) -> None:
    project = make_project(db_config(url, "    table: tx\n", keep_query=True), tx=None)
    code, err = score(project)
    assert "s3cret" not in err
    assert (code, err) == (1, (
        "error: cvm.yaml:4:10: data.transactions.url: found a password in the URL, expected "
        "none: cvm.yaml is no place for it (and the URL is written into the run manifest)\n"
        "  hint: write postgresql://user@host:5432/database, without the password (give it in "
        "PGPASSWORD or ~/.pgpass, or name an environment variable in password_env)\n"))


def test_another_kind_of_database_gets_a_hint_for_it(make_project) -> None:
    """A data engineer's trial: sqlite:/// was answered with a hint about PostgreSQL's
    password."""
    project = make_project(db_config("sqlite:///shop.sqlite", "    table: tx\n"), tx=None)
    assert score(project) == (1, (
        "error: cvm.yaml:4:10: data.transactions.url: found the database kind 'sqlite', "
        "expected postgresql or duckdb\n"
        "  hint: write postgresql://user@host:5432/database or duckdb:///file.duckdb; the rows "
        "of another database (SQLite, MySQL...): export them to a CSV or Parquet file and name "
        "it, or copy them into a DuckDB file (in the duckdb shell, with its sqlite and mysql "
        "extensions)\n"))


def test_a_password_variable_that_is_not_set_is_said(shop: str, make_project,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CVM_SOURCE_PASSWORD", raising=False)
    project = make_project(db_config(shop, "    table: tx\n    password_env: "
                                     "CVM_SOURCE_PASSWORD\n"), tx=None)
    assert score(project) == (1, (
        f"error: {shop} (table tx): data.transactions.password_env (cvm.yaml:6:5): the "
        "environment variable CVM_SOURCE_PASSWORD is not set, expected the database password "
        "in it\n"
        "  hint: export CVM_SOURCE_PASSWORD=... before running cvm, or remove password_env to "
        "use PGPASSWORD or ~/.pgpass\n"))
    monkeypatch.setenv("CVM_SOURCE_PASSWORD", "")  # set, but to nothing (was: "is not set")
    assert score(project) == (1, (
        f"error: {shop} (table tx): data.transactions.password_env (cvm.yaml:6:5): the "
        "environment variable CVM_SOURCE_PASSWORD is empty, expected the database password "
        "in it\n"
        "  hint: export CVM_SOURCE_PASSWORD=... before running cvm, or remove password_env to "
        "use PGPASSWORD or ~/.pgpass\n"))
    monkeypatch.setenv("CVM_SOURCE_PASSWORD", "anything")  # the test server trusts its users
    assert score(project) == (0, "")


def test_neither_table_nor_query_is_a_config_error(make_project) -> None:
    project = make_project(textwrap.dedent(db_config("postgresql://cvm@localhost/shop", "")),
                           tx=None)
    assert score(project) == (1, (
        "error: cvm.yaml:4:5: data.transactions: found neither table nor query, expected one "
        "of them\n  hint: table: sales reads a whole table; query: \"select ...\" the rows of "
        "a query\n"))


def test_the_readme_example_reads_the_table(shop: str, make_project,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
                 if b.startswith("data:\n  transactions:\n    url:"))
    monkeypatch.setenv("CVM_SOURCE_PASSWORD", "anything")  # the test server trusts its users
    project = make_project(block.replace("postgresql://cvm@db.example.com:5432/shop", shop),
                           tx=None)
    result = runner.invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    assert "Scored 2,000 customers" in result.stdout


def test_timestamps_with_a_zone_are_read_in_utc(shop: str, make_project) -> None:
    """The same days as timestamptz late in the evening of another zone: the same values."""
    outs = []
    for day in ("day", "(day + time '23:30')::timestamp AT TIME ZONE 'America/New_York' AS day"):
        project = make_project(db_config(
            shop, f"    query: select ord, cust, {day}, amount, cost from tx order by n\n"),
            tx=None)
        result = runner.invoke(app, ["score", "--project", str(project), "--quiet", "--out",
                                     str(project / "out")])
        assert result.exit_code == 0, result.stderr
        outs.append((project / "out" / "customers.csv").read_text())
    shifted = outs[1]
    assert shifted != outs[0]  # 23:30 in New York is the next day in UTC
    assert "2024-01-06" in shifted


def test_a_failing_query_is_said(shop: str, make_project) -> None:
    project = make_project(db_config(shop, "    query: select ord, cust, day, amount, cost "
                                     "from tx where nope\n"), tx=None)
    assert score(project) == (1, (
        f"error: {shop} (query): data.transactions.query (cvm.yaml:5:5): the query failed: "
        "column \"nope\" does not exist\n  hint: run the query in psql to see the problem\n"))


def test_order_by_names_columns_of_the_table(shop: str, make_project) -> None:
    project = make_project(db_config(shop, "    table: tx\n    order_by: [ordr]\n"), tx=None)
    assert score(project) == (1, (
        f"error: {shop} (table tx): data.transactions.order_by (cvm.yaml:6:5): order_by names "
        "'ordr', not a column of the table\n  hint: did you mean 'ord'?\n"))


def test_a_missing_database_or_user_is_said(shop: str, make_project) -> None:
    base, _, _ = shop.rpartition("/")
    for url, why in ((f"{base}/nope", 'database "nope" does not exist'),
                     (f"{base}/nope".replace("cvm@", "nobody@"),
                      'role "nobody" does not exist')):
        project = make_project(db_config(url, "    table: tx\n"), tx=None)
        code, err = score(project)
        assert code == 1
        assert err.startswith(f"error: {url} (table tx): data.transactions (cvm.yaml:4:5): "
                              "connection failed: connection to server at")
        assert f"FATAL:  {why}\n  hint: check that" in err


def test_a_query_without_rows_is_said(shop: str, make_project) -> None:
    project = make_project(db_config(shop, "    query: select ord, cust, day, amount, cost "
                                     "from tx where false\n"), tx=None)
    assert score(project) == (1, f"error: {shop} (query): data.transactions.query "
                                 "(cvm.yaml:5:5): the query has no rows\n  hint: the "
                                 "transactions are the rows it returns: check its WHERE clause, "
                                 "in psql\n")


def test_a_query_failing_on_a_row_is_said_with_where_to_see_which(shop: str,
                                                                  make_project) -> None:
    """A new user's trial: a division by zero at a row of the query, said without a hint."""
    project = make_project(db_config(shop, "    query: select ord, cust, day, amount / 0 AS "
                                     "amount, cost from tx\n"), tx=None)
    code, err = score(project)
    assert code == 1
    assert err.startswith(f"error: {shop} (query): data.transactions.query (cvm.yaml:5:5): "
                          "reading the rows failed: division by zero\n"), err
    assert err.endswith("  hint: the query may fail on a row it reads, or the database "
                        "stopped it: run it in psql to see which\n"), err


class PasswordServer:
    """A second throwaway server that asks for a password over TCP (the shared one trusts)."""

    def __init__(self, bindir: Path, password: str) -> None:
        from tests.pg_server import Server

        self.pwfile = Path(tempfile.mkdtemp(prefix="cvm-pw-")) / "pw"
        self.pwfile.write_text(password + "\n")
        os.chmod(self.pwfile.parent, 0o755)
        os.chmod(self.pwfile, 0o644)
        pwfile = self.pwfile

        class Asking(Server):
            def _run(self, program: str, *args: str) -> None:
                if program == "initdb":
                    args = (*(a for a in args if a != "--auth=trust"), "--auth-local=trust",
                            "--auth-host=scram-sha-256", f"--pwfile={pwfile}")
                super()._run(program, *args)

        self.server = Asking(bindir)
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self.pwfile.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def asking(postgres_server: str) -> Iterator[str]:
    """The URL (no password) of a server whose user cvm has the password s3cret, with table
    tx; needs the installed PostgreSQL (skipped, or failed in CI, like postgres_server)."""
    import psycopg

    from tests.pg_server import find_bindir

    bindir = find_bindir()
    if bindir is None:  # CVM_TEST_POSTGRES_URL named a server, but none is installed here
        reason = "a server with passwords is started from the installed PostgreSQL"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    server = PasswordServer(bindir, "s3cret")
    try:
        with psycopg.connect(server.url, password="s3cret", autocommit=True) as conn:
            conn.execute("CREATE TABLE tx (n int PRIMARY KEY, cust text, day date, "
                         "amount numeric, cost numeric)")
            conn.execute("INSERT INTO tx VALUES (1, 'a', '2024-01-05', 100, 60), "
                         "(2, 'b', '2024-03-10', 50, 30)")
        yield server.url
    finally:
        server.stop()


def test_the_password_comes_from_the_environment_and_a_wrong_one_is_said(
        asking: str, make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")  # not the tester's ~/.pgpass
    project = make_project(db_config(asking, "    table: tx\n    password_env: CVM_SHOP_PW\n"),
                           tx=None)
    monkeypatch.setenv("CVM_SHOP_PW", "wrong-pw")
    code, err = score(project)
    assert "wrong-pw" not in err
    port = asking.split(":")[2].split("/")[0]
    assert (code, err) == (1, (
        f"error: {asking} (table tx): data.transactions (cvm.yaml:4:5): connection failed: "
        f"connection to server at \"127.0.0.1\", port {port} failed: FATAL:  password "
        "authentication failed for user \"cvm\"\n  hint: check that the PostgreSQL server is "
        "running and reachable, the database exists and the user may read it (password: "
        "PGPASSWORD, ~/.pgpass or the variable named by password_env)\n"))
    monkeypatch.setenv("CVM_SHOP_PW", "s3cret")
    assert score(project) == (0, "")
    plain = make_project(db_config(asking, "    table: tx\n"), tx=None)
    monkeypatch.setenv("PGPASSWORD", "s3cret")  # read by libpq itself
    assert score(plain) == (0, "")


@pytest.mark.parametrize("source", ["    table: tx_text\n",
                                    "    query: select * from tx_text order by n limit 3\n"])
def test_validate_checks_the_first_rows_of_a_table_or_query(shop: str, make_project,
                                                           source: str) -> None:
    """A new user's table with bad values in its first rows validated as "valid"; run then
    stopped. validate gives run's message (the row by its key, for a table)."""
    project = make_project(db_config(shop, source), tx=None)
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1, result.output
    row = "row 2 (n = 2)" if "table" in source else "row 2"
    assert f"error: {shop} ({'table tx_text' if 'table' in source else 'query'}): {row}, " \
        "column 'amount': found 'abc', expected a number such as 12.50\n" in result.output


@pytest.mark.parametrize("port", ["5432x", ""])
def test_a_port_that_is_not_a_number_is_said_at_its_line(make_project, port: str) -> None:
    """A trial: `127.0.0.1:5432x` stopped validate and run with an internal error (SQLAlchemy's
    int() of the port), in data.transactions.url and in the history's URL alike."""
    project = make_project(db_config(f"postgresql://cvm:pw@127.0.0.1:{port}/shop",
                                     "    table: tx\n"), tx=None)
    code, err = score(project)
    assert "pw" not in err.replace("password", "")
    assert (code, err) == (1, (
        "error: cvm.yaml:4:10: data.transactions.url: found a port that is not a number, "
        "expected a number\n"
        "  hint: write postgresql://user@host:5432/database (the port after the host's colon; "
        "without it, 5432)\n"))


def test_a_history_port_that_is_not_a_number_is_said(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_example_project(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", "postgresql://cvm:pw@127.0.0.1:5432x/hist")
    result = CliRunner().invoke(app, ["run", "-p", str(project), "-q", "-o",
                                      str(tmp_path / "out")])
    assert (result.exit_code, result.stderr) == (1, (
        "error: CVM_HISTORY_URL: found a port that is not a number, expected a number\n"
        "  hint: write postgresql://user@host:5432/database (the port after the host's colon; "
        "without it, 5432)\n"))


def test_date_format_is_for_text_dates_not_a_date_column(shop: str, make_project) -> None:
    """A trial kept `date_format: "%d/%m/%Y"` (its customers file's) with a table whose
    OrderDate is a `date`: every row was refused, "found '2024-01-05', expected a date in the
    format '%d/%m/%Y'", about a text the reader itself wrote. A date column's values are
    dates, whatever the format of text ones."""
    config = db_config(shop, "    table: tx\n").replace(
        "data:\n", "data:\n  date_format: \"%d/%m/%Y\"\n")
    project = make_project(config, tx=None)
    assert score(project) == (0, "")
    validated = runner.invoke(app, ["validate", "--project", str(project)])  # its first rows
    assert "OrderDate" not in validated.output and "'day'" not in validated.output
    assert "tx.csv" not in validated.output and "the format" not in validated.output


def test_a_keyword_connection_string_is_told_the_url_forms(make_project) -> None:
    """A trial's 'host=... dbname=...' (libpq's keyword form) was told 'expected
    postgresql://...' only; DuckDB files are read too."""
    project = make_project(db_config("host=db dbname=shop", "    table: tx\n"), tx=None)
    assert score(project) == (1, (
        "error: cvm.yaml:4:10: data.transactions.url: found a value that is not a database "
        "URL, expected postgresql://... (or duckdb:///file.duckdb)\n"
        "  hint: write postgresql://user@host:5432/database, without the password (give it in "
        "PGPASSWORD or ~/.pgpass, or name an environment variable in password_env)\n"))


@pytest.mark.parametrize("password", ["s3cr?t", "ab/c?d", "p:w"])
def test_a_password_with_url_characters_is_no_port(password: str, tmp_path: Path) -> None:
    """The review: a first port check, by pattern, took 's3cr' of a password 's3cr?t' for the
    port, refused a valid history URL and showed the password's start."""
    from engine.history.settings import parse

    url = f"postgresql://cvm:{password}@db.example.com:5432/marketing"
    settings = parse(url, tmp_path, source="CVM_HISTORY_URL")
    assert settings.url.port == 5432 and settings.url.password == password


def test_a_port_out_of_range_is_said_at_the_url(make_project, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-trial: port 99999 was 'connection is bad: invalid port number', with the hint
    to check the server, at the transactions key."""
    project = make_project(db_config("postgresql://cvm@127.0.0.1:99999/shop",
                                     "    table: tx\n"), tx=None)
    assert score(project) == (1, (
        "error: cvm.yaml:4:10: data.transactions.url: found the port 99999, expected a number "
        "from 1 to 65535\n"
        "  hint: write postgresql://user@host:5432/database (the port after the host's colon; "
        "without it, 5432)\n"))
    (tmp_path / "h").mkdir()
    example = copy_example_project(tmp_path / "h")
    monkeypatch.setenv("CVM_HISTORY_URL", "postgresql://cvm:pw@127.0.0.1:99999/hist")
    result = CliRunner().invoke(app, ["run", "-p", str(example), "-q", "-o",
                                      str(tmp_path / "out")])
    assert (result.exit_code, result.stderr) == (1, (
        "error: CVM_HISTORY_URL: found the port 99999, expected a number from 1 to 65535\n"
        "  hint: write postgresql://user@host:5432/database (the port after the host's colon; "
        "without it, 5432)\n"))
