"""What `cvm run` says of its place in the history: the run's number, the run of the same
as-of date it replaces, and a warning when its as-of date is before the latest recorded run's.
A CRM manager's six-week trial: a run made again on the same date said nothing of the run it
replaced, and a run whose as-of date was mistyped a month back was recorded silently, its
contacts then counted by every later run's contact policies, learning and measurement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.history_runs import ROOT, cvm, retail_copy


def _as_of(project: Path, day: str) -> None:
    config = project / "cvm.yaml"
    text = config.read_text()
    start = text.index("as_of: ")
    end = text.index("\n", start)
    config.write_text(text[:start] + f"as_of: {day}" + text[end:])


def test_the_run_says_its_number_what_it_replaces_and_an_earlier_date(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    out = str(tmp_path / "out")
    _as_of(project, "2026-01-01")
    first = cvm("run", "-p", str(project), "-o", out)
    assert first.exit_code == 0, first.stderr
    assert "\nrecorded in the history (h.sqlite) as run 1: 2,000 customers\n" in \
        first.stdout.replace(str(tmp_path) + "/", "")
    assert "warning" not in first.stderr
    again = cvm("run", "-p", str(project), "-o", out)
    assert again.exit_code == 0, again.stderr
    # fails before: no run number, no word of the run replaced
    assert again.stdout.replace(str(tmp_path) + "/", "").endswith(
        "recorded in the history (h.sqlite) as run 2: 2,000 customers\n"
        "  replaces run 1, of the same as-of date (2026-01-01): later runs read this one\n")
    _as_of(project, "2025-12-01")
    earlier = cvm("run", "-p", str(project), "-o", out)
    assert earlier.exit_code == 0, earlier.stderr
    assert earlier.stderr.endswith(
        "warning: as of 2025-12-01, before the latest run recorded (run 2, as of 2026-01-01): "
        "this run's contacts count for the contact policies, learning and measurement of "
        "every later run, as made on 2025-12-01\n"
        f"  hint: a date mistyped? `cvm history -p {project} --forget 3` takes this run out of "
        "the history; `cvm run --no-history` tries a date without recording it\n")
    assert "as run 3: 1,924 customers\n" in earlier.stdout
    # the history lists it as recorded
    listed = cvm("history", "-p", str(project))
    assert listed.exit_code == 0, listed.stderr
    # and the hint's command takes it out, as README "History" shows
    forgot = cvm("history", "-p", str(project), "--forget", "3", "--yes")
    assert forgot.exit_code == 0, forgot.stderr
    shown = re.sub(r"recorded at \S+:", "recorded at 2026-01-02T09:14:03+00:00:",
                   forgot.stdout.replace(str(tmp_path / "h.sqlite"), ".cvm/history.sqlite"))
    readme = (ROOT / "README.md").read_text()
    assert f"```\n$ cvm history --forget 3 --yes\n{shown}```\n" in readme
    assert "3" not in [line.split()[0] for line in
                       cvm("history", "-p", str(project)).stdout.splitlines()[2:]]


def test_what_a_run_replaces_is_read_among_the_runs_before_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: read before the record, two runs of one date recorded at once could both say
    'replaces run 1'. Read by id after the record, each names the run recorded before it."""
    import datetime as dt

    from engine.history import open_history
    from engine.history.queries import runs_around
    from engine.project.config import load_config

    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    project = retail_copy(tmp_path)
    for day in ("2026-01-01", "2026-01-01", "2025-12-01"):
        _as_of(project, day)
        assert cvm("run", "-p", str(project), "-o", str(tmp_path / "out"), "-q").exit_code == 0
    store = open_history(load_config(project), create=False)
    assert store is not None
    try:
        day = dt.date(2026, 1, 1)
        assert runs_around(store, day, 1) == (None, None)
        assert runs_around(store, day, 2) == (1, None)  # not itself, nor a run after it
        assert runs_around(store, dt.date(2025, 12, 1), 3) == (None, (2, day))
    finally:
        store.close()
