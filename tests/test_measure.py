"""cvm measure: each campaign of each recorded run against its holdout, from the history and
the transactions after the run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.history_runs import ROOT, cvm, retail_copy, run, set_as_of


@pytest.fixture
def retail(tmp_path: Path) -> Path:
    return retail_copy(tmp_path)


def test_measure_reports_each_campaign_with_an_interval(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    config = set_as_of(retail, "2025-09-01")
    run(retail, tmp_path / "run1")
    set_as_of(retail, None, config)
    done = cvm("measure", "--project", str(retail), "--out", str(tmp_path / "m"))
    assert done.exit_code == 0, done.stderr
    table = pd.read_csv(tmp_path / "m" / "measure.csv")
    acts = pd.read_csv(tmp_path / "run1" / "actions.csv")
    assert sorted(table["campaign"]) == sorted(acts["campaign"].unique())
    for row in table.itertuples():
        mine = acts[acts["campaign"] == row.campaign]
        assert row.treated == (mine["holdout"] == False).sum()  # noqa: E712
        assert row.holdout == (mine["holdout"] == True).sum()  # noqa: E712
        assert row.contacted == (mine["status"] == "allocated").sum()
        assert row.cost == pytest.approx(mine["cost"].sum(), abs=0.01)
        assert row.window_days == 30
        if row.verdict in ("significant", "not significant"):
            assert row.margin_low <= row.margin_uplift <= row.margin_high
        else:
            assert row.verdict.startswith("too early to tell: fewer than 30 customers")
    assert "margin uplift / customer (95% CI)" in done.stdout
    assert "win_back" in done.stdout
    shown = cvm("report", "--project", str(retail), "--out", str(tmp_path / "run1"), "-q")
    assert shown.exit_code == 0, shown.stderr
    html = (tmp_path / "run1" / "report" / "report.html").read_text()
    section = html.split("Campaigns measured against their holdouts", 1)[1].split("</table>")[0]
    assert section.count("<tr>") == len(table) + 1
    first = table.iloc[0]
    assert f"<td>{first['campaign']}</td><td>{first['treated']:,} / {first['holdout']:,}</td>" \
        in section
    # the conversion uplift in percentage points, as the terminal shows it (the report once
    # wrote +11.47% where the terminal said +11.47 pt)
    conv = f"{100 * first['conversion_uplift']:+.2f} pt"
    assert conv in done.stdout.splitlines()[1]
    assert f"<td>{conv}</td>" in section


def test_a_window_not_over_is_too_early_to_tell(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    done = cvm("run", "--project", str(retail), "--out", str(tmp_path / "run1"), "-q")
    assert done.exit_code == 0, done.stderr
    done = cvm("measure", "--project", str(retail), "--out", str(tmp_path / "m"), "-q")
    assert done.exit_code == 0, done.stderr
    table = pd.read_csv(tmp_path / "m" / "measure.csv", keep_default_na=False)
    # no day of the window in the data (the run is as of the day after the last transaction):
    # every outcome empty, not 0 (a new user read 'uplift 0.00' as a campaign that earned
    # nothing), the groups and the cost as recorded
    assert len(table) and table["verdict"].str.startswith(
        "too early to tell: the window starts 2026-01-01, after the last transaction "
        "(2025-12-31): nothing is measured yet").all()
    for column in ("conversion_treated", "conversion_uplift", "margin_uplift",
                   "incremental_margin", "incremental_revenue", "return_on_spend"):
        assert (table[column] == "").all(), column
    assert (table["treated"] > 0).all() and (table["cost"] != "").all()
    # conversions imported for the window are measured all the same (a reviewer: they were
    # blanked too, where learning counts them)
    actions = pd.read_csv(tmp_path / "run1" / "actions.csv", keep_default_na=False)
    treated = actions.loc[(actions["campaign"] == "win_back") & ~actions["holdout"],
                          "customer_id"].head(40)
    responses = tmp_path / "responses.csv"
    responses.write_text("customer_id,campaign,date,outcome\n" + "".join(
        f"{c},win_back,2026-01-05,converted\n" for c in treated))
    done = cvm("responses", "import", str(responses), "--project", str(retail), "-q")
    assert done.exit_code == 0, done.stderr
    done = cvm("measure", "--project", str(retail), "--out", str(tmp_path / "m"))
    assert done.exit_code == 0, done.stderr
    # those conversions name treated customers only: said (the holdout's were not imported)
    assert done.stderr == (
        "warning: run 1 (2026-01-01), campaign win_back: 40 of the treated converted by an "
        "imported response alone (no purchase in the window), and no response of the holdout "
        "is imported: if the responses come from a tool that knows only the customers it "
        "contacted, conversion_uplift counts them against nothing (margin_uplift and "
        "revenue_uplift are measured from the transactions alike for both groups)\n"
        "  hint: import the holdout's conversions too (the tool's whole audience), or read "
        "the margin and revenue uplifts\n"), done.stderr
    table = pd.read_csv(tmp_path / "m" / "measure.csv", keep_default_na=False)
    row = table[table["campaign"] == "win_back"].iloc[0]
    assert row["verdict"].startswith(
        "too early to tell: the window starts 2026-01-01, after the last transaction "
        "(2025-12-31): only the imported conversions are measured")
    assert float(row["conversion_treated"]) == round(40 / row["treated"], 4)
    assert (float(row["conversion_holdout"]), row["margin_uplift"]) == (0.0, "")
    # a holdout customer's conversion imported too: the tool knows both groups, nothing said
    held = actions.loc[(actions["campaign"] == "win_back") & actions["holdout"],
                       "customer_id"].iloc[0]
    responses.write_text(f"customer_id,campaign,date,outcome\n{held},win_back,2026-01-06,"
                         "converted\n")
    assert cvm("responses", "import", str(responses), "--project", str(retail),
               "-q").exit_code == 0
    done = cvm("measure", "--project", str(retail), "--out", str(tmp_path / "m"))
    assert (done.exit_code, done.stderr) == (0, "")


def test_measure_without_a_history_says_so(retail: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    done = cvm("measure", "--project", str(retail), "--out", str(tmp_path / "m"))
    assert done.exit_code == 1
    assert "there is no history to measure: no run has been recorded yet" in done.stderr


def test_measure_of_a_history_without_a_run_says_so(retail: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A history made by `cvm responses import` alone: exit 1 as without a history (it wrote
    an empty measure.csv and exited 0)."""
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    responses = tmp_path / "responses.csv"
    responses.write_text("customer_id,campaign,date,outcome\nC000005,win_back,2025-12-01,"
                         "converted\n")
    done = cvm("responses", "import", str(responses), "--project", str(retail), "-q")
    assert done.exit_code == 0, done.stderr
    done = cvm("measure", "--project", str(retail), "--out", str(tmp_path / "m"))
    assert (done.exit_code, done.stderr) == (1, (
        "error: there is no run to measure: the history holds no recorded run yet\n"
        "  hint: cvm run records each run (unless --no-history); measure after the campaigns' "
        "attribution windows\n"))
    assert not (tmp_path / "m").exists()


