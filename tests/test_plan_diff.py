"""Two versions of a project are compared by meaning: layout is no change, content is."""

from __future__ import annotations

from pathlib import Path

from engine.plan.diff import by_id, fields_changed, keyed, same
from engine.project.config import load_config
from engine.run.build import load_setup
from engine.run.pipeline import Setup
from tests.conftest import copy_example_project
from tests.test_plan import edit

WIN_BACK = """\
# yaml-language-server: $schema=../engine/schemas/policy.schema.json
id: win_back
description: >-
  Lapsing or lost customers whose value ahead justifies the cost of a win-back offer: their
  expected future margin, or the margin of the customers they brought in.
priority: 70
when:
  all:
    - lifecycle_stage: {in: [decline, exit]}
    - any:
        - clv_discounted: {gte: 25}
        - potential_value: {gte: 50}
        - influence_value: {gte: 100}   # referrals: see also win_back_advocates
then:
  action: win_back
  offer: comeback_discount
  channels: [direct_mail, email, sms]
"""
# the same policy: keys in another order, flow style, comments, the `any` items and the `in`
# values in another order, the description on one line
SAME = """\


then: {action: win_back, offer: "comeback_discount", channels: [direct_mail, email, sms]}
when:   # who
  all:
    - any: [{influence_value: {gte: 100}}, {potential_value: {gte: 50}},
            {clv_discounted: {gte: 25.0}}]
    - lifecycle_stage:
        in: [exit, decline]
priority: 70
description: "Lapsing or lost customers whose value ahead justifies the cost of a win-back offer:
  their expected future margin, or the margin of the customers they brought in."
id: win_back
"""


def _setup(project: Path) -> Setup:
    return load_setup(load_config(project))


def test_layout_is_no_change_and_content_is(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    win = project / "policies" / "win_back.yaml"
    assert win.read_text() == WIN_BACK
    before = _setup(project)
    win.write_text(SAME)
    (project / "policies" / "win_back.yaml").rename(project / "policies" / "b.yaml")
    after = _setup(project)
    assert same(before.rulebook, after.rulebook)
    assert same(before.channels, after.channels)

    edit(project / "policies" / "b.yaml", "comeback_discount", "free_delivery")
    edit(project / "policies" / "b.yaml", "gte: 25.0", "gte: 20")
    edit(project / "policies" / "channels.yaml", "capacity: 150", "capacity: 100")
    changed = _setup(project)
    pb = by_id(before.rulebook.policies)["win_back"]
    pa = by_id(changed.rulebook.policies)["win_back"]
    assert fields_changed(pb, pa) == [
        "when: lifecycle stage is decline or exit and (clv discounted is at least 25 or "
        "potential value is at least 50 or influence value is at least 100) -> (influence "
        "value is at least 100 or potential value is at least 50 or clv discounted is at least "
        "20) and lifecycle stage is exit or decline",
        "offer: comeback_discount -> free_delivery"]
    assert keyed("channel", by_id(before.channels.channels), by_id(changed.channels.channels),
                 str, str) == [("channel call_centre", "capacity: 150 -> 100")]


def test_removed_added_and_reordered() -> None:
    before = {"a": 1, "b": 2, "c": 3}
    after = {"c": 3, "a": 1, "d": 4}
    where = {1: "x/a.yaml", 2: "x/b.yaml", 3: "x/c.yaml", 4: "y/d.yaml"}
    assert keyed("rule", before, after, where.__getitem__, where.__getitem__,
                 ordered=True) == [("rule b", "removed (was x/b.yaml)"),
                                   ("rule d", "added (y/d.yaml)"), ("rule order", "a, c -> c, a")]
