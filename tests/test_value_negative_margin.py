"""A customer whose refunds outweigh the margin of their purchases in the export window (the
purchase fell before the window, the refund inside): the models give them a negative future
margin per purchase, as the formulas do, instead of failing the whole run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project


def test_refunds_beyond_margin_do_not_fail_the_models(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    tx = pd.read_csv(ROOT / "examples" / "retail" / "transactions.csv")
    tx = tx[pd.to_datetime(tx["OrderDate"]).dt.day <= 12]  # cuts purchases, keeps refunds
    tx.to_csv(project / "tx.csv", index=False)
    config = project / "cvm.yaml"
    text = config.read_text()
    config.write_text(text.replace(f"{ROOT}/examples/retail/transactions.csv", "tx.csv", 1)
                      + "models:\n  use: mbgnbd\n")
    result = CliRunner().invoke(app, ["score", "--project", str(project), "--out",
                                      str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "customers.csv")
    losing = table[table["gross_margin"] < 0]
    assert len(losing) > 0  # the case this test is about is in the data
    repeat = losing[losing["frequency"] > 0]
    assert len(repeat) > 0
    # their model value is a loss, never a gain, and its interval holds the estimate
    assert (repeat["clv_model"] <= 0).all()
    assert np.all(repeat["clv_model_lower"] <= repeat["clv_model"])
    assert np.all(repeat["clv_model"] <= repeat["clv_model_upper"])
    loss = repeat[repeat["clv_model"] < 0]
    assert len(loss) > 0 and (loss["clv_model_lower"] < loss["clv_model"]).all()
    assert (loss["clv_model_upper"] < 0).all()  # a loss interval stays on the side of losses
