"""Every example in the README is run or checked here, so the README stays true."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from engine.project.config import load_config
from engine.project.schema import markdown_table
from tests.shared_runs import SharedCommands

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
runner = CliRunner()


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_column_table_matches_schema() -> None:
    assert markdown_table() in README


def test_ci_runs_the_readme_test_command() -> None:
    """Word for word, with one step between the install and the tests: .ci/run waits there
    for the packages it installs in the background (Chromium, PostgreSQL), after the main
    job's ruff and mypy."""
    test_command = next(b.strip() for b in _bash_blocks() if "pytest" in b)
    install, tests = test_command.split(" && .venv/bin/python -m pytest")
    run = f"{install} && before_tests && .venv/bin/python -m pytest{tests} || exit"
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert run in ci, run


def test_readme_config_example_is_valid(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(name: Retail example.*?)```", README, flags=re.S)
    assert block is not None
    (tmp_path / "cvm.yaml").write_text(block.group(1))
    config = load_config(tmp_path)
    assert config.data.columns["amount"] == "NetAmount"
    assert config.data.consents == {"email": "EmailOptIn"}


def test_main_command_on_bundled_example(shared_commands: SharedCommands) -> None:
    main = next(b.strip() for b in _bash_blocks() if "cvm " in b and "pytest" not in b)
    command = main.split(".venv/bin/cvm ", 1)[1].split()
    assert command == ["run"]
    # `cvm run --project ROOT --out OUT`, run once for the session (tests/shared_runs.py)
    result = shared_commands.run_example(ROOT)
    out = result.out
    assert result.exit_code == 0, result.stdout + result.stderr
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


def test_score_is_deterministic(tmp_path: Path, shared_commands: SharedCommands) -> None:
    # the first of the two scores: the session's `cvm score --json` (tests/shared_runs.py)
    first = shared_commands.score_json(ROOT)
    assert first.exit_code == 0
    result = runner.invoke(app, ["score", "--project", str(ROOT), "--out", str(tmp_path / "b"),
                                 "--quiet"])
    assert result.exit_code == 0
    for file in ("customers.csv", "customers.parquet"):
        assert (first.out / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_cdnow_example_scores(tmp_path: Path) -> None:
    project = tmp_path / "cdnow"
    shutil.copytree(ROOT / "examples" / "cdnow", project)
    result = runner.invoke(app, ["score", "--project", str(project), "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    assert "Scored 23,502 customers as of 1998-07-01" in result.stdout
    assert "margin assumed at margin_rate 0.3" in result.stdout


def _yaml_block(start: str) -> str:
    return next(b for b in re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
                if b.startswith(start))


def test_readme_channel_and_campaign_examples(tmp_path: Path) -> None:
    from engine.project.channels import load_channels
    from engine.project.schema import attribute_types

    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "channels.yaml").write_text(_yaml_block("preference_lift:"))
    (tmp_path / "policies" / "campaigns.yaml").write_text(_yaml_block("holdout_share:"))
    setup = load_channels(tmp_path, attribute_types(consents=["phone"]))
    assert setup.channel("call_centre").capacity == 150
    assert setup.campaign("retain_high_value").budget == 2000
    assert setup.campaign("other").holdout_share == 0.10


def test_readme_models_and_report_settings(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(name: Retail example.*?)```", README, flags=re.S)
    assert block is not None
    text = block.group(1) + _yaml_block("models:") + _yaml_block("report:")
    (tmp_path / "cvm.yaml").write_text(text)
    config = load_config(tmp_path)
    assert config.models.use == "auto" and config.models.min_repeat_customers == 100
    assert config.report.active_window_days == 180


def test_readme_api_example(tmp_path: Path) -> None:
    code = next(b for b in re.findall(r"```python\n(.*?)```", README, flags=re.S)
                if "api.run" in b)
    code = code.replace('"path/to/project"', repr(str(ROOT)))
    code = code.replace("api.run(" + repr(str(ROOT)) + ")",
                        "api.run(" + repr(str(ROOT)) + ", out=" + repr(str(tmp_path / "o")) + ")")
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # the README's own example
    result = namespace["result"]
    assert result.counts["customers"] == 2000  # type: ignore[attr-defined]
    assert (tmp_path / "o" / "actions.csv").exists()


def test_the_readme_gives_each_json_document_s_schema_version() -> None:
    """The README said "explain 5" while `cvm explain --json` printed version 6 (a new user's
    trial): its list of versions is SCHEMA_VERSIONS."""
    from engine.workflow.json_output import SCHEMA_VERSIONS

    text = " ".join((ROOT / "README.md").read_text().split())
    listed = text.split("(each document has its own: ", 1)[1].split(";", 1)[0]
    assert dict((k, int(v)) for k, v in (part.split() for part in listed.split(", "))) \
        == SCHEMA_VERSIONS


def test_the_setup_commands_upgrade_pip_first() -> None:
    """The pip of a new virtual environment is the one its Python was released with (23.0 on
    Python 3.10.13): its resolver parses every version of every file on the index, and the
    dev install took 91 s where pip 26 takes 45 s (in CI, each job). Both setup commands
    upgrade pip before installing."""
    setups = [b.strip() for b in _bash_blocks() if b.startswith("python3 -m venv .venv")]
    assert len(setups) == 2
    for setup in setups:
        assert setup.startswith("python3 -m venv .venv && .venv/bin/pip install -q -U pip && "
                                ".venv/bin/pip install -q -e "), setup


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_the_contents_list_every_section_with_its_anchor() -> None:
    """A 300 KB manual: its contents, near the top, name every section in order and link to
    it (a section added or renamed without its line here fails)."""
    text = README
    sections = re.findall(r"^## (.+)$", text, flags=re.M)
    listed = re.findall(r"^- \[(.+)\]\(#([^)]+)\)$", text.split("\n## Quick start", 1)[0],
                        flags=re.M)
    assert listed == [(s, _slug(s)) for s in sections], listed
    assert _slug("Your own data: `cvm.yaml`") == "your-own-data-cvmyaml"
