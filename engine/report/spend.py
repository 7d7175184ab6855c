"""The marketing-spend file: acquisition and retention cost per month, in the project currency.

CSV (comma-separated, a header line, one row per month)::

    month,acquisition_cost,retention_cost
    2024-01,1200.00,800.00

or YAML::

    months:
      2024-01: {acquisition_cost: 1200.00, retention_cost: 800.00}

Checks are strict, because a cost in the wrong month or with the wrong sign silently changes
the equity figures: a month must be written YYYY-MM, costs are numbers of 0 or more, unknown
columns or keys are errors (with a did-you-mean hint), and a month may appear only once.
Every problem names the file and line.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, clip, did_you_mean
from engine.project.checks import MAX_NUMBER
from engine.project.yamlio import load_file

COLUMNS = ("month", "acquisition_cost", "retention_cost")
COSTS = COLUMNS[1:]
HEADER = ",".join(COLUMNS)
DEFAULT_NAMES = ("marketing_spend.csv", "marketing_spend.yaml", "marketing_spend.yml")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_PROBLEMS = 20  # enough to fix a file in one go without flooding the terminal


@dataclass(frozen=True)
class Spend:
    """Checked spend per month: ``months[YYYY-MM] = (acquisition cost, retention cost)``."""

    file: str | None  # as shown to the user; None when there is no spend file
    months: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def notes(self, report_months: Sequence[str]) -> list[str]:
        """What a reader must know about the costs used for ``report_months``."""
        if self.file is None:
            return ["no marketing-spend file: acquisition and retention costs are taken as 0, "
                    "so acquisition and retention equity are shown before any cost"]
        wanted = set(report_months)
        missing = [m for m in report_months if m not in self.months]
        outside = sorted(m for m in self.months if m not in wanted)
        notes = []
        if missing:
            notes.append(f"{len(missing)} of {len(report_months)} months without a row in "
                         f"{self.file}, taken as 0 cost: {_span(missing)}")
        if outside:
            notes.append(f"{_count(len(outside))} of {self.file} outside the report's months, "
                         f"not used: {_span(outside)}")
        return notes


def _count(n: int) -> str:
    return "1 month" if n == 1 else f"{n} months"


def _span(months: Sequence[str]) -> str:
    return ", ".join(months) if len(months) <= 4 else f"{months[0]} ... {months[-1]}"


def find_spend(project: Path, beside: Path) -> Path | None:
    """The default spend file: marketing_spend.csv/.yaml in the project folder, else beside
    the transactions file; None when there is none."""
    for folder in dict.fromkeys((project, beside.parent)):
        for name in DEFAULT_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def load_spend(path: Path, display: str | None = None) -> Spend:
    """Read and check a spend file (``.yaml``/``.yml`` as YAML, anything else as CSV)."""
    shown = display or str(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return Spend(shown, _from_yaml(path, shown))
    if not path.exists():
        raise InputError(Problem("file not found", file=shown,
                                 hint="check --spend or report.spend (paths are relative to "
                                 "the project folder)"))
    if path.is_dir():
        raise InputError(Problem("is a folder, expected a CSV or YAML file", file=shown))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"byte {raw[exc.start]:#04x} is not valid UTF-8", file=shown,
                                 line=raw[: exc.start].count(b"\n") + 1,
                                 hint="save the file as UTF-8")) from None
    return Spend(shown, _from_csv(text, shown))


def check_month(value: Any) -> tuple[str | None, str | None]:
    """(the month as YYYY-MM, None) or (None, the problem: 'found ..., expected ...')."""
    expected = "expected a month written YYYY-MM, such as 2024-01"
    if isinstance(value, (dt.date, dt.datetime)):
        return None, f"found the date {value:%Y-%m-%d}, {expected}"
    text = str(value).strip()
    if isinstance(value, str) and MONTH_RE.match(text):
        return text, None
    return None, f"found {clip(text)}, {expected}"


def _month_hint(value: Any) -> str | None:
    text = str(value).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return f"write the month only: {text[:7]}"
    if m := re.match(r"^(\d{4})-(\d)$", text):
        return f"write the month with two digits: {m.group(1)}-0{m.group(2)}"
    if re.match(r"^\d{4}-\d{2}$", text):
        return "months run from 01 to 12"
    if isinstance(value, float):  # YAML's 2025.10: the number 2025.1, its month unknown
        return "YAML reads a month written with a point as a number (2025.10 as 2025.1): " \
            "write it as YYYY-MM, e.g. 2025-10"
    # a spreadsheet's month: 01/2025, 1.2025, 2025/01
    m = re.match(r"^(\d{1,2})[/.](\d{4})$", text) or re.match(r"^(\d{4})[/.](\d{1,2})$", text)
    if m:
        year, month = (m.group(2), m.group(1)) if len(m.group(2)) == 4 else m.groups()
        if 1 <= int(month) <= 12:
            return f"write it as {year}-{int(month):02d}"
    # a month by its English name: Jan 2025, January 2025, Jan-2025
    if (m := re.match(r"^([A-Za-z]{3,9})\.?[\s/-]+(\d{4})$", text)) and \
            (month_no := _MONTH_NAMES.get(m.group(1).lower()[:3])) is not None:
        return f"write it as {m.group(2)}-{month_no:02d}"
    return None


_MONTH_NAMES = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    start=1)}


def check_cost(value: Any) -> tuple[float | None, str | None, str | None]:
    """(cost, None, None) or (None, the problem, a hint)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "found an empty value, expected a cost of 0 or more", "write 0 for no spend"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None, f"found {clip(value)}, expected a number such as 1500.00", None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return (None, f"found {clip(str(value).strip())}, expected a number such as 1500.00",
                "use '.' as the decimal mark, no thousands separators or currency signs")
    if not math.isfinite(number):
        return None, f"found {clip(str(value).strip())}, expected a number such as 1500.00", None
    if number >= MAX_NUMBER:
        return (None, f"found {number:g}, expected a cost below 10^15",
                "check the value: it is far beyond any marketing budget")
    if number < 0:
        return (None, f"found {number:g}, expected a cost of 0 or more",
                "write the money spent as a positive amount (a rebate lowers the month's cost)")
    return number, None, None