def test_the_attribution_window_is_checked(retail: Path) -> None:
    path = retail / "policies" / "campaigns.yaml"
    path.write_text(path.read_text().replace("holdout_share: 0.10 ",
                                             "attribution_days: 0\nholdout_share: 0.10 ", 1))
    done = cvm("validate", "--project", str(retail))
    assert done.exit_code == 1
    assert "policies/campaigns.yaml:3:19: attribution_days: found 0, expected a whole number " \
        "from 1 to 365" in done.stderr


def test_the_readme_lists_every_column_of_measure_csv() -> None:
    from engine.history.measure import NAMES

    section = (ROOT / "README.md").read_text().split("### Measuring campaigns", 1)[1]
    section = section.split("\n## ", 1)[0]
    listed = section.split("`measure.csv` (written", 1)[1].split("(declared once", 1)[0]
    assert [n for n in NAMES if f"`{n}`" not in listed] == []


def test_the_revenue_uplift_is_measured_as_the_margin_s(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """measure.csv gave revenue per group but no revenue uplift: a marketer asking what a
    campaign added to revenue had to work it out without an interval. Checked here against
    the formulas of the README written out in the test: each customer's revenue in the window
    and margin before it (from the transactions as loaded), CUPED, the interval."""
    import dataclasses
    import datetime as dt

    import numpy as np

    from engine.data.load import load_transactions
    from engine.project.config import load_config

    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    config = set_as_of(retail, "2025-09-01")
    run(retail, tmp_path / "run1")
    set_as_of(retail, None, config)
    done = cvm("measure", "--project", str(retail), "--out", str(tmp_path / "m"))
    assert done.exit_code == 0, done.stderr
    table = pd.read_csv(tmp_path / "m" / "measure.csv").set_index("campaign")
    acts = pd.read_csv(tmp_path / "run1" / "actions.csv", dtype={"customer_id": str})
    tx = load_transactions(dataclasses.replace(load_config(retail), as_of=None))
    rows = pd.DataFrame({"customer_id": tx.customer_ids[tx.code], "day": tx.day,
                         "amount": tx.amount, "margin": tx.margin})
    day0 = (dt.date(2025, 9, 1) - dt.date(1970, 1, 1)).days
    inside = rows[(rows["day"] >= day0) & (rows["day"] < day0 + 30)]
    earlier = rows[(rows["day"] >= day0 - 30) & (rows["day"] < day0)]
    revenue = inside.groupby("customer_id")["amount"].sum()
    before = earlier.groupby("customer_id")["margin"].sum()
    checked = 0
    for campaign, group in acts.groupby("campaign"):
        y = revenue.reindex(group["customer_id"]).fillna(0.0).to_numpy()
        x = before.reindex(group["customer_id"]).fillna(0.0).to_numpy()
        held = group["holdout"].to_numpy(dtype=bool)
        theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1) if np.var(x) > 0 else 0.0
        adjusted = y - theta * (x - x.mean())
        t, h = adjusted[~held], adjusted[held]
        lift = t.mean() - h.mean()
        row = table.loc[campaign]
        assert row["revenue_uplift"] == pytest.approx(lift, abs=0.006)
        if min(len(t), len(h)) > 1:
            se = np.sqrt(t.var(ddof=1) / len(t) + h.var(ddof=1) / len(h))
            assert row["revenue_low"] == pytest.approx(lift - 1.959964 * se, abs=0.006)
            assert row["revenue_high"] == pytest.approx(lift + 1.959964 * se, abs=0.006)
            checked += 1
        else:  # one customer has no variance: no interval
            assert (pd.isna(row["revenue_low"]), pd.isna(row["revenue_high"])) == (True, True)
        assert row["incremental_revenue"] == pytest.approx(lift * len(t), abs=0.006 * len(t))
    assert checked >= 3  # campaigns with an interval
    assert "incr. revenue" in done.stdout.splitlines()[0]


