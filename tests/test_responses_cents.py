"""Revenue compared and shown in cents by one rule, half away from zero, in the file and
against the history, on both databases (review 13c: numpy rounded halves to even, SQLite away
from zero, and Python's format to even, so 0.125 against 0.12 was "found 0.12, the history has
0.12" across imports and no repeat at all within one file)."""

from __future__ import annotations

from pathlib import Path

from engine.history.record import record_run
from engine.history.responses import import_responses
from tests.history_runs import open_history, snapshot

HEADER = "customer_id,campaign,date,outcome,revenue\n"


def _messages(result: object) -> list[str]:
    return [p.message for p in result.warnings]  # type: ignore[attr-defined]


def test_a_half_cent_is_rounded_away_from_zero_against_the_history(
        history_url: str, tmp_path: Path) -> None:
    import datetime as dt

    store = open_history(history_url, tmp_path)
    try:
        record_run(store, run_id="r1", as_of=dt.date(2025, 5, 1), project="t", inputs={},
                   snapshot=snapshot(5))
        (tmp_path / "a.csv").write_text(HEADER + "C0000001,a,2025-05-02,converted,0.125\n")
        (tmp_path / "b.csv").write_text(HEADER + "C0000001,a,2025-05-02,converted,0.12\n"
                                        "C0000001,a,2025-05-03,converted,0.125\n")
        (tmp_path / "c.csv").write_text(HEADER + "C0000001,a,2025-05-03,converted,0.13\n")
        import_responses(store, tmp_path / "a.csv", "a.csv")
        said = _messages(import_responses(store, tmp_path / "b.csv", "b.csv"))
        assert [m for m in said if "history already" in m] == [
            "1 row is in the history already with another revenue: found 0.12, the history "
            "has 0.13: the history's is kept"]
        said = _messages(import_responses(store, tmp_path / "c.csv", "c.csv"))
        assert not [m for m in said if "history already" in m]  # 0.125 is 0.13
    finally:
        store.close()


def test_a_half_cent_repeat_within_a_file(tmp_path: Path) -> None:
    store = open_history(str(tmp_path / "h.sqlite"), tmp_path)
    try:
        (tmp_path / "a.csv").write_text(HEADER + "C1,a,2025-05-02,converted,0.125\n"
                                        "C1,a,2025-05-02,converted,0.12\n")
        said = _messages(import_responses(store, tmp_path / "a.csv", "a.csv"))
        assert [m for m in said if "repeats" in m] == [
            "1 row repeats an earlier row's customer, campaign, date and outcome with another "
            "revenue: found 0.12, row 1 has 0.13: skipped"]
    finally:
        store.close()


def test_halves_written_in_decimals_are_halves_and_shown_alike() -> None:
    """1.005 is stored as 1.00499999999999989 and 0.145 as 0.14499999999999999: both are
    halves as written (review 13d: rounded down, 'found 1.01, the history has 1.00')."""
    import numpy as np

    from engine.history.response_checks import cents, money_text

    values = np.array([0.145, 1.005, 0.285, 0.025, 2.675, 10.005, -1.005, 0.1449, 10.1])
    assert cents(values).tolist() == [15, 101, 29, 3, 268, 1001, -101, 14, 1010]
    assert cents(np.float32(10.1)) == 1010
    assert [money_text(v) for v in (1.005, 2.675, 1234.565)] == ["1.01", "2.68", "1,234.57"]
