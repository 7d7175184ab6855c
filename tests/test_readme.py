"""Every example in the README is run or checked here, so the README stays true."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from engine.config import load_config
from engine.schema import markdown_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
runner = CliRunner()


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_column_table_matches_schema() -> None:
    assert markdown_table() in README


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(b.strip() for b in _bash_blocks() if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_config_example_is_valid(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(name: Retail example.*?)```", README, flags=re.S)
    assert block is not None
    (tmp_path / "cvm.yaml").write_text(block.group(1))
    config = load_config(tmp_path)
    assert config.data.columns["amount"] == "NetAmount"
    assert config.data.consents == {"email": "EmailOptIn"}


def test_main_command_on_bundled_example(tmp_path: Path) -> None:
    main = next(b.strip() for b in _bash_blocks() if "cvm " in b and "pytest" not in b)
    command = main.split(".venv/bin/cvm ", 1)[1].split()
    out = tmp_path / "out"
    assert command == ["run"]
    result = runner.invoke(app, [*command, "--project", str(ROOT), "--out", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    assert "2,000 customers as of 2026-01-01" in result.stdout
    for name in ("actions.csv", "decisions.csv", "allocation_summary.csv", "manifest.json",
                 "briefs/retain_high_value.md", "briefs/retain_high_value.html"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "customers.csv")
    required = ["customer_id", "first_purchase", "last_purchase", "recency_days", "tenure_days",
                "frequency", "orders", "revenue", "avg_order_value", "gross_margin",
                "historic_value", "retention_rate", "clv_simple", "clv_discounted",
                "potential_value", "influence_value", "total_value", "value_score",
                "value_tier", "growth_headroom"]
    assert set(required) <= set(table.columns)
    assert table["customer_id"].is_unique
    assert set(table["value_tier"]) == {"platinum", "gold", "silver", "bronze"}
    assert (table["influence_value"] > 0).any()
    parquet = pd.read_parquet(out / "customers.parquet")
    assert list(parquet.columns) == list(table.columns)


def test_score_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = runner.invoke(app, ["score", "--project", str(ROOT), "--out",
                                     str(tmp_path / name), "--quiet"])
        assert result.exit_code == 0
    for file in ("customers.csv", "customers.parquet"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_cdnow_example_scores(tmp_path: Path) -> None:
    project = tmp_path / "cdnow"
    shutil.copytree(ROOT / "examples" / "cdnow", project)
    result = runner.invoke(app, ["score", "--project", str(project), "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    assert "Scored 23,502 customers as of 1998-07-01" in result.stdout
    assert "margin assumed at margin_rate 0.3" in result.stdout
