"""A customer's preferred_channel that no channel's preferred_as lists gets no preference lift:
`cvm run` and `cvm validate --audience` say how many customers, and which values (a CRM writing
``Phone`` where policies/channels.yaml lists ``phone`` lost every such customer's lift, unsaid)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine import api
from engine.activation.preferences import unmatched_preferences
from engine.cli import app
from tests.conftest import ROOT, copy_example_project

NOTE = ("note: 211 customers prefer a channel that no channel's preferred_as in "
        "policies/channels.yaml lists: 'Phone' (211): no preference lift for them "
        "(preferred_as is matched with its letter case: 'Phone' is not 'phone')")


def _with_phone_capitalised(tmp_path: Path) -> Path:
    project = copy_example_project(tmp_path)
    customers = (ROOT / "examples" / "retail" / "customers.csv").read_text()
    (project / "customers.csv").write_text(customers.replace(",phone,", ",Phone,"))
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(f"{ROOT}/examples/retail/customers.csv",
                                                 "customers.csv"))
    return project


def test_run_and_the_audience_say_the_preferences_no_channel_lists(tmp_path: Path) -> None:
    project = _with_phone_capitalised(tmp_path)
    run = CliRunner().invoke(app, ["run", "-p", str(project), "--no-history"])
    assert run.exit_code == 0, run.output
    assert f"  {NOTE}\n" in run.stdout
    sizes = CliRunner().invoke(app, ["validate", "--audience", "-p", str(project)])
    assert sizes.exit_code == 0, sizes.output
    assert f"\n{NOTE}\n" in sizes.stdout


def test_the_note_names_the_most_frequent_values_first() -> None:
    channels = api.load_project(ROOT).channels
    values = pd.Series(["phone", "Tel", "fax", "fax", None, "", "sms ", "Tel", "Tel", "SMS"])
    assert unmatched_preferences(values, channels) == (
        "7 customers prefer a channel that no channel's preferred_as in policies/channels.yaml "
        "lists: 'Tel' (3), 'fax' (2), 'SMS' (1), ...: no preference lift for them "
        "(preferred_as is matched with its letter case: 'SMS' is not 'sms')")
    assert unmatched_preferences(pd.Series(["phone", None, ""]), channels) is None


def test_the_readme_quotes_the_note() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"`{NOTE}`" in readme
