"""A DuckDB source reads the tables of its file only: a query reading another file, a URL or a
database (read_text, read_csv, ATTACH) is refused by DuckDB itself (``enable_external_access``
off, the setting locked) and said as bad input, never with what the file holds (a security
trial: `select content ... from read_text('/etc/passwd')` showed the file in the errors)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.history_runs import cvm, retail_copy

HINT = ("  hint: a query reads the tables of the DuckDB file only: load other data into the "
        "file first (in the duckdb shell: CREATE TABLE ... AS SELECT ...), or name a CSV or "
        "Parquet file as data.transactions")


def _project(tmp_path: Path, source: str) -> Path:
    """The bundled project with its transactions in a DuckDB file (x.duckdb: a table sales,
    and a view secrets reading /etc/passwd) and data.transactions reading ``source`` of it."""
    tmp_path.mkdir(exist_ok=True)
    project = retail_copy(tmp_path)
    with duckdb.connect(str(project / "x.duckdb")) as conn:
        conn.execute("CREATE TABLE sales AS SELECT * FROM read_csv(?, header = true)",
                     [str(project / "examples" / "retail" / "transactions.csv")])
        conn.execute("CREATE VIEW secrets AS SELECT 'C1' AS CustomerID, '2025-01-01' AS "
                     "OrderDate, content AS NetAmount FROM read_text('/etc/passwd')")
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        "  transactions: examples/retail/transactions.csv\n",
        f"  transactions:\n    url: duckdb:///x.duckdb\n{source}"))
    return project


@pytest.mark.parametrize(("source", "key", "refused"), [
    ("    query: \"select 'C1' as CustomerID, '2025-01-01' as OrderDate, content as NetAmount "
     "from read_text('/etc/passwd')\"\n", "query (cvm.yaml:7:5)", '"/etc/passwd"'),
    ("    query: \"select * from read_csv('/etc/passwd')\"\n", "query (cvm.yaml:7:5)",
     '"/etc/passwd"'),
    ("    query: \"select * from 'https://example.com/sales.parquet'\"\n",
     "query (cvm.yaml:7:5)", '"https://example.com/sales.parquet"'),
    # a view in the file that reads another one is refused as well
    ("    table: secrets\n", "table (cvm.yaml:7:5)", '"/etc/passwd"'),
], ids=["read_text", "read_csv", "url", "view"])
def test_a_duckdb_source_reading_outside_its_file_is_refused(tmp_path: Path, source: str,
                                                             key: str, refused: str) -> None:
    project = _project(tmp_path, source)
    what = "table secrets" if "table" in key else "query"
    for command in (["validate"], ["run", "-q", "--out", str(tmp_path / "out")]):
        result = cvm(*command, "--project", str(project))
        assert result.exit_code == 1, result.output
        error = result.stderr.splitlines()
        assert error[:2] == [
            f"error: duckdb:///x.duckdb ({what}): data.transactions.{key}: found a "
            f"{key.split()[0]} that reads outside the DuckDB file (Permission Error: Cannot "
            f"access file {refused} - file system operations are disabled by configuration), "
            "expected one that reads the file's own tables", HINT], result.stderr
        assert "root:" not in result.output and "Traceback" not in result.output


def test_a_query_cannot_attach_another_database_nor_turn_access_back_on(
        tmp_path: Path) -> None:
    """The query is placed inside the engine's own SELECT: one closing its parenthesis can add
    statements; DuckDB refuses them (ATTACH reads a file; the setting is locked)."""
    for statements, said in [
        ("ATTACH '/tmp/other.duckdb' AS other", 'found a query that reads outside the DuckDB '
         'file (Permission Error: Cannot access file "/tmp/other.duckdb"'),
        ("SET enable_external_access = true", "found a query that changes DuckDB's locked "
         'settings (Invalid Input Error: Cannot change configuration option '
         '"enable_external_access" - the configuration has been locked'),
    ]:
        query = f"select * from sales) AS a; {statements}; select * from (select * from sales"
        project = _project(tmp_path / str(len(said)), f'    query: "{query}"\n')
        result = cvm("validate", "--project", str(project))
        assert result.exit_code == 1, result.output
        assert said in result.stderr, result.stderr
        assert "Traceback" not in result.output


def test_a_query_of_the_file_s_own_tables_is_read(tmp_path: Path) -> None:
    project = _project(tmp_path, "    query: \"select * from sales\"\n")
    result = cvm("validate", "--project", str(project))
    assert result.exit_code == 0, result.output
