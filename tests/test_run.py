"""``cvm run`` on the bundled example: limits hold, holdouts, determinism, formats, API."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from engine import api
from engine.activation.actions_schema import dumps
from engine.cli import app
from tests.conftest import GoldenRun, copy_example_project

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> api.RunResult:  # type: ignore[name-defined]
    return api.run(ROOT, out=tmp_path_factory.mktemp("run") / "out")


def test_limits_consent_and_tiers(result) -> None:  # type: ignore[no-untyped-def]
    actions, table = result.actions, result.computed.table
    channels = yaml.safe_load((ROOT / "policies" / "channels.yaml").read_text())["channels"]
    done = actions[actions["status"] == "allocated"]
    for ch in channels:
        part = done[done["channel"] == ch["id"]]
        assert len(part) <= ch["capacity"]
        assert part["cost"].sum() <= ch["budget"] + 1e-9
        consent = table.set_index("customer_id").loc[part["customer_id"], ch["consent"]]
        assert consent.all(), f"contacted on {ch['id']} without {ch['consent']}"
        assert part["service_level"].isin(ch["service_levels"]).all()
    strength = {ch["id"]: ch["relationship_strength"] for ch in channels}
    touch = done.assign(s=done["channel"].map(strength)).groupby("value_tier")["s"].mean()
    assert touch["platinum"] > touch["gold"] > touch["silver"] > touch["bronze"]


def test_holdout_shares(result) -> None:  # type: ignore[no-untyped-def]
    actions = result.actions
    assert not actions.loc[actions["holdout"], "channel"].notna().any()
    share = actions.groupby("campaign")["holdout"].mean()
    sizes = actions.groupby("campaign").size()
    for camp, s in share.items():
        # binomial: within 4 standard deviations of the configured 10%
        assert abs(s - 0.10) <= 4 * (0.1 * 0.9 / sizes[camp]) ** 0.5, camp
    assert abs(actions["holdout"].mean() - 0.10) < 0.03


def test_every_customer_has_stage_and_decision(result) -> None:  # type: ignore[no-untyped-def]
    table, decisions = result.computed.table, result.computed.decisions
    assert len(decisions) == len(table) == 2000
    assert table["lifecycle_stage"].notna().all()
    assert table["lifecycle_stage"].nunique() == 5
    assert decisions["action"].astype(object).nunique() >= 4


def test_briefs_agree_with_action_list(result) -> None:  # type: ignore[no-untyped-def]
    actions = result.actions
    brief = (result.folder / "briefs" / "retain_high_value.md").read_text()
    part = actions[actions["campaign"] == "retain_high_value"]
    done = part[part["status"] == "allocated"]
    assert f"| in the segment | {len(part):,} |" in brief
    assert f"| contacted | {len(done):,} |" in brief
    assert f"Budget used: EUR {done['cost'].sum():,.2f} of EUR 2,000.00" in brief
    html = (result.folder / "briefs" / "retain_high_value.html").read_text()
    assert html.startswith("<!doctype html>") and "Holdout design" in html


def test_schema_file_is_generated_and_outputs_conform(golden_run: GoldenRun, result) -> None:  # type: ignore[no-untyped-def]
    assert (ROOT / "engine" / "schemas" / "actions.schema.json").read_text() == dumps()
    schema = json.loads(dumps())
    # `cvm run --format jsonl` and `--format parquet` on a copy of this example: run once for
    # the session by tests/golden (tests/conftest.py)
    runs = golden_run.tmp / "out" / "retail"
    lines = (runs / "run-jsonl" / "actions.jsonl").read_text().splitlines()
    assert len(lines) == len(result.actions)
    for line in lines[:300]:
        jsonschema.validate(json.loads(line), schema)
    assert list(pd.read_parquet(runs / "run-parquet" / "actions.parquet").columns) == \
        list(schema["required"])


def test_two_runs_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = tmp_path / "history.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    for name in ("a", "b"):  # the history is an input too: each run starts from an empty one
        history.unlink(missing_ok=True)
        res = runner.invoke(app, ["run", "--project", str(ROOT), "--out", str(tmp_path / name),
                                  "--quiet"])
        assert res.exit_code == 0, res.stderr
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                   if p.is_file())
    assert len(files) >= 10
    for rel in files:
        a, b = (tmp_path / "a" / rel).read_bytes(), (tmp_path / "b" / rel).read_bytes()
        if rel.name == "manifest.json":
            ma, mb = json.loads(a), json.loads(b)
            ma.pop("created_at"), mb.pop("created_at")
            assert ma == mb
        else:
            assert a == b, rel


_project = copy_example_project


BAD = [
    ("negative_budget", "policies/channels.yaml", ("    budget: 1500\n", "    budget: -5\n"),
     "error: policies/channels.yaml:15:13: channels[0].budget: found -5, expected a number of "
     "at least 0\n  hint: a negative number is never one here: write it without the minus "
     "sign"),
    ("capacity_not_number", "policies/channels.yaml", ("    capacity: 40\n",
                                                        "    capacity: lots\n"),
     "error: policies/channels.yaml:14:15: channels[0].capacity: found 'lots' (text), expected "
     "a whole number of at least 0"),
    ("template_syntax", "templates/brief.md.j2", ("## Objective\n", "## Objective {% if %}\n"),
     "error: templates/brief.md.j2:6: template syntax error: Expected an expression, got "
     "'end of statement block'\n  hint: Jinja2's syntax: {{ expression }}, {% tag %}, and "
     "each {% if %}, {% for %}, {% macro %} closed by its {% endif %}, {% endfor %}, "
     "{% endmacro %}"),
]


@pytest.mark.parametrize(("name", "file", "change", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_leaves_earlier_output(tmp_path: Path, name: str, file: str,
                                         change: tuple[str, str], expected: str) -> None:
    project = _project(tmp_path)
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"]).exit_code == 0
    before = (out / "actions.csv").read_bytes()
    path = project / file
    text = path.read_text()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1))
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "-q"])
    assert res.exit_code == 1
    assert res.stderr.strip() == expected
    assert (out / "actions.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "p"]  # no temporary left


def test_undeclared_channel_in_policy(tmp_path: Path) -> None:
    project = _project(tmp_path)
    path = project / "policies" / "win_back.yaml"
    path.write_text(path.read_text().replace("[direct_mail, email, sms]",
                                             "[direct_mail, emial, sms]"))
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "policies/win_back.yaml:" in res.stderr
    assert "'emial'" in res.stderr and "did you mean 'email'?" in res.stderr
    assert not (tmp_path / "o").exists()


def test_sandbox_escape_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path)
    path = project / "templates" / "brief.md.j2"
    path.write_text(path.read_text() + "{{ campaign.__class__.__mro__[1].__subclasses__() }}\n")
    res = runner.invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 1
    assert res.stderr.startswith("error: templates/brief.md.j2:")
    assert "sandbox" in res.stderr or "unsafe" in res.stderr or "__class__" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def test_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = runner.invoke(app, ["run", "-p", str(ROOT), "-o", str(blocker / "out"), "-q"])
    assert res.exit_code == 3
    assert res.stderr.startswith("error: ")
    assert "cannot write here" in res.stderr


def test_bad_format_option() -> None:
    res = runner.invoke(app, ["run", "-p", str(ROOT), "--format", "xml"])
    assert res.exit_code == 2  # a usage error (README "Exit codes")
    assert res.stderr.strip() == ("error: --format: found 'xml', expected one of csv, jsonl, "
                                  "parquet")
