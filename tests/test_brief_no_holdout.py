"""A campaign without a holdout (holdout_share 0): its brief says so, and that it cannot be
measured, instead of telling the reader to compare with a holdout group that is empty."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()


@pytest.mark.parametrize("example", [None, "cdnow", "subscription"])
def test_a_campaign_without_a_holdout_is_said_to_have_none(tmp_path: Path,
                                                           example: str | None) -> None:
    """A marketer's trial: with holdout_share 0 the brief said '0 of the 132 customers ...
    are held out', then to measure the campaign against the holdout. The examples' own
    briefs also said to compare with the contacted customers, which the main template
    warns against."""
    if example is None:
        project = copy_example_project(tmp_path)
    else:
        project = tmp_path / example
        for name in ("rules", "policies", "templates", "cvm.yaml"):
            src = ROOT / "examples" / example / name
            if src.is_dir():
                shutil.copytree(src, project / name)
            else:
                text = src.read_text()
                data = next(line.split(":", 1)[1].strip().split()[0] for line in
                            text.splitlines() if line.strip().startswith("transactions:"))
                (project / name).write_text(text.replace(
                    f"transactions: {data}", f"transactions: {ROOT / 'examples' / example / data}"))
    campaigns = project / "policies" / "campaigns.yaml"
    text = campaigns.read_text()
    head = next(line for line in text.splitlines() if line.startswith("holdout_share:"))
    campaigns.write_text(text.replace(head, "holdout_share: 0", 1)
                         .replace("    holdout_share: 0.10\n", ""))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "-p", str(project), "--no-history", "-q", "--out",
                                 str(out)])
    assert result.exit_code == 0, result.stderr
    briefs = sorted((out / "briefs").glob("*.md"))
    assert briefs
    for brief in briefs:
        text = brief.read_text()
        section = text.split("## Holdout design\n", 1)[1].split("## ", 1)[0]
        assert section.strip() == (
            "No holdout: the campaign's holdout_share is 0, so every customer assigned to it "
            "may be contacted and no group is left alone to measure it against (`cvm measure` "
            "has nothing to compare with). Set holdout_share for the campaign in "
            "policies/campaigns.yaml to measure what it earns."), brief.name
        html = brief.with_suffix(".html").read_text()
        assert "intention to treat" not in html and "No holdout: the campaign's" in html
