"""The allocation as `cvm run` does it: the manifest says how it was priced and how close it is
to its bound, progress shows its steps, and relationship_weight is checked like any setting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from engine.activation.allocate import allocate, build_options
from engine.cli import app
from engine.project.channels import Campaign, Channel, ChannelSetup
from tests.conftest import copy_example_project
from tests.shared_runs import SharedCommands

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_manifest_and_progress_report_the_allocation(shared_commands: SharedCommands) -> None:
    res = shared_commands.run_example(ROOT)  # `cvm run`, once for the session
    assert res.exit_code == 0, res.stderr
    actions = pd.read_csv(res.out / "actions.csv")
    manifest = json.loads((res.out / "manifest.json").read_text())
    alloc = manifest["allocation"]
    contacted = actions[~actions["holdout"]]
    blocked = contacted["reason"].fillna("").str.startswith(("capacity", "budget"))
    with_option = int((contacted["status"] == "allocated").sum() + blocked.sum())
    assert alloc["customers"] == len(contacted)
    assert alloc["customers_with_options"] == with_option
    assert alloc["prices"] == (f"linear programme on all {with_option:,} customers with an "
                               "option (10,000 at most)")
    # the manifest sums the exact values, the action list shows each to 4 decimals
    assert abs(alloc["expected_value"] - float(actions["expected_value"].sum())) \
        <= 0.005 + 0.00005 * len(actions)
    assert alloc["upper_bound"] >= alloc["expected_value"]
    assert alloc["gap_to_upper_bound"] == round(
        (alloc["upper_bound"] - alloc["expected_value"]) / alloc["upper_bound"], 6)
    assert f"allocate: prices from the linear programme on {with_option:,} of " \
        f"{with_option:,} customers ..." in res.stderr
    assert "best score first ..." in res.stderr


def test_relationship_weight_is_checked(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    path = project / "policies" / "channels.yaml"
    path.write_text(path.read_text().replace("relationship_weight: 0.5\n",
                                             "relationship_weight: -1\n"))
    res = runner.invoke(app, ["validate", "-p", str(project)])
    assert res.exit_code == 1
    assert res.stderr.splitlines()[0] == ("error: policies/channels.yaml:8:22: "
                                          "relationship_weight: found -1, expected a number "
                                          "from 0 to 10")


def test_nothing_to_allocate() -> None:
    setup = ChannelSetup((Channel("x", "x", 1.0, 5, None, 0.5, 0.1, ("premium",), None, (), ""),),
                         1.5, "s", Campaign("*", "", None, 0.0, "clv", "", ()), {}, ())
    empty = pd.DataFrame({"customer_id": [], "channels": [], "campaign": [],
                          "service_level": []}, dtype=object)
    alloc = allocate(build_options(empty, empty[["customer_id"]], setup, np.zeros(0)), setup)
    assert len(alloc.channel) == 0
    assert alloc.method["prices"] == "none: no customer has an option worth a contact"
    assert alloc.method["upper_bound"] == 0.0 and alloc.method["gap_to_upper_bound"] == 0.0
