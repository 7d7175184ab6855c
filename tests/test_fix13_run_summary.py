"""Suppressed customers in every breakdown of a run (terminal summary, briefs), and a run id
that covers the history the decisions read (issue 13 trial: the suppressed were missing from
the sums; two runs deciding differently shared one id)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import Result

from tests.history_runs import cvm, retail_copy, run, set_as_of


@dataclass(frozen=True)
class Runs:
    project: Path
    tmp: Path
    first: Path
    second: Path
    said: Result  # `cvm run` of the second, not quiet


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    tmp = tmp_path_factory.mktemp("fix13")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CVM_HISTORY_URL", str(tmp / "h.sqlite"))
        project = retail_copy(tmp)
        config = set_as_of(project, "2025-12-28")  # the bundled email_weekly then suppresses
        first = run(project, tmp / "run1")
        set_as_of(project, None, config)
        said = cvm("run", "--project", str(project), "--out", str(tmp / "run2"))
        assert said.exit_code == 0, said.stderr
        yield Runs(project, tmp, first, tmp / "run2", said)


def manifest(folder: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((folder / "manifest.json").read_text())
    return loaded


def test_the_run_summary_counts_the_suppressed(runs: Runs) -> None:
    counts = manifest(runs.second)["counts"]
    assert isinstance(counts, dict) and counts["suppressed"] > 0
    assert (f"  actioned {counts['actioned']:,}: {counts['allocated']:,} allocated, "
            f"{counts['holdout']:,} holdout, {counts['not_served']:,} not served, "
            f"{counts['suppressed']:,} suppressed by a contact policy or an opt-out\n"
            ) in runs.said.stdout
    assert counts["actioned"] == counts["allocated"] + counts["holdout"] + \
        counts["not_served"] + counts["suppressed"]


def test_the_briefs_account_for_every_customer_of_the_segment(runs: Runs) -> None:
    actions = pd.read_csv(runs.second / "actions.csv", dtype=str, keep_default_na=False)
    gone = actions[actions["status"] == "suppressed"]
    camp = gone["campaign"].value_counts().index[0]
    part = actions[actions["campaign"] == camp]
    n = len(gone[gone["campaign"] == camp])
    text = (runs.second / "briefs" / f"{camp}.md").read_text()
    assert f"| in the segment | {len(part):,} |" in text
    assert f"| suppressed by a contact policy or an opt-out | {n:,} |" in text
    email = (gone["campaign"] == camp) & gone["reason"].str.contains("policy email_weekly:")
    assert f"| &nbsp;&nbsp;email_weekly | {int(email.sum()):,} |" in text
    html = (runs.second / "briefs" / f"{camp}.html").read_text()
    assert ('<tr><td>suppressed by a contact policy or an opt-out</td>'
            f'<td class="n">{n:,}</td></tr>' in html)


def test_the_report_counts_the_suppressed(runs: Runs) -> None:
    from engine.report.sections import latest_run

    counts = manifest(runs.second)["counts"]
    assert isinstance(counts, dict)
    statuses = dict(latest_run(runs.second, "run2").statuses)
    assert statuses == {s: counts[s] for s in ("allocated", "holdout", "not_served",
                                               "suppressed")}
    assert sum(statuses.values()) == counts["actioned"]
    # without a suppressed customer, the statuses as before
    assert "suppressed" not in dict(latest_run(runs.first, "run1").statuses)


def test_the_run_id_covers_the_history_read(runs: Runs, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(runs.tmp / "h.sqlite"))
    second = manifest(runs.second)["run_id"]
    assert manifest(runs.first)["run_id"] != second
    # re-made on the same date with the same history before it: the same id, same decisions
    again = run(runs.project, tmp_path / "again")
    assert manifest(again)["run_id"] == second
    assert (again / "decisions.csv").read_bytes() == \
        (runs.second / "decisions.csv").read_bytes()
    # a response imported since: the history read differs, and so does the id
    (tmp_path / "r.csv").write_text("customer_id,campaign,date,outcome\n"
                                    "C000003,win_back,2025-12-29,converted\n")
    assert cvm("responses", "import", str(tmp_path / "r.csv"), "--project",
               str(runs.project)).exit_code == 0
    changed = run(runs.project, tmp_path / "changed")
    assert manifest(changed)["run_id"] not in (second, manifest(runs.first)["run_id"])
    # without the history, the id of the inputs alone: run1's, made on an empty history
    config = set_as_of(runs.project, "2025-12-28")
    try:
        alone = run(runs.project, tmp_path / "alone", "--no-history")
    finally:
        set_as_of(runs.project, None, config)
    assert manifest(alone)["run_id"] == manifest(runs.first)["run_id"]
