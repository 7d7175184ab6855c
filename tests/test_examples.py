"""Every bundled example runs every command: the repository root (the retail example),
examples/cdnow and examples/subscription. Each command writes into a temporary folder; the
examples are not changed.

The commands tests/golden runs on every example (validate, score, decide, explain, run, report,
fit, plan), and what they write, are checked there, byte for byte, and so is that they leave the
example's own files as they were; here, the ones it does not run: the workflow commands, the
--json documents, and cvm init --from the example's transactions with its scaffold validated.
On CDNOW, cvm run too, for what README "Allocation" says it prints and writes."""

from __future__ import annotations

import csv
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from tests.shared_runs import SharedCommands

if TYPE_CHECKING:
    from tests.conftest import GoldenRun

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = dict(enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight")))
# (project folder, a customer id to explain, a policy file and a change to propose)
EXAMPLES = {
    "retail": (ROOT, "C000001", "policies/win_back.yaml", ("clv_discounted: {gte: 25}",
                                                           "clv_discounted: {gte: 5}")),
    "cdnow": (ROOT / "examples" / "cdnow", "00001", "policies/win_back.yaml",
              ("clv_discounted: {gte: 10}", "clv_discounted: {gte: 2}")),
    "subscription": (ROOT / "examples" / "subscription", "S00664", "policies/save_at_risk.yaml",
                     ("churn_risk: {gte: 0.085}", "churn_risk: {gte: 0.07}")),
}


def _transactions(project: Path) -> Path:
    data = yaml.safe_load((project / "cvm.yaml").read_text())["data"]
    return project / data["transactions"]


def _fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("cvm.yaml", "rules", "policies", "templates", "policy_tests")
            for p in ([folder / sub] if (folder / sub).is_file() else
                      sorted((folder / sub).rglob("*"))) if p.is_file()}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_command_runs_on_every_example(name: str, tmp_path: Path,
                                             shared_commands: SharedCommands) -> None:
    project, customer, policy, (old, new) = EXAMPLES[name]
    before = _fingerprint(project)
    out = tmp_path / "out"
    base = ["--project", str(project)]
    commands = {
        # issue 17: the workflow commands and options (the others: tests/golden)
        "test": ["test", *base],
        "validate --audience --json": ["validate", "--audience", "--json", *base],
        "init --from": ["init", str(tmp_path / "init"), "--from", str(_transactions(project))],
        "validate (the scaffold)": ["validate", "--strict", "--project", str(tmp_path / "init")],
    }
    if name == "cdnow":  # README "Allocation" quotes this run
        commands["run"] = ["run", *base, "--out", str(out / "run")]
    printed = {}
    for command, args in commands.items():
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, f"cvm {command} on {name}: {result.stderr}"
        printed[command] = result.stdout
    # the --json documents: run once for the session, as tests/test_json_output.py runs them
    shared = {"explain --json": shared_commands.explain_json(project, customer),
              "score --json": shared_commands.score_json(project),
              "fit --json": shared_commands.fit_json(project),
              "plan --json": shared_commands.plan_json(project, policy, old, new)}
    for command, done in shared.items():
        assert done.exit_code == 0, f"cvm {command} on {name}: {done.stderr}"
        assert done.changed == (), f"cvm {command} changed {name}'s files: {done.changed}"
    if name == "cdnow":
        _check_the_readme_on_cdnow_allocation(printed["run"], out / "run")
    assert (shared["score --json"].out / "customers.csv").is_file()
    assert (shared["fit --json"].out / "fit" / "params.json").is_file()
    assert (tmp_path / "init" / "cvm.yaml").is_file()
    assert _fingerprint(project) == before  # nothing of the example was changed


