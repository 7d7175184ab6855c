"""Issue 15's new-user trial of subscription projects: the starter rules `cvm init` writes for a
contracts file, the example's unreachable `decline` stage and the warning that finds such a
rule, the note on the default as-of date of contracts, and what the report's "Sum of CLV" of a
subscription project holds. In process, on the example's contracts (3,000 customers)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.commands.validate import check
from engine.policy.decisions import decide
from engine.run.build import load_project
from engine.run.pipeline import staged
from engine.value.score import score
from engine.workflow import audience as aud
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "subscription"


def _decided(folder: Path) -> tuple[object, object]:
    setup = load_project(folder)
    scored = score(setup.config, tiers=setup.tiers)
    table = staged(setup.config, setup, scored, history=False)
    return table, decide(table, setup.rulebook)


def test_init_from_contracts_writes_subscription_starter_rules(tmp_path: Path) -> None:
    folder = tmp_path / "subs"
    result = CliRunner().invoke(app, ["init", str(folder), "--from",
                                      str(EXAMPLE / "contracts.csv")])
    assert result.exit_code == 0, result.output
    lifecycle = (folder / "rules" / "lifecycle.yaml").read_text(encoding="utf-8")
    assert "p_alive: {lte: 0}" in lifecycle  # the first rule: no running contract -> exit
    assert "one_time_lapsed" not in lifecycle
    assert not (folder / "policies" / "one_time_big_buyer.yaml").exists()
    table, decisions = _decided(folder)
    gone = (table["p_alive"] == 0).to_numpy()
    assert gone.sum() == 2002  # no running contract at the as-of date (the default, 2025-12-16)
    assert set(table.loc[gone, "lifecycle_stage"]) == {"exit"}
    actions = set(decisions.loc[gone, "action"].astype(object).dropna())
    assert not actions & {"nurture", "retain", "develop", "cross_sell"}, actions
    # the running ones are never in exit, and the starter policy tests hold
    assert "exit" not in set(table.loc[~gone, "lifecycle_stage"])
    tested = CliRunner().invoke(app, ["test", "-p", str(folder)])
    assert tested.exit_code == 0, tested.output


def test_a_purchase_file_still_gets_the_purchase_starter(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    result = CliRunner().invoke(app, ["init", str(folder), "--from",
                                      str(ROOT / "examples" / "retail" / "transactions.csv")])
    assert result.exit_code == 0, result.output
    # (its editor line names the project's own copy of the schemas: cvm init writes it)
    assert (folder / "rules" / "lifecycle.yaml").read_bytes() == \
        (ROOT / "rules" / "lifecycle.yaml").read_bytes().replace(b"../engine/schemas/",
                                                                 b"../schemas/")


def test_every_example_lifecycle_rule_gives_a_stage(tmp_path: Path) -> None:
    project = tmp_path / "sub"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("output"))
    sizes = aud.audience(load_project(project))
    rules = {r.id: r for r in sizes.rows if r.kind == "stage_rule"}
    assert all(r.wins for r in rules.values()), rules
    assert rules["at_risk"].wins == 98  # (3 more have booked their cancellation: cancelling)


def test_validate_audience_warns_of_a_rule_that_matches_but_never_wins(tmp_path: Path) -> None:
    project = tmp_path / "sub"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("output"))
    lifecycle = project / "rules" / "lifecycle.yaml"
    text = lifecycle.read_text(encoding="utf-8")
    lifecycle.write_text(text.replace("churn_risk: {gte: 0.085}", "churn_risk: {gte: 0.12}"),
                         encoding="utf-8")
    built = check(project, None)
    assert built.project is not None
    sizes = aud.audience(built.project)
    (problem,) = aud.unreached_rules(built.project.rulebook, sizes)
    line = next(i + 1 for i, s in enumerate(text.splitlines()) if s == "  - id: at_risk")
    assert problem.severity == "warning"
    assert problem.format() == (
        f"rules/lifecycle.yaml:{line}:5: rules[3]: rule 'at_risk' matches 2,122 of today's "
        "customers but gives none of them a stage: the rules above it match them all first\n"
        "  hint: if it should give them a stage, move it up or change its conditions or those "
        "of the rules above it; a rule kept last on purpose, for customers the rules above "
        "may leave, can stay")
    result = CliRunner().invoke(app, ["validate", "-p", str(project), "--audience"])
    assert result.exit_code == 0
    assert "rule 'at_risk' matches 2,122 of today's customers" in result.stderr
    strict = CliRunner().invoke(app, ["validate", "-p", str(project), "--audience", "--strict"])
    assert strict.exit_code == 1


def _default_as_of(tmp_path: Path) -> Path:
    project = tmp_path / "sub"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("output"))
    config = project / "cvm.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "as_of: 2026-01-01", "as_of: null"), encoding="utf-8")
    # two contracts that started before the last start and end after it
    rows = (project / "contracts.csv").read_text(encoding="utf-8").splitlines()
    head = rows[0].split(",")
    for i in (1, 2):
        cells = rows[i].split(",")
        cells[head.index("end_date")] = "2026-03-0" + str(i)
        rows[i] = ",".join(cells)
    (project / "contracts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return project


# the two changed above, the seven of the example that end on 2025-12-31, the default as-of,
# and its 31 cancellations booked in the 14 days after 2026-01-01
NOTE = ("40 contracts end on or after the as-of date 2025-12-31 (latest end 2026-03-02): they "
        "are running at it; set as_of to value at a later date (the default is the day after "
        "the last contract start)")


def test_default_as_of_of_contracts_says_which_ends_come_after_it(tmp_path: Path) -> None:
    project = _default_as_of(tmp_path)
    setup = load_project(project)
    scored = score(setup.config, tiers=setup.tiers)
    assert str(scored.as_of) == "2025-12-31"
    assert scored.report.as_of_note == NOTE
    out = CliRunner().invoke(app, ["score", "-p", str(project), "--out", str(tmp_path / "o")])
    assert f"  note: {NOTE}" in out.stdout.splitlines()
    run = CliRunner().invoke(app, ["run", "-p", str(project), "--out", str(tmp_path / "r"),
                                   "--no-history"])
    assert run.exit_code == 0, run.output
    assert f"  note: {NOTE}" in run.stdout.splitlines()
    val = CliRunner().invoke(app, ["validate", "-p", str(project), "--audience"])
    assert f"note: {NOTE}" in val.stdout.splitlines()


def test_an_explicit_as_of_says_nothing(tmp_path: Path) -> None:
    setup = load_project(EXAMPLE)
    assert score(setup.config, tiers=setup.tiers).report.as_of_note == ""


def test_report_says_what_the_sum_of_clv_of_cancelled_subscribers_is(tmp_path: Path) -> None:
    from engine.report.html import build_report
    from engine.report.spend import Spend

    project = load_project(EXAMPLE, None, scope="report")
    html = build_report(project, spend=Spend(None), active_window_days=90,
                        run_folder=tmp_path / "none").html
    assert ("Sum of CLV is the formula&#39;s clv_discounted" in html
            or "Sum of CLV is the formula's clv_discounted" in html)
    assert ("which values a customer as if active now: for the 2,009 subscribers without a "
            "running contract (EUR 125,618 of it) it is what winning them back is worth, not "
            "value they will bring unasked") in html.replace("&#39;", "'")


def test_the_starter_fallback_is_one_guessed_billing_period(tmp_path: Path) -> None:
    rows = ["customer_id,start_date,end_date,weekly_fee"] + [
        f"C{i:03d},2024-0{1 + i % 9}-1{i % 10},{'' if i % 3 else '2024-11-30'},4.50"
        for i in range(60)]
    (tmp_path / "weekly.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["init", str(tmp_path / "p"), "--from",
                                      str(tmp_path / "weekly.csv")])
    assert result.exit_code == 0, result.output
    assert "billing_days: 7" in (tmp_path / "p" / "cvm.yaml").read_text(encoding="utf-8")
    lifecycle = (tmp_path / "p" / "rules" / "lifecycle.yaml").read_text(encoding="utf-8")
    assert "        - recency_days: {gt: 7}   # without the model: no payment in the last " \
        "billing period\n" in lifecycle
