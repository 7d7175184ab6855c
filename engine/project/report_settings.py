"""The ``report:`` section of cvm.yaml: its schema, its defaults and the report's template name.

Declared with the rest of the project (``engine.project.config`` takes the section's schema from
here); the report itself is ``engine.report``.

    report:
      spend: marketing_spend.csv   # default: marketing_spend.csv/.yaml in the project folder
                                   # or beside the transactions file; none: zero cost
      active_window_days: 180      # default: 2 x period_days
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.project import checks as c

MIN_ACTIVE_WINDOW = 31  # at least a month: whoever buys in a month is active at its end
MAX_ACTIVE_WINDOW = 3660  # ten years: longer stops meaning "active"
REPORT_TEMPLATE = "report.html.j2"
# the names the report's template gets (engine/report/html.py; README "The report")
REPORT_NAMES = (
    "name", "as_of", "currency", "data_file", "spend_file", "first_month", "last_month",
    "period_days", "window", "subscriptions", "horizon", "discount_year", "discount_period",
    "kpis", "notes", "model_equity", "value_model", "model_tiers", "model_stages",
    "reconciliation", "interval_level", "equities_differ", "charts", "tiers", "stages",
    "tiers_clv_note", "run", "tier_migration", "measured", "monthly_tables", "table_head",
    "table_rows")
# why a subscriptions: project has no active window (engine/report/equity.py counts contracts)
NO_WINDOW_WITH_CONTRACTS = "a customer is active while a contract of theirs runs"
# the built-in report template ships with the report stage (engine/report/templates/)
BUILTIN_TEMPLATES = Path(__file__).resolve().parents[1] / "report" / "templates"

REPORT = c.Record([
    c.Field("spend", c.Optional(c.Text()), None,
            doc="the marketing-spend file (CSV or YAML), relative to the project folder"),
    c.Field("active_window_days", c.Optional(c.Number(min=MIN_ACTIVE_WINDOW, max=MAX_ACTIVE_WINDOW,
                                                      integer=True)), None,
            doc="a customer is active at a month end if they bought within this many days"),
], what="the report settings")


@dataclass(frozen=True)
class ReportConfig:
    """The ``report:`` section of cvm.yaml (all optional)."""

    spend: Path | None = None  # absolute
    active_window_days: int | None = None


def report_config(config: Any) -> ReportConfig:
    """The report settings of a loaded ``Config``; defaults when cvm.yaml has no ``report:``.

    ``Config`` gains a ``report`` attribute once the section is registered in engine.project.config;
    until then (or when it is absent) every setting takes its default.
    """
    raw = getattr(config, "report", None)
    if raw is None:
        return ReportConfig()
    if isinstance(raw, ReportConfig):
        return raw
    if isinstance(raw, dict):
        spend = raw.get("spend")
        return ReportConfig(
            spend=(Path(config.project) / spend).resolve() if spend else None,
            active_window_days=raw.get("active_window_days"))
    return ReportConfig()


def default_active_window(period_days: int) -> int:
    """2 x period_days, and never less than a month (see MIN_ACTIVE_WINDOW)."""
    return max(2 * period_days, MIN_ACTIVE_WINDOW)


__all__ = ["BUILTIN_TEMPLATES", "MAX_ACTIVE_WINDOW", "MIN_ACTIVE_WINDOW",
           "NO_WINDOW_WITH_CONTRACTS", "REPORT", "REPORT_NAMES", "REPORT_TEMPLATE",
           "ReportConfig", "default_active_window", "report_config"]
