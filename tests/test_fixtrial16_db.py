"""The trial of issue 16, database and object-storage settings: each key's own place in
cvm.yaml, a query that is not a SELECT, nothing but reads, one error per unset variable of
data.storage_options (tests/conftest.py's PostgreSQL server for the database)."""

from __future__ import annotations

import pytest

from engine.project.config import load_config
from tests.conftest import BASE_CONFIG
from tests.test_database_source import db_config, score, shop

__all__ = ["shop"]  # the fixture, used by name



def test_each_key_of_the_source_is_named_at_its_own_line(shop: str, make_project) -> None:
    project = make_project(db_config(shop, "    password_env: null\n    table: txx\n"),
                           tx=None)
    code, err = score(project)
    assert code == 1
    assert err.startswith(f"error: {shop}: data.transactions.table (cvm.yaml:6:5): table "
                          "'txx' not found\n"), err


@pytest.mark.parametrize("query", ["delete from tx", "  -- gone\n  DROP TABLE tx",
                                   "update tx set amount = 0"])
def test_a_query_that_is_not_a_select_is_refused_before_the_database(make_project,
                                                                      query: str) -> None:
    project = make_project(db_config("postgresql://cvm@127.0.0.1:1/shop",
                                     f"    query: {query!r}\n".replace("'", '"')
                                     .replace("\n\"", "\\n\"")), tx=None)
    first = query.split("\n")[-1].split()[0]
    code, err = score(project)
    assert (code, err) == (1, (
        f"error: cvm.yaml:5:12: data.transactions.query: found a query starting with "
        f"{first!r}, expected a SELECT query (or WITH ... SELECT)\n  hint: the rows are only "
        "read: name a table, or write the SELECT that returns them\n"))


def test_a_query_a_comment_swallowed_is_said_so(make_project) -> None:
    """A trial wrote `-- latest export` above the SELECT in a folded YAML scalar, which joins
    the lines: the comment took the whole query, said as "starting with ''"."""
    project = make_project(db_config("postgresql://cvm@127.0.0.1:1/shop", (
        "    query: >\n      -- latest export\n      SELECT * FROM tx\n")), tx=None)
    assert score(project) == (1, (
        "error: cvm.yaml:5:12: data.transactions.query: found a query of comments only, "
        "expected a SELECT query (or WITH ... SELECT)\n  hint: a -- comment runs to the end of "
        "its line: write the query as a literal block (query: |) so its lines stay lines, or "
        "the comment as /* ... */\n"))


def test_the_source_is_read_in_read_only_transactions(shop: str, make_project) -> None:
    import psycopg

    from engine.data.database import _connect

    project = make_project(db_config(shop, "    table: tx\n"), tx=None)
    source = load_config(project).data.transactions
    with _connect(source) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM tx")


def test_each_unset_storage_variable_is_said_once_at_its_own_line(
        make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CVM_T16_KEY", "CVM_T16_SECRET"):
        monkeypatch.delenv(name, raising=False)
    config = BASE_CONFIG.replace("  transactions: tx.csv\n", (
        "  transactions: s3://bucket/tx/\n  customers: s3://bucket/customers.csv\n"
        "  storage_options:\n    key: ${CVM_T16_KEY}\n    secret: ${CVM_T16_SECRET}\n"
        "    anon: false\n  customer_columns:\n    customer_id: cust\n"))
    from engine.data.object_store import check_stores  # what cvm validate says of stores

    problems = check_stores(load_config(make_project(config, tx=None)))
    hint = ("set {0} where cvm (and each Dask worker) runs, or remove the option to use the "
            "store's usual configuration")
    assert [p.format() for p in problems] == [
        "cvm.yaml:6:10: data.storage_options.key: environment variable CVM_T16_KEY is not set"
        "\n  hint: " + hint.format("CVM_T16_KEY"),
        "cvm.yaml:7:13: data.storage_options.secret: environment variable CVM_T16_SECRET is "
        "not set\n  hint: " + hint.format("CVM_T16_SECRET")]


def test_a_run_names_every_unset_variable(make_project, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from engine.data.object_store import filesystem
    from engine.errors import InputError

    for name in ("CVM_T16_KEY", "CVM_T16_SECRET"):
        monkeypatch.delenv(name, raising=False)
    config = BASE_CONFIG.replace("  transactions: tx.csv\n", (
        "  transactions: s3://bucket/tx/\n"
        "  storage_options:\n    key: ${CVM_T16_KEY}\n    secret: ${CVM_T16_SECRET}\n"))
    loc = load_config(make_project(config, tx=None)).data.transactions
    with pytest.raises(InputError) as caught:
        filesystem(loc)  # type: ignore[arg-type]
    assert [p.key for p in caught.value.problems] == [
        "data.storage_options.key", "data.storage_options.secret"]