def _from_csv(text: str, shown: str) -> dict[str, tuple[float, float]]:
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise InputError(Problem(f"the file is empty, expected the header {HEADER} and one "
                                 "row per month", file=shown))
    header = [h.strip() for h in next(csv.reader([lines[0]]))]
    _check_header(header, shown)
    where = {name: header.index(name) for name in COLUMNS}
    problems: list[Problem] = []
    out: dict[str, tuple[float, float]] = {}
    first_line: dict[str, int] = {}
    for line_no, row in enumerate(csv.reader(lines[1:]), start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are harmless
        if len(row) != len(header):
            problems.append(Problem(f"found {len(row)} fields, expected {len(header)} like "
                                    "the header", file=shown, line=line_no,
                                    hint="a value may contain a comma: write 1500.00, not "
                                    "1,500.00"))
            continue
        month, problem = check_month(row[where["month"]])
        if problem:
            problems.append(Problem(problem, file=shown, line=line_no, key="month",
                                    hint=_month_hint(row[where["month"]])))
        costs: list[float | None] = []
        for name in COSTS:
            cost, problem, hint = check_cost(row[where[name]])
            if problem:
                problems.append(Problem(problem, file=shown, line=line_no, key=name, hint=hint))
            costs.append(cost)
        if month is not None and month in first_line:
            problems.append(Problem(f"month {month} appears twice (first on line "
                                    f"{first_line[month]})", file=shown, line=line_no,
                                    key="month", hint="give one row per month: add the costs "
                                    "up"))
        elif month is not None:
            first_line[month] = line_no
            if costs[0] is not None and costs[1] is not None:
                out[month] = (costs[0], costs[1])
    if problems:
        raise InputError(problems[:MAX_PROBLEMS])
    return dict(sorted(out.items()))


def _check_header(header: list[str], shown: str) -> None:
    problems = []
    if len(header) == 1 and ";" in header[0]:
        raise InputError(Problem(f"found one column {header[0]!r}, expected the header "
                                 f"{HEADER}", file=shown, line=1, key="header",
                                 hint="the file looks semicolon-separated: use commas"))
    seen: set[str] = set()
    meant: set[str] = set()  # the columns a misspelt one stands for: not reported missing too
    for name in header:
        if name in seen:
            problems.append(Problem(f"column {name!r} appears twice", file=shown, line=1,
                                    key="header", hint=f"the header must be {HEADER}"))
        seen.add(name)
        if name not in COLUMNS:
            hint = did_you_mean(name, COLUMNS)
            if hint:
                meant.add(hint.split("'")[1])
            problems.append(Problem(f"unknown column {name!r}", file=shown, line=1,
                                    key="header", hint=hint
                                    or f"the columns are {', '.join(COLUMNS)}"))
    for name in COLUMNS:
        if name not in header and name not in meant:
            problems.append(Problem(f"missing column {name!r}", file=shown, line=1,
                                    key="header", hint=f"the header must be {HEADER}"))
    if problems:
        raise InputError(problems)


def _from_yaml(path: Path, shown: str) -> dict[str, tuple[float, float]]:
    doc = load_file(path, display=shown)
    data = doc.data
    if not isinstance(data, dict) or "months" not in data:
        raise InputError(doc.problem((), "expected a mapping with the key 'months'",
                                     hint="months:\n    2024-01: {acquisition_cost: 1200, "
                                     "retention_cost: 800}"))
    problems = [doc.problem((k,), f"unknown key {k!r}", key=True,
                            hint=did_you_mean(str(k), ["months"]) or "the only key is months")
                for k in data if k != "months"]
    months = data["months"]
    if not isinstance(months, dict):
        raise InputError([*problems, doc.problem(("months",), "expected a mapping from "
                                                 "months (YYYY-MM) to costs")])
    out: dict[str, tuple[float, float]] = {}
    for key, value in months.items():
        path_: tuple[str | int, ...] = ("months", key if isinstance(key, (str, int))
                                        else str(key))  # as engine.project.yamlio records it
        month, problem = check_month(key)
        if problem:
            problems.append(doc.problem(path_, problem, key=True, hint=_month_hint(key)))
        if not isinstance(value, dict):
            problems.append(doc.problem(path_, "expected a mapping with acquisition_cost and "
                                        "retention_cost"))
            continue
        for k in value:
            if k not in COSTS:
                problems.append(doc.problem((*path_, k), f"unknown key {k!r}", key=True,
                                            hint=did_you_mean(str(k), COSTS)
                                            or f"the keys are {', '.join(COSTS)}"))
        costs: list[float | None] = []
        for name in COSTS:
            if name not in value:
                problems.append(doc.problem(path_, f"missing key {name!r}",
                                            hint="write 0 for no spend"))
                costs.append(None)
                continue
            cost, problem, hint = check_cost(value[name])
            if problem:
                problems.append(doc.problem((*path_, name), problem, hint=hint))
            costs.append(cost)
        if month is not None and month in out:  # 2024-01 and '2024-01' are one month
            problems.append(doc.problem(path_, f"month {month} appears twice", key=True))
        elif month is not None and costs[0] is not None and costs[1] is not None:
            out[month] = (costs[0], costs[1])
    if problems:
        raise InputError(problems[:MAX_PROBLEMS])
    return dict(sorted(out.items()))
