"""A setting's number written as people write money (`budget: 1,500`, `cost_per_contact: €35`,
`capacity: 2k`) gets the hint a policy threshold gets (`£500`: "write the number alone"), not
the bare message (a marketer's trial)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.history_runs import cvm, retail_copy


@pytest.mark.parametrize(("line", "written", "hint"), [
    ("    budget: 1500\n", "    budget: 1,500\n", "write the number without a comma: 1500 if "
     "the comma separates thousands, 1.500 if it is a decimal comma"),
    ("    cost_per_contact: 35.00\n", "    cost_per_contact: €35\n",
     "write the number alone, without a unit: 35"),
    ("    budget: 1500\n", "    budget: 1.5k\n", "write the number in full, without 'k': 1500"),
])
def test_a_channel_s_money_written_so_is_told_how_to_write_it(tmp_path: Path, line: str,
                                                                 written: str, hint: str) -> None:
    project = retail_copy(tmp_path)
    channels = project / "policies" / "channels.yaml"
    text = channels.read_text()
    assert line in text
    channels.write_text(text.replace(line, written, 1))
    checked = cvm("validate", "--project", str(project))
    assert checked.exit_code == 1
    said = checked.stderr.splitlines()
    assert said[0].startswith("error: policies/channels.yaml:"), checked.stderr
    assert said[1] == f"  hint: {hint}", checked.stderr


def test_a_required_column_left_null_says_what_to_write(tmp_path: Path) -> None:
    """A new user's trial: cvm init leaves `amount: null` when it cannot guess it; validate
    then said only "found nothing (null), expected text"."""
    project = retail_copy(tmp_path)
    config = project / "cvm.yaml"
    text = config.read_text()
    assert "    amount: NetAmount" in text
    config.write_text(text.replace("    amount: NetAmount", "    amount: null", 1))
    checked = cvm("validate", "--project", str(project))
    assert checked.exit_code == 1
    assert checked.stderr.splitlines()[1] == ("  hint: write the name of the column of your "
                                              "transactions (file or table) that holds amount")


@pytest.mark.parametrize(("written", "hint"), [
    # the review: "write the number alone: 2", "3" (the minus lost), "1.500" (YAML's 1.5)
    ("€2k", "write the number in full, without 'k': 2000"),
    ("-€3", "write the number alone, without a unit: -3"),
    ("1.500 €", "write the number alone: 1500 if the point separates thousands, 1.5 if it is a "
     "decimal point"),
])
def test_the_hint_gives_the_number_meant(written: str, hint: str) -> None:
    from engine.project.hints import text_number_hint

    assert text_number_hint(written) == hint


@pytest.mark.parametrize(("line", "written", "hint"), [
    # a marketer's trial: YAML 1.1 reads 1e3 as text, and the hint said to remove quotes the
    # user never wrote
    ("    budget: 1500\n", "    budget: 1e3\n", "write 1000: YAML reads 1e3 as text (a number "
     "in e-notation needs a point and a signed exponent: 1.0e+3)"),
    ("    cost_per_contact: 35.00\n", "    cost_per_contact: yes\n", "YAML reads yes, no, on, "
     "off, true and false as true or false: write a number"),
])
def test_e_notation_and_yes_get_yaml_s_reading(tmp_path: Path, line: str, written: str,
                                               hint: str) -> None:
    project = retail_copy(tmp_path)
    channels = project / "policies" / "channels.yaml"
    text = channels.read_text()
    assert line in text
    channels.write_text(text.replace(line, written, 1))
    checked = cvm("validate", "--project", str(project))
    assert checked.exit_code == 1
    assert checked.stderr.splitlines()[1] == f"  hint: {hint}", checked.stderr


def test_a_flag_written_in_quotes_is_told_to_drop_them(tmp_path: Path) -> None:
    project = retail_copy(tmp_path)
    policy = project / "policies" / "win_back.yaml"
    policy.write_text(policy.read_text().replace("id: win_back\n", "id: win_back\nenabled: "
                                                 "\"no\"\n", 1))
    checked = cvm("validate", "--project", str(project))
    assert checked.exit_code == 1
    assert checked.stderr.splitlines()[:2] == [
        "error: policies/win_back.yaml:3:10: enabled: found 'no' (text), expected true or "
        "false", "  hint: write false (or no without quotes)"], checked.stderr


@pytest.mark.parametrize(("condition", "hint"), [
    ("{gte: 1e3}", "write 1000: YAML reads 1e3 as text (a number in e-notation needs a point "
     "and a signed exponent: 1.0e+3)"),
    ("{gte: yes}", "YAML reads yes, no, on, off, true and false as true or false: write a "
     "number")])
def test_a_threshold_in_e_notation_or_yes_is_told_yaml_s_reading(
        tmp_path: Path, condition: str, hint: str) -> None:
    project = retail_copy(tmp_path)
    policy = project / "policies" / "win_back.yaml"
    text = policy.read_text()
    assert "clv_discounted: {gte: 25}" in text
    policy.write_text(text.replace("clv_discounted: {gte: 25}", f"clv_discounted: {condition}"))
    checked = cvm("validate", "--project", str(project))
    assert checked.exit_code == 1
    assert checked.stderr.splitlines()[1] == f"  hint: {hint}", checked.stderr




@pytest.mark.parametrize(("file", "line", "written", "said"), [
    # beyond the range: the range alone (it was "... at most 1 below 10^15 in size")
    ("cvm.yaml", "discount_rate: 0.10 ", "discount_rate: 99999999999999999999999 ",
     "error: cvm.yaml:36:16: discount_rate: found 99999999999999999999999, expected a number "
     "above 0 and at most 1\n1 error(s)"),
    # within a lower bound only: both said, joined
    ("policies/channels.yaml", "    budget: 1500\n", "    budget: 99999999999999999999999\n",
     "error: policies/channels.yaml:15:13: channels[0].budget: found 99999999999999999999999, "
     "expected a number of at least 0 and below 10^15 in size\n1 error(s)"),
    # below the lower bound: the range, with its hint
    ("policies/channels.yaml", "    budget: 1500\n", "    budget: -99999999999999999999999\n",
     "error: policies/channels.yaml:15:13: channels[0].budget: found -99999999999999999999999, "
     "expected a number of at least 0\n  hint: a negative number is never one here: write it "
     "without the minus sign\n1 error(s)"),
])
def test_a_number_beyond_10_15_reads_well(tmp_path: Path, file: str, line: str, written: str,
                                          said: str) -> None:
    project = retail_copy(tmp_path)
    config = project / file
    text = config.read_text()
    assert line in text
    config.write_text(text.replace(line, written, 1))
    checked = cvm("validate", "--project", str(project))
    assert checked.exit_code == 1
    assert checked.stderr.startswith(said), checked.stderr
