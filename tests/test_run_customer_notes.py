"""``cvm run`` says what ``cvm score`` says of the customers file: purchasers it does not list
(scored with no consents, so never contacted) and listed customers with no purchase; ids that
differ only in letter case are pointed out (a new user's trial: upper-case UUIDs in a file, a
PostgreSQL uuid column read in lower case: every contact lost, and nothing said)."""

from __future__ import annotations

from pathlib import Path

from tests.history_runs import cvm, retail_copy


def _notes_with_lower_case_ids(tmp_path: Path, rows: int | None) -> list[str]:
    """`cvm run`'s notes with the first ``rows`` ids of the customers file (None: all) in
    lower case."""
    project = retail_copy(tmp_path)
    customers = project / "examples" / "retail" / "customers.csv"
    lines = customers.read_text().splitlines(keepends=True)
    end = len(lines) if rows is None else rows + 1
    customers.write_text(lines[0] + "".join(line[0].lower() + line[1:] for line in lines[1:end])
                         + "".join(lines[end:]))
    done = cvm("run", "--project", str(project), "--out", str(tmp_path / "out"), "--no-history")
    assert done.exit_code == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith("  note: ")]


def test_a_customers_file_whose_ids_differ_in_case_is_said(tmp_path: Path) -> None:
    assert _notes_with_lower_case_ids(tmp_path, None) == [
        "  note: 2,000 purchasing customers are not in the customers file: no consents recorded "
        "for them (2,000 of them are, but for the letter case of their ids: ids are matched "
        "exactly; write them in one case in both files ('C000001' is 'c000001' there))",
        "  note: 2,000 customers in the customers file have no purchase before the as-of date: "
        "not scored"]


def test_a_customers_file_that_matches_adds_no_note(tmp_path: Path) -> None:
    project = retail_copy(tmp_path)
    done = cvm("run", "--project", str(project), "--out", str(tmp_path / "out"), "--no-history")
    assert done.exit_code == 0, done.stderr
    assert not [line for line in done.stdout.splitlines() if line.startswith("  note: ")]


def test_one_customer_is_one_customer(tmp_path: Path) -> None:
    """A new user's trial: "1 purchasing customers are not in the customers file ... (1 of
    them are, ...)". One listed customer's id in lower case: one each way."""
    assert _notes_with_lower_case_ids(tmp_path, 1) == [
        "  note: 1 purchasing customer is not in the customers file: no consents recorded "
        "for them (it is, but for the letter case of its id: ids are matched exactly; write "
        "them in one case in both files ('C000001' is 'c000001' there))",
        "  note: 1 customer in the customers file has no purchase before the as-of date: "
        "not scored"]
