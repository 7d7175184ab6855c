"""Words a new user's trial found wrong: `cvm run` said nothing of how margin was taken where
`cvm score` said "no cost or margin column: margin assumed at margin_rate 0.3"; "only 1 repeat
buyers"."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


def test_cvm_run_gives_the_margin_note_cvm_score_gives(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    text = config.read_text()
    line = next(x for x in text.splitlines(keepends=True) if x.strip().startswith("cost: Cost"))
    config.write_text(text.replace(line, ""))
    said = [runner.invoke(app, [*command, "-p", str(project)]) for command in (
        ["score", "-o", str(tmp_path / "score")],
        ["run", "-o", str(tmp_path / "run"), "--no-history"])]
    for result in said:
        assert result.exit_code == 0, result.output
    notes = [[x for x in r.stdout.splitlines() if "margin_rate" in x] for r in said]
    assert notes[0] == notes[1] == [
        "  note: no cost or margin column: margin assumed at margin_rate 0.3 of the amount"], \
        notes


def test_one_repeat_buyer_is_one() -> None:
    from engine.value.models.value_table import keeps_formulas

    assert keeps_formulas("auto", 1, 100) == \
        "only 1 repeat buyer, models.min_repeat_customers is 100"
    assert keeps_formulas("auto", 2, 100) == \
        "only 2 repeat buyers, models.min_repeat_customers is 100"


def test_one_customer_is_one(make_project: object, tmp_path: Path) -> None:
    """A new user's one-customer file: "Scored 1 customers"."""
    project = make_project(tx="cust,day,amount,cost\na,2024-01-05,100.00,60.00\n"  # type: ignore
                           "a,2024-03-10,50.00,30.00\na,2024-06-20,80.00,40.00\n")
    result = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Scored 1 customer as of 2024-07-01 from tx.csv\n")