def test_a_run_is_measured_over_the_window_it_was_made_with(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An analyst's trial: attribution_days changed to 60 today, and the runs made with 30
    were measured over 60 days: every past uplift rewritten, said nowhere. A run keeps the
    windows it was made with (recorded with it); the new one applies to the runs after it."""
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    config = set_as_of(retail, "2025-09-01")
    run(retail, tmp_path / "run1")
    campaigns = retail / "policies" / "campaigns.yaml"
    campaigns.write_text(campaigns.read_text().replace(
        "holdout_share: 0.10 ", "attribution_days: 60\nholdout_share: 0.10 ", 1))
    set_as_of(retail, "2025-10-01", config)
    run(retail, tmp_path / "run2")
    set_as_of(retail, None, config)
    done = cvm("measure", "--project", str(retail), "--out", str(tmp_path / "m"))
    assert done.exit_code == 0, done.stderr
    table = pd.read_csv(tmp_path / "m" / "measure.csv")
    assert set(table.loc[table["as_of"] == "2025-09-01", "window_days"]) == {30}
    assert set(table.loc[table["as_of"] == "2025-10-01", "window_days"]) == {60}


def test_a_run_recorded_before_the_history_kept_windows_is_measured_over_today_s() -> None:
    import numpy as np

    from engine.history.measured import Measured
    from engine.project.config import load_config
    from engine.run.build import load_setup

    setup = load_setup(load_config(ROOT)).channels
    empty = np.zeros(0, dtype=np.int64)
    m = Measured([], empty, empty, np.zeros(0, dtype=object), empty, [], empty, [],
                 np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), np.zeros(0),
                 pd.DataFrame(), windows={2: {"win_back": 60}})
    assert m.window(2, "win_back", setup) == 60  # as recorded with run 2
    assert m.window(1, "win_back", setup) == setup.campaign("win_back").attribution_days == 30


def test_measure_says_which_runs_it_measured_over_today_s_windows(
        retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The analyst's re-trial: runs recorded before the history kept their windows were
    measured over today's campaigns.yaml, which README says and cvm measure did not."""
    import sqlite3

    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    config = set_as_of(retail, "2025-09-01")
    run(retail, tmp_path / "run1")
    set_as_of(retail, "2025-10-01", config)
    run(retail, tmp_path / "run2")
    set_as_of(retail, None, config)
    with sqlite3.connect(tmp_path / "h.sqlite") as conn:  # run 1 as an older engine made it
        conn.execute("UPDATE cvm_runs SET windows = NULL WHERE id = 1")
    done = cvm("measure", "--project", str(retail), "--out", str(tmp_path / "m"))
    assert done.exit_code == 0, done.stderr
    assert ("note: run 1 was recorded before the history kept each run's attribution windows: "
            "measured over today's policies/campaigns.yaml") in done.stdout.splitlines()
