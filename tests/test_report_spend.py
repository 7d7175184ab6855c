"""The marketing-spend file: good files load, bad ones fail with file, line and exact message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.commands import report as report_cmd
from engine.errors import InputError
from engine.report.spend import Spend, find_spend, load_spend

GOOD_CSV = "month,acquisition_cost,retention_cost\n2024-01,1200.50,800\n\n2024-02,0,0\n"


def errors(tmp_path: Path, name: str, text: str) -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_spend(path, name)
    return [p.format() for p in info.value.problems]


def test_good_csv_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("\ufeff" + GOOD_CSV)  # a BOM from spreadsheet tools is fine
    assert load_spend(tmp_path / "s.csv", "s.csv").months == {"2024-01": (1200.5, 800.0),
                                                              "2024-02": (0.0, 0.0)}
    (tmp_path / "s.yaml").write_text("months:\n  2024-01: {acquisition_cost: 1200.5, "
                                     "retention_cost: 800}\n  '2024-02':\n    acquisition_cost: 0"
                                     "\n    retention_cost: 0\n")
    assert load_spend(tmp_path / "s.yaml", "s.yaml").months == {"2024-01": (1200.5, 800.0),
                                                                "2024-02": (0.0, 0.0)}


def test_a_month_that_is_not_a_month(tmp_path: Path) -> None:
    text = ("month,acquisition_cost,retention_cost\n2024-13,1,1\n2024-01-01,1,1\n2024-1,1,1\n"
            "January,1,1\n")
    assert errors(tmp_path, "spend.csv", text) == [
        "spend.csv:2: month: found '2024-13', expected a month written YYYY-MM, such as 2024-01"
        "\n  hint: months run from 01 to 12",
        "spend.csv:3: month: found '2024-01-01', expected a month written YYYY-MM, such as "
        "2024-01\n  hint: write the month only: 2024-01",
        "spend.csv:4: month: found '2024-1', expected a month written YYYY-MM, such as 2024-01"
        "\n  hint: write the month with two digits: 2024-01",
        "spend.csv:5: month: found 'January', expected a month written YYYY-MM, such as 2024-01",
    ]


def test_a_month_written_the_other_way_round_gets_its_form(tmp_path: Path) -> None:
    """A trial's spend file had 01/2025 (a spreadsheet's month format): refused, no hint."""
    text = ("month,acquisition_cost,retention_cost\n01/2025,1,1\n2/2025,1,1\n2025/03,1,1\n"
            "04.2025,1,1\n13/2025,1,1\n")
    expected = "expected a month written YYYY-MM, such as 2024-01"
    assert errors(tmp_path, "spend.csv", text) == [
        f"spend.csv:2: month: found '01/2025', {expected}\n  hint: write it as 2025-01",
        f"spend.csv:3: month: found '2/2025', {expected}\n  hint: write it as 2025-02",
        f"spend.csv:4: month: found '2025/03', {expected}\n  hint: write it as 2025-03",
        f"spend.csv:5: month: found '04.2025', {expected}\n  hint: write it as 2025-04",
        f"spend.csv:6: month: found '13/2025', {expected}",
    ]
    # the re-trial: a month by its name got no hint
    assert errors(tmp_path, "spend.csv", "month,acquisition_cost,retention_cost\n"
                  "Jan 2025,1,1\nSeptember 2025,1,1\n") == [
        f"spend.csv:2: month: found 'Jan 2025', {expected}\n  hint: write it as 2025-01",
        f"spend.csv:3: month: found 'September 2025', {expected}\n  hint: write it as 2025-09",
    ]


def test_negative_empty_and_non_numeric_costs(tmp_path: Path) -> None:
    text = ('month,acquisition_cost,retention_cost\n2024-01,-100,5\n2024-02,abc,\n'
            '2024-03,"1,500",2\n')
    assert errors(tmp_path, "spend.csv", text) == [
        "spend.csv:2: acquisition_cost: found -100, expected a cost of 0 or more\n  hint: write "
        "the money spent as a positive amount (a rebate lowers the month's cost)",
        "spend.csv:3: acquisition_cost: found 'abc', expected a number such as 1500.00\n  hint: "
        "use '.' as the decimal mark, no thousands separators or currency signs",
        "spend.csv:3: retention_cost: found an empty value, expected a cost of 0 or more\n  hint: "
        "write 0 for no spend",
        "spend.csv:4: acquisition_cost: found '1,500', expected a number such as 1500.00\n  hint:"
        " use '.' as the decimal mark, no thousands separators or currency signs",
    ]


def test_unknown_and_missing_columns(tmp_path: Path) -> None:
    assert errors(tmp_path, "spend.csv", "month,acquisiton_cost,retention_cost,notes\n") == [
        "spend.csv:1: header: unknown column 'acquisiton_cost'\n  hint: did you mean "
        "'acquisition_cost'?",
        "spend.csv:1: header: unknown column 'notes'\n  hint: the columns are month, "
        "acquisition_cost, retention_cost",
    ]
    assert errors(tmp_path, "spend.csv", "month,acquisition_cost\n2024-01,5\n") == [
        "spend.csv:1: header: missing column 'retention_cost'\n  hint: the header must be "
        "month,acquisition_cost,retention_cost"]
    assert errors(tmp_path, "spend.csv", "month;acquisition_cost;retention_cost\n") == [
        "spend.csv:1: header: found one column 'month;acquisition_cost;retention_cost', "
        "expected the header month,acquisition_cost,retention_cost\n  hint: the file looks "
        "semicolon-separated: use commas"]


def test_duplicate_months_and_ragged_rows(tmp_path: Path) -> None:
    text = "month,acquisition_cost,retention_cost\n2024-05,1,2\n2024-06,1\n2024-05,3,4\n"
    assert errors(tmp_path, "spend.csv", text) == [
        "spend.csv:3: found 2 fields, expected 3 like the header\n  hint: a value may contain a "
        "comma: write 1500.00, not 1,500.00",
        "spend.csv:4: month: month 2024-05 appears twice (first on line 2)\n  hint: give one row "
        "per month: add the costs up",
    ]


def test_empty_and_missing_files(tmp_path: Path) -> None:
    assert errors(tmp_path, "spend.csv", "\n") == [
        "spend.csv: the file is empty, expected the header month,acquisition_cost,retention_cost"
        " and one row per month"]
    with pytest.raises(InputError, match="file not found"):
        load_spend(tmp_path / "nope.csv", "nope.csv")


def test_bad_yaml(tmp_path: Path) -> None:
    text = ("months:\n  2024-01: {acquisition_cost: 10, retention_cost: -1}\n"
            "  2024-13: {acquisition_cost: 1, retention_cost: 1, other: 2}\n"
            "  2024-02-01: {acquisition_cost: 1}\nextra: 1\n")
    assert errors(tmp_path, "spend.yaml", text) == [
        "spend.yaml:5:1: extra: unknown key 'extra'\n  hint: the only key is months",
        "spend.yaml:2:51: months.2024-01.retention_cost: found -1, expected a cost of 0 or more"
        "\n  hint: write the money spent as a positive amount (a rebate lowers the month's cost)",
        "spend.yaml:3:3: months.2024-13: found '2024-13', expected a month written YYYY-MM, such"
        " as 2024-01\n  hint: months run from 01 to 12",
        "spend.yaml:3:53: months.2024-13.other: unknown key 'other'\n  hint: the keys are "
        "acquisition_cost, retention_cost",
        "spend.yaml:4:3: months.2024-02-01: found the date 2024-02-01, expected a month written "
        "YYYY-MM, such as 2024-01\n  hint: write the month only: 2024-02",
        "spend.yaml:4:15: months.2024-02-01: missing key 'retention_cost'\n  hint: write 0 for "
        "no spend",
    ]
    dup = "months:\n  2024-01: {acquisition_cost: 1, retention_cost: 1}\n" \
          "  2024-01: {acquisition_cost: 2, retention_cost: 2}\n"
    assert errors(tmp_path, "spend.yaml", dup)[0].startswith(
        "spend.yaml:3:3: months.2024-01: duplicate key '2024-01' (first defined on line 2)")


def test_notes_on_missing_and_extra_months() -> None:
    assert "taken as 0" in Spend(None).notes(["2024-01"])[0]
    spend = Spend("s.csv", {"2023-12": (1.0, 1.0), "2024-01": (1.0, 1.0)})
    assert spend.notes(["2024-01", "2024-02"]) == [
        "1 of 2 months without a row in s.csv, taken as 0 cost: 2024-02",
        "1 month of s.csv outside the report's months, not used: 2023-12",
    ]


def test_default_file_is_found_beside_the_data(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    assert find_spend(tmp_path, tmp_path / "data" / "tx.csv") is None
    (tmp_path / "data" / "marketing_spend.csv").write_text(GOOD_CSV)
    assert find_spend(tmp_path, tmp_path / "data" / "tx.csv") == \
        tmp_path / "data" / "marketing_spend.csv"
    (tmp_path / "marketing_spend.yaml").write_text("months: {}\n")
    assert find_spend(tmp_path, tmp_path / "data" / "tx.csv") == \
        tmp_path / "marketing_spend.yaml"


def test_report_command_stops_on_a_bad_spend_file(make_project: Callable[..., Path]) -> None:
    project = make_project(files={"spend.csv": "month,acquisition_cost,retention_cost\n"
                                               "2024-02,-5,0\n"})
    with pytest.raises(InputError) as info:
        report_cmd.run(project=project, config_file=None, out=project / "out",
                       spend=project / "spend.csv", quiet=True)
    assert info.value.format().startswith("spend.csv:2: acquisition_cost: found -5, expected a "
                                          "cost of 0 or more")
    assert not (project / "out" / "report").exists()


def test_report_settings_from_cvm_yaml(tmp_path: Path) -> None:
    """The ``report:`` section, once engine.project.config carries it (as a mapping or a record)."""
    from types import SimpleNamespace

    from engine.project.report_settings import ReportConfig, default_active_window, report_config

    assert report_config(SimpleNamespace(project=tmp_path)) == ReportConfig()
    got = report_config(SimpleNamespace(project=tmp_path, report={"spend": "s.csv",
                                                                   "active_window_days": 90}))
    assert got == ReportConfig(spend=(tmp_path / "s.csv").resolve(), active_window_days=90)
    assert default_active_window(90) == 180 and default_active_window(10) == 31


def test_a_yaml_month_read_as_a_number_gets_no_wrong_month(tmp_path: Path) -> None:
    """The review: YAML reads `2025.10:` as the number 2025.1, and the hint said 2025-01."""
    got = errors(tmp_path, "spend.yaml", "months:\n  2025.10: {acquisition_cost: 1, "
                 "retention_cost: 1}\n")
    assert len(got) == 1 and got[0].endswith(
        "  hint: YAML reads a month written with a point as a number (2025.10 as 2025.1): "
        "write it as YYYY-MM, e.g. 2025-10"), got
