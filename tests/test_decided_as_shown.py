"""The tiers, stages and policies read the figures the value table shows: money rounded to
cents, other decimals to 6 places. Before, they read the unrounded figures: a customer shown
with clv_discounted 26.18 did not match `clv_discounted: {gte: 26.18}` (26.175013 underneath;
`cvm explain` said "clv_discounted is 26.175, needed at least 26.18" beside a value of 26.18),
and `cvm serve`, which reads the written table, could decide otherwise than the run. A total
is now the sum of its three parts as written (each part rounded on its own, the two could
differ by a cent)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

EDGE = """\
id: shown_value
description: the value table's clv_discounted, as shown
priority: 99
when:
  all:
    - clv_discounted: {gte: 26.18}
    - customer_id: {in: [C001491]}
then:
  action: edge_offer
  channels: [email]
"""


def test_a_policy_matches_the_value_the_table_shows(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    (project / "policies" / "shown_value.yaml").write_text(EDGE)
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["run", "-p", str(project), "--no-history", "-o", str(out)])
    assert run.exit_code == 0, run.output
    table = pd.read_csv(out / "customers.csv", dtype=str, keep_default_na=False)
    row = table.set_index("customer_id").loc["C001491"]
    assert row["clv_discounted"] == "26.18"
    decisions = pd.read_csv(out / "decisions.csv", dtype=str, keep_default_na=False)
    assert decisions.set_index("customer_id").loc["C001491", "policy_id"] == "shown_value"
    said = CliRunner().invoke(app, ["explain", "C001491", "-p", str(project)])
    assert "  yes shown_value " in said.stdout, said.stdout
    # every total is the sum of its parts as written
    parts = [[Decimal(x) for x in table[c]] for c in ("historic_value", "potential_value",
                                                      "influence_value", "total_value")]
    assert [i for i, (h, p, f, t) in enumerate(zip(*parts, strict=True))
            if h + p + f != t] == []
