"""The history from the command line: cvm run records (or not), a second run sees what
changed, cvm responses import, cvm history, and the errors of a history that cannot be used."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from tests.history_runs import ROOT, TIERS, cvm, retail_copy, two_runs


@pytest.fixture
def retail(tmp_path: Path) -> Path:
    """A copy of the bundled retail project (the checkout is never written)."""
    return retail_copy(tmp_path)


def test_a_second_run_sees_what_changed_since_the_first(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    runs = two_runs(retail, tmp_path, "2025-07-01", responses=(
        "customer_id,campaign,date,outcome,revenue\n"
        "C000003,win_back,2025-08-01,responded,\n"
        "C000003,win_back,2025-09-15,converted,35.5\n"
        "C000010,welcome_new,2026-02-01,converted,12\n"))  # after the next as-of: not seen
    one = pd.read_csv(runs.first / "customers.csv", dtype={"customer_id": str})
    # a first run: every change attribute at its documented default
    assert one["previous_tier"].isna().all() and one["tier_change"].isna().all()
    assert one["days_since_last_contact"].isna().all()
    assert (one["contacts_last_30_days"] == 0).all() and one["last_outcome"].isna().all()
    actions_one = pd.read_csv(runs.first / "actions.csv", dtype={"customer_id": str})
    contacted = set(actions_one.loc[actions_one["status"] == "allocated", "customer_id"])
    two = pd.read_csv(tmp_path / "run2" / "customers.csv", dtype={"customer_id": str})
    both = two.merge(one[["customer_id", "value_tier", "lifecycle_stage", "total_value"]],
                     on="customer_id", suffixes=("", "_then"), how="left")
    known = both["value_tier_then"].notna()
    assert known.sum() > 1000
    assert (both.loc[known, "previous_tier"] == both.loc[known, "value_tier_then"]).all()
    assert (both.loc[known, "previous_stage"] == both.loc[known, "lifecycle_stage_then"]).all()
    rank = {t: i for i, t in enumerate(TIERS)}
    steps = both["value_tier_then"].map(rank) - both["value_tier"].map(rank)
    assert (both.loc[known, "tier_change"] == steps[known]).all()
    moved = both[known & (steps != 0)]
    assert len(moved) > 20  # customers whose tier moved between the two dates
    then = both["total_value_then"]
    expected = 100 * (both["total_value"] - then) / then.abs()
    ok = known & (then.abs() > 0.01)
    # the files round values to cents: each side may be off by half a cent
    bound = 100 * 0.01 / (then.abs() - 0.005) * (1 + expected.abs() / 100) + 1e-6
    assert ((both["total_value_change_pct"] - expected).abs() <= bound)[ok].all()
    assert both.loc[~known, "previous_tier"].isna().all()  # new since the first run
    days = (pd.Timestamp("2026-01-01") - pd.Timestamp("2025-07-01")).days
    was_contacted = both["customer_id"].isin(contacted)
    assert (both.loc[was_contacted, "days_since_last_contact"] == days).all()
    assert both.loc[~was_contacted, "days_since_last_contact"].isna().all()
    outcome = both.set_index("customer_id")["last_outcome"]
    assert outcome["C000003"] == "converted" and pd.isna(outcome["C000010"])
    # the starter policy: a drop from platinum or gold gets a proactive retention contact
    decisions = pd.read_csv(tmp_path / "run2" / "decisions.csv", dtype={"customer_id": str})
    fell = both["previous_tier"].isin(["platinum", "gold"]) & (both["tier_change"] < 0)
    dropped = set(both.loc[fell & (both["total_value_change_pct"] < 0), "customer_id"])
    assert dropped
    # tiers are shares of the base: a customer can fall a tier while their value grows
    assert (fell & (both["total_value_change_pct"] >= 0)).any()
    chosen = set(decisions.loc[decisions["policy_id"] == "retain_tier_drop", "customer_id"])
    assert chosen == dropped
    # the report: the tier migration matrix between the two runs
    report = cvm("report", "--project", str(retail), "--out", str(tmp_path / "run2"), "-q")
    assert report.exit_code == 0, report.stderr
    html = (tmp_path / "run2" / "report" / "report.html").read_text()
    assert "Tier migration from run 1 as of 2025-07-01 to run 2 as of 2026-01-01" in html
    counts = pd.crosstab(both["value_tier_then"].fillna("not in the earlier run"),
                         both["value_tier"])
    for tier in TIERS:
        cells = "".join(f"<td>{int(counts.loc[tier, t]):,}</td>" for t in TIERS)
        assert f"<tr><td>{tier}</td>{cells}</tr>" in html


def test_no_history_neither_reads_nor_writes(retail: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    history = tmp_path / "h.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    result = cvm("run", "--no-history", "--project", str(retail), "--out", str(tmp_path / "o"),
                 "-q")
    assert result.exit_code == 0, result.stderr
    assert not history.exists()
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["history"] is None


def test_the_default_history_is_a_file_in_the_project(retail: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CVM_HISTORY_URL")
    assert cvm("validate", "--project", str(retail)).exit_code == 0
    assert not (retail / ".cvm").exists()  # validate writes nothing
    result = cvm("run", "--project", str(retail), "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.stderr
    assert (retail / ".cvm" / "history.sqlite").is_file()
    assert "recorded in the history (.cvm/history.sqlite) as run 1: 2,000 customers" in \
        result.stdout
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["history"] == {"database": ".cvm/history.sqlite", "dialect": "sqlite"}
    listed = cvm("history", "--project", str(retail))
    assert listed.exit_code == 0
    assert listed.stdout.splitlines()[0] == "1 run(s) recorded in .cvm/history.sqlite:"


def test_a_damaged_history_file_is_a_clear_error(retail: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "h.sqlite"
    bad.write_text("these are not the droids\n" * 100)
    monkeypatch.setenv("CVM_HISTORY_URL", str(bad))
    expected = (f"{bad}: history (CVM_HISTORY_URL): file is not a database\n  hint: the file "
                "is not a SQLite database, or it is damaged: move it away (the next run starts "
                "a new history) or restore it from a backup")
    run = cvm("run", "--project", str(retail), "--out", str(tmp_path / "o"))
    assert run.exit_code == 1
    assert run.stderr.strip() == f"error: {expected}"
    assert not (tmp_path / "o").exists()  # refused before any work
    check = cvm("validate", "--project", str(retail))
    assert check.exit_code == 1
    assert f"error: {expected}" in check.stderr
    assert bad.read_text() == "these are not the droids\n" * 100  # never touched


def test_a_foreign_database_is_refused(retail: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "crm.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE contacts (id integer)")
    monkeypatch.setenv("CVM_HISTORY_URL", f"sqlite:///{other}")
    run = cvm("run", "--project", str(retail), "--out", str(tmp_path / "o"))
    assert run.exit_code == 1
    assert run.stderr.strip() == (
        f"error: {other}: history (CVM_HISTORY_URL): is not a CVM Engine history: it holds "
        "other tables (contacts) and no cvm_alembic_version\n  hint: CVM Engine never writes "
        "into a database it did not make: point history (or CVM_HISTORY_URL) at a new file or "
        "an empty database")


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://ana:s3cr3t@127.0.0.1:1/cvm", "postgresql://ana:***@127.0.0.1:1/cvm"),
    # libpq takes a password as a query parameter too (a data engineer's trial: it was printed
    # and written into the manifest, SQLAlchemy's masking hides user:password@ alone)
    ("postgresql://ana@127.0.0.1:1/cvm?sslmode=disable&password=s3cr3t",
     "postgresql://ana@127.0.0.1:1/cvm?sslmode=disable&password=***")])
def test_a_password_is_never_shown(retail: Path, monkeypatch: pytest.MonkeyPatch, url: str,
                                   shown: str) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", url)
    for args in (["validate"], ["run", "-q"], ["history"], ["validate", "--json"]):
        result = cvm(*args, "--project", str(retail))
        assert result.exit_code == 1
        assert "s3cr3t" not in result.output + result.stderr
        if "--json" in args:
            assert json.loads(result.stdout)["problems"][0]["file"] == shown
        else:
            assert f"{shown}: history (CVM_HISTORY_URL): connection failed" in result.stderr


def test_a_password_in_cvm_yaml_is_a_warning_and_bad_urls_errors(
        retail: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CVM_HISTORY_URL")
    config = retail / "cvm.yaml"
    text = config.read_text()
    config.write_text(text + "history: mysql://ana@db/cvm\n")
    result = cvm("validate", "--project", str(retail))
    assert result.exit_code == 1
    line = len(text.splitlines()) + 1
    assert result.stderr.splitlines()[0] == (
        f"error: cvm.yaml:{line}:10: history: found the database kind 'mysql', expected "
        "sqlite or postgresql")
    # a password in the URL's query is one in the URL (it passed without the warning)
    config.write_text(text + "history: postgresql://ana@127.0.0.1:1/cvm?password=s3cr3t\n")
    result = cvm("validate", "--project", str(retail))
    assert "s3cr3t" not in result.output + result.stderr
    assert result.stderr.splitlines()[0] == (
        f"warning: cvm.yaml:{line}:10: history: the URL holds a password, in a file others may "
        "read")
    config.write_text(text + "history: postgres://ana@127.0.0.1:1/?password=s3cr3t\n")
    result = cvm("validate", "--project", str(retail))
    assert result.stderr.splitlines()[0] == (
        f"error: cvm.yaml:{line}:10: history: found 'postgres://ana@127.0.0.1:1/?password=***', "
        "expected the name of a database after the host")


def test_responses_import_is_idempotent_and_counts(retail: Path, tmp_path: Path) -> None:
    file = tmp_path / "responses.csv"
    file.write_text("customer_id,campaign,date,outcome,revenue\n"
                    "C000003,win_back,2025-12-20,converted,40.5\n"
                    "C000003,win_back,2025-12-20,converted,40.5\n"
                    "C000004,win_back,2025-12-21,No_Response,\n")
    first = cvm("responses", "import", str(file), "--project", str(retail))
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines()[1:] == [
        "  imported 2, already present 0, skipped 1",
        "    1 repeat an earlier row of the file (same customer, campaign, date and outcome)"]
    again = cvm("responses", "import", str(file), "--project", str(retail))
    assert again.stdout.splitlines()[1] == "  imported 0, already present 2, skipped 1"
    shown = json.loads(cvm("history", "C000003", "--json", "--project", str(retail)).stdout)
    assert shown["responses"] == [{"campaign": "win_back", "date": "2025-12-20",
                                   "outcome": "converted", "revenue": 40.5}]


@pytest.mark.parametrize(("content", "message"), [
    ("customer_id,campaign,date,outcome\nC1,win_back,2025-13-01,converted\n",
     "responses.csv:2: row 1, column 'date': found '2025-13-01', expected a date such as "
     "2024-01-31"),
    ("customer_id,campaign,date,outcome\nC1,win_back,2025-12-01,converted\n"
     "C2,win_back,2025-12-01,bought\n",
     "responses.csv:3: row 2, column 'outcome': found 'bought', expected one of converted, "
     "responded, no_response, complained, opted_out\n  hint: a response is one of these "
     "outcomes"),
    ("customer_id,campaign,date,outcome,revenue\nC1,win_back,2025-12-01,converted,lots\n",
     "responses.csv:2: row 1, column 'revenue': found 'lots', expected a number such as "
     "12.50"),
    ("customer_id,campaign,day,outcome\nC1,x,2025-12-01,converted\n",
     "responses.csv:1: header: missing column 'date'\n  hint: the columns are customer_id, "
     "campaign, date, outcome and (optional) revenue; its other columns, not read: 'day'"),
    ("customer_id,campaign,date,outcome,revenu\nC1,x,2025-12-01,converted,3\n",
     "responses.csv:1: header: unknown column 'revenu'\n  hint: did you mean 'revenue'?"),
    ("customer_id,campaign,date,outcome,Date\nC1,x,2025-12-01,converted,2025-12-01\n",
     "responses.csv:1: header: column 'Date' repeats 'date'\n  hint: keep one of them"),
    # an analyst's trial: a byte order mark alone was 'the first line is empty'
    ("\ufeff", "responses.csv: the file is empty (a byte order mark or blank lines alone), "
     "expected a header line and data rows"),
    ("\ufeff\r\n\r\n", "responses.csv: the file is empty (a byte order mark or blank lines "
     "alone), expected a header line and data rows"),
    # a review: a byte no encoding reads after blank lines is no empty file
    ("\n\n\udcc9tat;x\n", "responses.csv:1: header: the first line is empty, expected the "
     "header line with the column names"),
    # an analyst's trial: a row of separators among the rows was four empty values
    ("customer_id,campaign,date,outcome\nC000003,win_back,2025-12-01,converted\n,,,\n"
     "C000004,win_back,2025-12-01,converted\n",
     "responses.csv:3: row 2, column 'customer_id': found an empty row (no value in any "
     "column read), expected a response\n  hint: delete the empty rows between responses: one may "
     "mark a cut or a pasted block (rows of separators only, such as ',,,,,', at the end of "
     "the file are skipped and counted)\n"),
    ("customer_id,campaign,outcome\nC1,x,converted\n",
     "responses.csv:1: header: missing column 'date'\n  hint: the columns are customer_id, "
     "campaign, date, outcome and (optional) revenue"),
    ("customer_id,campaign,date,outcome\n,x,2025-12-01,converted\n",
     "responses.csv:2: row 1, column 'customer_id': found an empty value, expected a value in "
     "every row"),
    # an analyst's trial: the hint named data.decimal, which no responses file reads
    ("customer_id,campaign,date,outcome,revenue\nC000003,win_back,2025-12-01,converted,"
     '"1,50"\n',
     "responses.csv:2: row 1, column 'revenue': found '1,50', expected a number such as 12.50\n"
     "  hint: a decimal comma: this file is read with a decimal point whatever cvm.yaml's data "
     "settings say: write 1.50\n"),
])
def test_a_bad_response_file_writes_nothing(retail: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, content: str,
                                            message: str) -> None:
    history = tmp_path / "h.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    monkeypatch.chdir(tmp_path)
    Path("responses.csv").write_bytes(content.encode("utf-8", "surrogateescape"))
    result = cvm("responses", "import", "responses.csv", "--project", str(retail))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {message}")
    assert not history.exists()


def test_history_shows_runs_and_a_customer_timeline(retail: Path, tmp_path: Path) -> None:
    empty = cvm("history", "--project", str(retail))
    assert empty.exit_code == 0
    assert empty.stdout.startswith("No run recorded yet in ")
    assert cvm("run", "--project", str(retail), "--out", str(tmp_path / "o"), "-q").exit_code \
        == 0
    runs = json.loads(cvm("history", "--json", "--project", str(retail)).stdout)
    assert [(r["run"], r["as_of"], r["customers"]) for r in runs] == [(1, "2026-01-01", 2000)]
    actions = pd.read_csv(tmp_path / "o" / "actions.csv", dtype={"customer_id": str})
    row = actions[actions["status"] == "allocated"].iloc[0]
    text = cvm("history", str(row["customer_id"]), "--project", str(retail)).stdout
    line = text.splitlines()[1]
    assert line.startswith("  run   1  2026-01-01  ")
    assert line.endswith(f"{row['action']} ({row['campaign']}: allocated on {row['channel']})")
    shown = json.loads(cvm("history", str(row["customer_id"]), "--json", "--project",
                           str(retail)).stdout)
    table = pd.read_csv(tmp_path / "o" / "customers.csv", dtype={"customer_id": str})
    total = table.set_index("customer_id").loc[str(row["customer_id"]), "total_value"]
    assert shown["snapshots"][0]["total_value"] == total  # as customers.csv shows it
    missing = cvm("history", "nobody", "--project", str(retail))
    assert missing.exit_code == 1
    assert ("customer 'nobody' is in none of the 1 runs recorded and has no response, event or "
            "interaction") in missing.stderr


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}")
    return text[start:text.index("\n## ", start + 1)]


def _plain_blocks(text: str) -> list[str]:
    """The fenced blocks without a language, as text (each line ending in a newline)."""
    blocks, current, fence = [], [], None
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence, current = line[3:], []
        elif fence is not None and line == "```":
            if fence == "":
                blocks.append("".join(f"{x}\n" for x in current))
            fence = None
        elif fence is not None:
            current.append(line)
    return blocks


def test_the_readme_history_examples_hold(retail: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.history import settings_for
    from engine.project.config import load_config
    from engine.project.schema import CHANGE_COLUMNS, markdown_table

    section = _readme_section("History: what the engine remembers")
    assert markdown_table(CHANGE_COLUMNS) in section
    monkeypatch.delenv("CVM_HISTORY_URL")
    setting = re.search(r"```yaml\n(history: \S+)", section)
    assert setting is not None
    (retail / "cvm.yaml").write_text((retail / "cvm.yaml").read_text() + setting.group(1) + "\n")
    settings = settings_for(load_config(retail))
    assert settings.masked == "postgresql://cvm@db.example.com:5432/marketing"
    (retail / "cvm.yaml").write_text((ROOT / "cvm.yaml").read_text())
    blocks = _plain_blocks(section)
    monkeypatch.chdir(tmp_path)
    Path("responses.csv").write_text("customer_id,campaign,date,outcome\n"
                                     "C1,win_back,2025-12-01,converted\n"
                                     "C2,win_back,2025-12-01,bought\n")
    bad = cvm("responses", "import", "responses.csv", "--project", str(retail))
    assert bad.stderr in blocks
    Path("responses.csv").write_text("customer_id,campaign,date,outcome,revenue\n"
                                     "C000003,win_back,2025-12-20,converted,40.5\n"
                                     "C000003,win_back,2025-12-20,converted,40.5\n"
                                     "C000004,win_back,2025-12-21,no_response,\n")
    good = cvm("responses", "import", "responses.csv", "--project", str(retail))
    assert good.stdout in blocks
    assert cvm("run", "--project", str(retail), "--out", str(tmp_path / "o"), "-q").exit_code \
        == 0
    shown = cvm("history", "C000003", "--project", str(retail))
    assert shown.stdout in blocks


def test_a_run_stopped_by_bad_input_leaves_no_history(retail: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CVM_HISTORY_URL")
    tx = retail / "examples" / "retail" / "transactions.csv"
    lines = tx.read_text().splitlines()
    head = lines[1].split(",")
    lines[5] = ",".join([*head[:2], "not a date", *head[3:]])
    tx.write_text("\n".join(lines) + "\n")
    result = cvm("run", "--project", str(retail), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "not a date" in result.stderr
    assert not (retail / ".cvm").exists()


def test_postgresql_history_from_the_command_line(retail: Path, tmp_path: Path,
                                                  postgres_server: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.pg_server import new_database

    url = new_database(postgres_server, "cvm_cli_test")
    # the throwaway server trusts local users: the password is carried, never checked
    with_password = url.replace("postgresql://cvm@", "postgresql://cvm:pa55word@")
    monkeypatch.setenv("CVM_HISTORY_URL", with_password)
    result = cvm("run", "--project", str(retail), "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.stderr
    masked = url.replace("postgresql://cvm@", "postgresql://cvm:***@")
    assert f"recorded in the history ({masked}) as run 1: 2,000 customers" in result.stdout
    manifest = (tmp_path / "o" / "manifest.json").read_text()
    assert "pa55word" not in manifest + result.stdout + result.stderr
    assert json.loads(manifest)["history"] == {"database": masked, "dialect": "postgresql"}
    pq_file = tmp_path / "responses.parquet"
    pd.DataFrame({"customer_id": ["C000003"], "campaign": ["win_back"],
                  "date": pd.to_datetime(["2025-12-20"]), "outcome": ["converted"],
                  "revenue": [40.5]}).to_parquet(pq_file)
    for expected in ("imported 1, already present 0", "imported 0, already present 1"):
        imported = cvm("responses", "import", str(pq_file), "--project", str(retail))
        assert imported.exit_code == 0, imported.stderr
        assert f"  {expected}, skipped 0" in imported.stdout
    shown = json.loads(cvm("history", "C000003", "--json", "--project", str(retail)).stdout)
    assert [s["as_of"] for s in shown["snapshots"]] == ["2026-01-01"]
    assert shown["responses"][0]["outcome"] == "converted"


def test_validate_knows_the_value_change_attributes(retail: Path) -> None:
    (retail / "policies" / "x_test.yaml").write_text(
        "id: x_test\ndescription: d\npriority: 7\nwhen:\n  all:\n"
        "    - previous_tier: diamond\n    - last_outcome: bought\n"
        "    - tier_change: {gt: \"1\"}\nthen:\n  action: retain\n  channels: [email]\n")
    result = cvm("validate", "--project", str(retail))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: policies/x_test.yaml:6:22: when.all[0].previous_tier: unknown previous_tier "
        "'diamond', expected one of platinum, gold, silver, bronze",
        "error: policies/x_test.yaml:7:21: when.all[1].last_outcome: unknown last_outcome "
        "'bought', expected one of converted, responded, no_response, complained, opted_out",
        "error: policies/x_test.yaml:8:25: when.all[2].tier_change.gt: found '1' (text), "
        "expected a number (tier_change is a number)",
        "  hint: remove the quotes",
        "3 error(s), 0 warning(s) in 1 file(s)",
        "not checked until policies/x_test.yaml reads: the rules' and policies' conditions "
        "(compiled, never matching, shadowed, out of range), the campaigns they name and the "
        "templates rendered"]


@pytest.fixture(scope="module")
def module_history() -> str | None:
    """What a module-scoped fixture (such as a shared run of the bundled example) sees."""
    return os.environ.get("CVM_HISTORY_URL")


def test_module_fixtures_never_record_into_the_checkout(module_history: str | None) -> None:
    assert module_history is not None
    assert not Path(module_history).resolve().is_relative_to(ROOT)


@pytest.mark.parametrize("value", [33.055, 2.675, 0.125, -0.001, 395.15129510352733])
def test_history_json_rounds_money_as_the_output_files_do(value: float) -> None:
    """Python's round gave 33.05 where customers.csv (pandas) writes 33.06 (review)."""
    from engine.commands.history import cents_as_written
    from engine.output.writers import rounded

    written = rounded(pd.DataFrame({"total_value": [value]}), ["total_value"])
    assert cents_as_written(value) == written["total_value"].iloc[0]