def _check_the_readme_on_cdnow_allocation(printed: str, run: Path) -> None:
    """README "Allocation" states what `cvm run --project examples/cdnow` gives: the summary
    line it prints, the binding limit with its price, the value, the bound and the gap."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    line = next(x.strip() for x in printed.splitlines() if x.strip().startswith("actioned "))
    assert f"`cvm run --project examples/cdnow` prints `{line}`" in readme
    manifest = json.loads((run / "manifest.json").read_text())
    alloc, prices = manifest["allocation"], manifest["allocation_prices"]
    assert list(prices) == ["campaign:retain_high_value"]
    used = next(row for row in csv.DictReader((run / "allocation_summary.csv").open())
                if row["level"] == "campaign" and row["campaign"] == "retain_high_value")
    assert (f"the budget of the campaign `retain_high_value` (USD {float(used['cost']):,.2f} of "
            f"USD {float(used['budget']):,.2f}, priced at {prices['campaign:retain_high_value']}"
            " per unit of budget)") in readme
    assert (f"expected value is {alloc['expected_value']:,.2f} against an upper bound of "
            f"{alloc['upper_bound']:,.2f} (`gap_to_upper_bound` {alloc['gap_to_upper_bound']}, "
            f"{alloc['gap_to_upper_bound']:.3%})") in readme


def test_cdnow_example_is_honest_about_consents() -> None:
    """CDNOW has no consent data: its channels require none, and its README says so."""
    channels = yaml.safe_load((ROOT / "examples" / "cdnow" / "policies" / "channels.yaml")
                              .read_text())["channels"]
    assert all("consent" not in channel for channel in channels)
    readme = (ROOT / "examples" / "cdnow" / "README.md").read_text()
    assert "no consent" in readme


def test_the_readme_on_the_allocation_summary_s_rounding(golden_run: GoldenRun) -> None:
    """README "Allocation": the allocation summary's total, its campaigns each rounded to the
    cent from its contacts' values at four decimals, can differ from the manifest's exact
    expected value by a few cents: half a cent per campaign, half a cent of the manifest's own
    rounding and 0.00005 per contact at most; with the retail example's own figures (a trial
    read "by a cent" and found two)."""
    run = golden_run.tmp / "out" / "retail" / "run"
    exact = json.loads((run / "manifest.json").read_text())["allocation"]["expected_value"]
    campaigns = [row for row in csv.DictReader((run / "allocation_summary.csv").open())
                 if row["level"] == "campaign"]
    total = sum(Decimal(row["expected_value"]) for row in campaigns)
    contacts = sum(int(row["contacts"]) for row in campaigns)
    assert abs(total - Decimal(str(exact))) <= (Decimal("0.005") * (len(campaigns) + 1)
                                                + Decimal("0.00005") * contacts)
    readme = " ".join((ROOT / "README.md").read_text().split())
    said = (f"the two agree, {exact:,.2f} over" if total == Decimal(str(exact)) else
            f"{total:,.2f} against {exact:,.2f},")
    assert (f"can differ from it by a few cents; on the retail example {said} "
            f"{NUMBERS[len(campaigns)]} campaigns)") in readme


def test_a_subscription_s_orders_are_its_payments(golden_run: GoldenRun) -> None:
    """README "Subscriptions and contracts": payments carry no order id, whatever `order_id`
    names (the example names the contract), so `orders` counts the days with a payment; a
    trial read "Distinct order ids" and expected one order per contract."""
    import pandas as pd

    contracts = pd.read_csv(ROOT / "examples" / "subscription" / "contracts.csv")
    table = pd.read_csv(golden_run.tmp / "out" / "subscription" / "score" / "customers.csv",
                        dtype={"customer_id": str}).set_index("customer_id")
    per_contract = contracts.groupby(contracts["customer_id"].astype(str))["contract_id"].nunique()
    assert (table["orders"] == table["frequency"] + 1).all()  # one per day with a payment
    assert (table["orders"] > per_contract.reindex(table.index)).any()
    assert (table["avg_order_value"] - table["revenue"] / table["orders"]).abs().max() < 0.006
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert ("payments carry no order id, whatever `order_id` names (it tells duplicate contract "
            "rows apart, `data.duplicates`), so `orders` counts the days with a payment and "
            "`avg_order_value` is the revenue per such day") in readme
