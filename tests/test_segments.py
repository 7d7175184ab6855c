"""Segments of rules/<name>.yaml: usable in conditions, visible in the tables and in explain."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InputError
from engine.policy.decisions import decide, decide_one_by_one
from engine.policy.explain import explain
from engine.policy.lifecycle import assign_stages
from engine.policy.validation import validate_rulebook
from engine.project.rulebook import load_rulebook
from engine.project.schema import attribute_types
from tests.conftest import copy_example_project
from tests.test_rulebook import GOOD, project

TYPES = attribute_types(consents=["email"])
runner = CliRunner()
SEGMENTS = """\
segments:
  - id: vip
    description: The top tier.
    when: {value_tier: platinum}
  - id: vip_at_risk
    description: Top customers who are overdue.
    when:
      all:
        - segment_vip: true
        - recency_ratio: {gt: 1.5}
  - id: quiet
    when: {recency_days: {gt: 200}}
"""
USES_SEGMENT = GOOD.replace("id: x", "id: save_vips").replace("priority: 5", "priority: 95") \
    .replace("value_tier: gold", "segment_vip_at_risk: true")


def errors(folder: Path) -> list[str]:
    return [p.format() for p in validate_rulebook(folder, TYPES) if p.severity == "error"]


def test_policies_and_segments_can_test_segments(tmp_path: Path) -> None:
    folder = project(tmp_path, {"rules/segments.yaml": SEGMENTS,
                                "policies/save_vips.yaml": USES_SEGMENT},
                     starter_policies=False)
    assert errors(folder) == []
    book = load_rulebook(folder, TYPES)
    assert [(s.id, s.requires) for s in book.segments] == [
        ("vip", ()), ("vip_at_risk", ("vip",)), ("quiet", ())]
    table = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"], "value_tier": ["platinum", "platinum", "gold", None],
        "recency_ratio": [2.0, 1.0, 3.0, 2.0], "recency_days": [300, 10, 250, 5],
        "tenure_days": [900, 900, 900, 900], "frequency": [5, 5, 5, 5]})
    staged = assign_stages(table, book)
    # in order of id, whatever the order of declaration
    assert list(staged["segments"]) == ["quiet|vip|vip_at_risk", "vip", "quiet", ""]
    assert list(staged["segment_vip_at_risk"]) == [True, False, False, False]
    decided = decide(staged, book)
    assert decided["policy_id"].tolist()[0] == "save_vips"
    assert decided["policy_id"].isna().tolist() == [False, True, True, True]
    assert list(decided["segments"]) == list(staged["segments"])
    alone = decide_one_by_one(table, book)  # durable-rules per customer, no bucketing
    pd.testing.assert_frame_equal(decide(table, book), alone, check_categorical=False)


def test_explain_shows_the_segments_and_why_not(tmp_path: Path) -> None:
    folder = project(tmp_path, {"rules/segments.yaml": SEGMENTS,
                                "policies/save_vips.yaml": USES_SEGMENT})
    book = load_rulebook(folder, TYPES)
    why = explain({"customer_id": "b", "value_tier": "platinum", "recency_ratio": 1.0,
                   "recency_days": 10, "tenure_days": 900, "frequency": 5}, book)
    assert [(c.id, c.matched) for c in why.segments] == [
        ("vip", True), ("vip_at_risk", False), ("quiet", False)]
    text = why.format()
    assert "\nSegments: vip\n  yes vip                      The top tier.\n" in text
    assert ("  no  vip_at_risk              Top customers who are overdue.\n"
            "        not matched: recency_ratio is 1, needed more than 1.5 times the usual gap"
            in text)
    assert ("  no  save_vips                priority 95: action retain\n"
            "        not matched: segment_vip_at_risk is no, needed yes") in text


@pytest.mark.parametrize(("files", "expected"), [
    ({"policies/save_vips.yaml": USES_SEGMENT.replace("segment_vip_at_risk",
                                                      "segment_vip_at_rsk")},
     "policies/save_vips.yaml:5:3: when.segment_vip_at_rsk: unknown segment 'vip_at_rsk'\n"
     "  hint: did you mean 'vip_at_risk'?"),
    # a marketer's trial wrote the run's column: "attributes are the customer table's columns"
    ({"policies/save_vips.yaml": USES_SEGMENT.replace("segment_vip_at_risk: true",
                                                      "segments: vip_at_risk")},
     "policies/save_vips.yaml:5:3: when.segments: unknown attribute 'segments'\n"
     "  hint: a condition tests one segment at a time, as true or false: segment_vip_at_risk: "
     "true (customers.csv's segments column lists them for reading, not for conditions)"),
    # the review and the re-trial: a name no segment has, or true, is not made an attribute
    ({"policies/save_vips.yaml": USES_SEGMENT.replace("segment_vip_at_risk: true",
                                                      "segments: vip_at_rsk")},
     "policies/save_vips.yaml:5:3: when.segments: unknown attribute 'segments'\n"
     "  hint: a condition tests one segment at a time, as true or false: segment_ID: true "
     "(customers.csv's segments column lists them for reading, not for conditions)"),
    ({"policies/save_vips.yaml": USES_SEGMENT.replace("segment_vip_at_risk: true",
                                                      "segment: true")},
     "policies/save_vips.yaml:5:3: when.segment: unknown attribute 'segment'\n"
     "  hint: a condition tests one segment at a time, as true or false: segment_ID: true "
     "(customers.csv's segments column lists them for reading, not for conditions)"),
    ({"rules/more.yaml": "segments:\n  - id: a\n    when: {segment_b: true}\n"
                         "  - id: b\n    when: {not: {segment_c: false}}\n"
                         "  - id: c\n    when: {segment_a: true}\n"},
     "rules/more.yaml:3:11: segments[0].when: segments test each other in a cycle: a -> b -> c"
     " -> a\n  hint: a segment may test other segments, but not itself, directly or through "
     "others"),
    ({"rules/more.yaml": "segments:\n  - id: me\n    when: {segment_me: false}\n"},
     "rules/more.yaml:3:11: segments[0].when: segments test each other in a cycle: me -> me\n"
     "  hint: a segment may test other segments, but not itself, directly or through others"),
    ({"rules/lifecycle.yaml": (Path(__file__).parents[1] / "rules" / "lifecycle.yaml")
      .read_text().replace("tenure_days: {lte: 90}", "segment_vip: true")},
     "rules/lifecycle.yaml:27:7: rules[0].when.segment_vip: attribute 'segment_vip' cannot be "
     "used here: segments are decided after the lifecycle stage, so lifecycle rules cannot "
     "test them"),
    ({"rules/more.yaml": "segments:\n  - id: email\n    when: {value_tier: gold}\n"},
     None),
])
def test_segment_mistakes_are_errors_at_their_line(tmp_path: Path, files: dict[str, str],
                                                   expected: str | None) -> None:
    folder = project(tmp_path, {"rules/segments.yaml": SEGMENTS, **files})
    assert errors(folder) == ([expected] if expected else [])
    if expected:
        with pytest.raises(InputError):
            load_rulebook(folder, TYPES)


def test_a_segment_id_that_would_shadow_an_attribute_is_an_error(tmp_path: Path) -> None:
    folder = project(tmp_path, {"rules/more.yaml": "segments:\n  - id: x\n    when: "
                                                   "{value_tier: gold}\n"})
    found = [p.format() for p in validate_rulebook(
        folder, {**TYPES, "segment_x": "text"}) if p.severity == "error"]
    assert found == ["rules/more.yaml:2:9: segments[0].id: segment id 'x' would make the "
                     "attribute 'segment_x', which exists already\n  hint: choose another id"]


def test_run_writes_the_segments_in_the_value_table_and_the_decisions(tmp_path: Path) -> None:
    proj = copy_example_project(tmp_path)
    (proj / "rules" / "segments.yaml").write_text(SEGMENTS)
    res = runner.invoke(app, ["run", "-p", str(proj), "-o", str(tmp_path / "out"), "--quiet"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "out" / "customers.csv", keep_default_na=False)
    decided = pd.read_csv(tmp_path / "out" / "decisions.csv", keep_default_na=False)
    platinum = table["value_tier"] == "platinum"
    assert (table.loc[platinum, "segments"].str.split("|").map(lambda s: "vip" in s)).all()
    assert not table.loc[~platinum, "segments"].str.contains("vip").any()
    assert set(table["segment_vip"].astype(str)) == {"True", "False"} or set(
        table["segment_vip"]) == {True, False}
    assert list(decided["segments"]) == list(table["segments"])
    assert (table["segments"] == "").any() and (table["segments"] == "quiet").any()


def test_the_json_schemas_know_segment_attributes() -> None:
    import json

    import jsonschema
    import yaml

    root = Path(__file__).resolve().parents[1]
    schema = json.loads((root / "engine" / "schemas" / "policy.schema.json").read_text())
    check = jsonschema.Draft202012Validator(schema)
    good = yaml.safe_load(USES_SEGMENT)
    assert not list(check.iter_errors(good))
    assert not list(check.iter_errors({**good, "when": {"segment_vip-2": {"ne": True}}}))
    assert list(check.iter_errors({**good, "when": {"segment_vip": 3}}))


def test_the_readme_segment_examples_validate_and_decide(tmp_path: Path) -> None:
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    segments = next(b for b in blocks if b.startswith("segments:"))
    when = next(b for b in blocks if b.startswith("when:") and "segment_" in b)
    policy = GOOD.replace("id: x", "id: documented").replace("when:\n  value_tier: gold\n", when)
    folder = project(tmp_path, {"rules/documented.yaml": segments,
                                "policies/documented.yaml": policy}, starter_policies=False)
    types = attribute_types(consents=["email", "phone"])
    assert [p for p in validate_rulebook(folder, types) if p.severity == "error"] == []
    book = load_rulebook(folder, types)
    table = pd.DataFrame({"customer_id": ["a", "b"], "value_tier": ["platinum", "platinum"],
                          "recency_ratio": [2.0, 2.0], "consent_phone": [True, False],
                          "tenure_days": [900, 900], "frequency": [5, 5]})
    assert decide(table, book)["policy_id"].tolist()[0] == "documented"
    assert decide(table, book)["policy_id"].isna().tolist() == [False, True]


def test_briefs_read_segment_tests_as_words(tmp_path: Path) -> None:
    from engine.policy.condition_text import describe

    folder = project(tmp_path, {"rules/segments.yaml": SEGMENTS,
                                "policies/save_vips.yaml": USES_SEGMENT.replace(
                                    "segment_vip_at_risk: true", "all:\n    - segment_vip: "
                                    "true\n    - segment_quiet: {ne: true}")})
    book = load_rulebook(folder, TYPES)
    policy = next(p for p in book.policies if p.id == "save_vips")
    assert describe(policy.when) == "in segment vip and not in segment quiet"