def test_a_postgresql_history_reads_whatever_the_server_s_date_style(
        retail: Path, tmp_path: Path, postgres_server: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial's DBA had set DateStyle 'SQL, DMY' (and a Tokyo time zone) on the database:
    `cvm history` and `cvm measure` stopped with an internal error (psycopg cannot parse a
    timestamptz in that style); the history's connections now set ISO and UTC, as the
    transactions reader's do."""
    import psycopg

    from tests.pg_server import new_database

    url = new_database(postgres_server, "cvm_datestyle_test")
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute("ALTER DATABASE cvm_datestyle_test SET datestyle = 'SQL, DMY'")
        conn.execute("ALTER DATABASE cvm_datestyle_test SET timezone = 'Asia/Tokyo'")
    monkeypatch.setenv("CVM_HISTORY_URL", url)
    assert cvm("run", "--project", str(retail), "--out", str(tmp_path / "o")).exit_code == 0
    listed = cvm("history", "--project", str(retail))
    assert listed.exit_code == 0, listed.stderr
    runs = json.loads(cvm("history", "--json", "--project", str(retail)).stdout)
    assert runs[0]["recorded_at"].endswith("+00:00"), runs
    measured = cvm("measure", "--project", str(retail))
    assert measured.exit_code == 0, measured.stderr


def test_what_a_response_file_s_reader_drops_is_said(retail: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """An analyst's trial: rows of separators at the end were dropped uncounted (the
    transactions' reader says them), and spaces around a date or a revenue were dropped
    without the warning the ids and outcomes get."""
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    file = tmp_path / "r.csv"
    file.write_text("customer_id,campaign,date,outcome,revenue\n"
                    "C000003,win_back, 2025-12-20 ,converted, 40.5 \n"
                    "C000004,win_back,2025-12-21,responded,\n,,,,\n,,,,\n")
    result = cvm("responses", "import", str(file), "--project", str(retail))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "  imported 2, already present 0, skipped 0",
        f"note: 2 empty rows at the end of {file} (separators only, as a spreadsheet's export "
        "adds them) not read"]
    assert result.stderr.splitlines()[::2] == [
        f"warning: {file}:2: row 1, column '{column}': 1 row has a value with surrounding "
        f"spaces ('{shown}'): read as {read}" for column, shown, read in (
            ("date", " 2025-12-20 ", "'2025-12-20'"), ("revenue", " 40.5 ", "'40.5'"))]


def test_a_campaign_tool_s_export_is_read_whatever_its_names_case_and_other_columns(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An analyst's trial: 'Outcome,Date,Customer_ID,Campaign' was refused (and only its
    first name said), and a 'note' column beside the five refused the whole file; a name with
    spaces around it ('revenue ') was 'mapped to revenue in cvm.yaml' and not found."""
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    file = tmp_path / "r.csv"
    file.write_text("Outcome,Date, Customer_ID ,Campaign,note,channel,revenue \n"
                    "converted,2025-12-20,C000003,win_back,called twice,phone,99.00\n")
    result = cvm("responses", "import", str(file), "--project", str(retail))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1] == "  imported 1, already present 0, skipped 0"
    assert result.stderr == (
        f"warning: {file}:1: header: columns not read: 'note', 'channel'\n  hint: the columns "
        "are customer_id, campaign, date, outcome and (optional) revenue: remove the others to "
        "silence this\n")
    shown = json.loads(cvm("history", "C000003", "--json", "--project", str(retail)).stdout)
    assert shown["responses"] == [{"campaign": "win_back", "date": "2025-12-20",
                                   "outcome": "converted", "revenue": 99.0}]


def test_a_host_name_no_lookup_can_take_is_a_connection_error(
        retail: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data engineer's re-trial: a host name with two dots in a row was an internal error
    (UnicodeError from the idna codec, exit 4)."""
    monkeypatch.setenv("CVM_HISTORY_URL", "postgresql://cvm@db..example.com:5432/cvm")
    result = cvm("history", "--project", str(retail))
    first, hint = result.stderr.splitlines()  # (the codec's words vary by Python version)
    assert result.exit_code == 1 and first.startswith(
        "error: postgresql://cvm@db..example.com:5432/cvm: history (CVM_HISTORY_URL): "
        "connection failed: the host name cannot be looked up (")
    assert hint == ("  hint: check the host name in the URL: a typo such as two dots in a row, "
                    "or a part longer than 63 characters")
