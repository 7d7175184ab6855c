"""Assemble the report: monthly figures, charts and sections, rendered into one HTML file.

The page is self-contained (inline CSS and SVG) so it opens offline and can be mailed; a sandboxed
Jinja2 environment with autoescaping renders it (a project may have its own report.html.j2).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from engine.data.load import EPOCH, load_transactions
from engine.decimals import fixed, percent, units
from engine.history.measure_report import report_measure
from engine.history.report import report_migration
from engine.project.config import Config
from engine.project.project import Project
from engine.project.report_settings import REPORT_TEMPLATE
from engine.project.templates import Templates
from engine.render.briefs import report_environment
from engine.render.sandbox import render_template
from engine.report import charts as ch
from engine.report.equity import EquitySettings, monthly_figures, rounded
from engine.report.headline import covered, kpis, money2
from engine.report.model_sections import model_context
from engine.report.retention_curve import curve_chart, retention_curve
from engine.report.sections import (
    LatestRun,
    Stages,
    TierRow,
    cancelled_clv,
    data_end_note,
    latest_run,
    lifecycle_stages,
    tier_rows,
)
from engine.report.spend import Spend
from engine.value.clv_models import TITLES, ModelFit
from engine.value.features import last_purchase_day
from engine.value.score import Scored, score
from engine.words import counted

# The monthly figures, as four tables that each fit a 1280-pixel window (one table of all 27
# columns did not): (title, ((column, header, kind), ...)); kinds: count, money, money2,
# percent, text. Every table starts with the month.
MONTH = ("month", "Month", "text")
MONTHLY_TABLES = (
    ("Customers", (
        MONTH, ("customers_start", "At start", "count"), ("new_customers", "New", "count"),
        ("reactivated_customers", "Reactivated", "count"),
        ("retained_customers", "Retained", "count"), ("churned_customers", "Churned", "count"),
        ("new_and_left", "New, left", "count"), ("reactivated_and_left", "Back, left", "count"),
        ("customers_end", "At end", "count"), ("churn_rate", "Churn rate", "percent"),
        ("buyers", "Buyers", "count"))),
    ("Revenue", (
        MONTH, ("orders", "Orders", "count"), ("revenue", "Revenue", "money"),
        ("gross_margin", "Gross margin", "money"),
        ("avg_order_value", "Avg order value", "money2"),
        ("retention_rate", "Retention rate r", "percent"), ("avg_clv", "Avg CLV", "money2"))),
    ("Customer equity", (
        MONTH, ("customer_equity", "Customer equity", "money"),
        ("acquisition_cost", "Acquisition cost", "money"),
        ("retention_cost", "Retention cost", "money"),
        ("acquisition_equity", "Acquisition equity", "money"),
        ("retention_equity", "Retention equity", "money"))),
    ("Where revenue growth came from (R = N x V x L)", (
        MONTH, ("base_customers", "N customers", "count"),
        ("revenue_per_active_customer", "V revenue per active", "money2"),
        ("loyalty", "L loyalty", "percent"), ("revenue_change", "Revenue change", "money"),
        ("change_from_customers", "from N", "money"), ("change_from_value", "from V", "money"),
        ("change_from_loyalty", "from L", "money"))),
)
# all columns in one list, for project templates written for a single table; a column the
# figures do not have (new_and_left and reactivated_and_left without contracts) is left out
TABLE = (MONTH, *(col for _, cols in MONTHLY_TABLES for col in cols[1:]))


@dataclass(frozen=True)
class Report:
    """Everything ``cvm report`` writes, and its terminal summary."""

    html: str
    figures: pd.DataFrame  # rounded, as written to monthly_figures.csv
    charts: dict[str, str]  # file stem -> SVG document
    summary: list[str] = field(default_factory=list)
    as_of: dt.date | None = None  # the value table's, and the data's last purchase (the
    last_purchase: dt.date | None = None  # as-of warnings of engine.commands.common)
    dated_ahead: str = ""  # (LoadReport.dated_ahead)


def build_report(project: Project, *, spend: Spend, active_window_days: int,
                 run_folder: Path) -> Report:
    """Score the project, compute the monthly figures and render the page."""
    config = project.config
    scored = score(config, tiers=project.tiers)
    tx = scored.transactions or load_transactions(config)
    settings = EquitySettings(config.period_days, config.discount_rate_per_period,
                              config.retention.lookback_periods, active_window_days)
    figures = monthly_figures(tx, settings, spend.months)
    months = list(figures["month"])
    before = (dt.date.fromisoformat(str(figures["month_start"].iloc[-1]))
              if len(months) > 1 else None)
    measured = report_measure(project)
    stages = lifecycle_stages(config, scored, before, rulebook=project.rulebook)
    run = latest_run(run_folder, config.display(run_folder))
    migration = report_migration(config, scored.tiers.names)
    notes = _notes(config, scored, figures, spend, active_window_days)
    lapse = EPOCH + dt.timedelta(days=int(tx.day.min()) + active_window_days)
    if lapse < scored.as_of and tx.contracts is None:  # contracts end when they end
        notes.insert(-1, f"churn is 0 until {lapse} by definition: a customer lapses only "
                     f"{active_window_days} days after their last purchase")
    gone = "left" if tx.contracts is not None else "lapsed"  # contracts end; buyers lapse
    charts = _charts(config.currency, figures, tier_rows(scored), stages, run, gone)
    if config.subscriptions is not None:  # the sBG's curve beside the observed one
        curve = retention_curve(scored.model, tx, scored.table, projection=max(1, round(
            config.horizon_periods * config.period_days / config.subscriptions.billing_days)))
        if curve is not None:
            charts["retention_curve"] = curve_chart(curve, config.subscriptions.billing_days)
    records = figures.to_dict("records")
    tables = [(title, [c for c in cols if c[0] in figures.columns])
              for title, cols in (*MONTHLY_TABLES, ("", TABLE))]
    context = {
        "name": config.name, "as_of": scored.as_of.isoformat(), "currency": config.currency,
        "data_file": scored.report.file, "spend_file": spend.file,
        "first_month": ch.month_label(months[0]), "last_month": ch.month_label(months[-1]),
        "period_days": config.period_days, "window": active_window_days,
        "subscriptions": config.subscriptions is not None, "horizon": config.horizon_periods,
        "discount_year": f"{config.discount_rate:.1%}",
        "discount_period": f"{config.discount_rate_per_period:.3%}",
        "kpis": kpis(figures, config.currency, config.period_days, gone), "notes": notes,
        "model_equity": model_equity(scored.model, config.currency),
        "value_model": scored.model.describe(),  # and its holdout miss, when chosen by auto
        **model_context(scored, tx, stages, figures, settings, config),
        "charts": {k: Markup(v.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1))
                   for k, v in charts.items()},
        "tiers": _tier_table(tier_rows(scored), config.currency), "stages": stages,
        "tiers_clv_note": cancelled_clv(scored, config.currency),
        "run": _run_context(run, config.currency, scored.as_of.isoformat()),
        "tier_migration": migration,
        "measured": measured,
        "monthly_tables": [
            {"title": title, "head": [h for _, h, _ in cols],
             "rows": [[_cell(row[c], kind, config.currency) for c, _, kind in cols]
                      for row in records]} for title, cols in tables[:-1]],
        "table_head": [h for _, h, _ in tables[-1][1]],
        "table_rows": [[_cell(row[c], kind, config.currency) for c, _, kind in tables[-1][1]]
                       for row in records],
    }
    return Report(_render(project.templates, context), rounded(figures), charts,
                  _summary(config, figures, spend), scored.as_of, last_purchase_day(scored.table),
                  scored.report.dated_ahead)


def model_equity(model: ModelFit, currency: str) -> str | None:
    """Total customer equity by the probabilistic model, with its interval (README "Uncertainty
    of model CLV"), or None when the formulas were used."""
    if not model.used or model.equity is None:
        return None
    total, low, high = model.equity
    name = TITLES[model.transaction_model] + (
        "" if model.transaction_model == "sbg" else " + Gamma-Gamma")
    return (f"By the probabilistic model ({name}), the "
            f"customers' expected discounted margin over the horizon (the sum of clv_model) is "
            f"{currency} {units(total)}, with a {model.interval_level:.0%} interval of {currency} "
            f"{units(low)} to {units(high)} from the uncertainty of the fitted parameters.")


def _render(templates: Templates, context: dict[str, Any]) -> str:
    """The page, from the project's own templates/report.html.j2 if it has one, rendered in
    the same sandbox as the briefs (bounded work and output, every value HTML-escaped)."""
    shown = f"templates/{REPORT_TEMPLATE}" if templates.has(REPORT_TEMPLATE) else \
        REPORT_TEMPLATE
    env = report_environment(templates)
    return render_template(env, REPORT_TEMPLATE, context,
                           lambda name: shown if name == REPORT_TEMPLATE else f"templates/{name}")


def r_moved(f: pd.DataFrame, d: float, lookback: int) -> str | None:
    """When the retention rate moved by 2 points or more in the last month (less is its
    noise): by how much that alone changed every CLV, and customer equity."""
    r = f["retention_rate"].to_numpy()
    if len(r) < 2 or not r[-2] > 0 or math.isnan(r[-1]) or abs(r[-1] - r[-2]) < 0.02 - 1e-9:
        return None
    k0, k1 = r[-2] / (1 + d - r[-2]), r[-1] / (1 + d - r[-1])
    return (f"the retention rate r moved from {percent(r[-2])} to {percent(r[-1])} in "
            f"{ch.month_label(f['month'].iloc[-1])} (it is measured again each month over the "
            f"last {lookback} periods): that alone changes every CLV, and customer equity, by "
            f"{ch.signed(k1 / k0 - 1, '+.1%')}")


def _notes(config: Config, scored: Scored, f: pd.DataFrame, spend: Spend, window: int
           ) -> list[str]:
    notes = spend.notes(list(f["month"])) + [n for n in (
        scored.report.margin_note, scored.report.as_of_note,
        data_end_note(-1 if config.subscriptions else scored.report.last_day, scored.as_of))
        if n]  # contracts: their payments run to the as-of date
    measured = f.index[f["retention_rate"].notna()]
    if len(measured) and measured[0] > 0:
        notes.append(f"customer equity starts in {ch.month_label(f['month'].iloc[measured[0]])}"
                     f": the retention rate needs purchases in two periods of "
                     f"{config.period_days} days first")
    if moved := r_moved(f, config.discount_rate_per_period,
                        config.retention.lookback_periods):
        notes.append(moved)
    if bool(f["partial_month"].iloc[-1]):
        notes.append(f"{ch.month_label(f['month'].iloc[-1])} is a partial month (to "
                     f"{f['month_end'].iloc[-1]}): its flows are of those days only (the revenue "
                     "growth chart sets them against the whole month before), and it is "
                     "charged their share of its spend")
    if config.subscriptions is not None:
        notes.append("a customer counts as active at a month end if one of their contracts "
                     "runs on its last day, and as churned in a month if one ran at its start "
                     "and none runs at its end; one who starts, or comes back, and leaves "
                     "within a month is new and left, or reactivated and left (the active "
                     "window is not used)")
    else:
        notes.append(f"a customer counts as active at a month end if they bought in the "
                     f"{window} days before it")
    return notes


def _charts(cur: str, f: pd.DataFrame, tiers: list[TierRow], stages: Stages, run: LatestRun,
            gone: str) -> dict[str, str]:
    months = list(f["month"])
    money_m, money = ch.Unit("money", cur, "per month"), ch.Unit("money", cur)
    half = ch.HALF

    def s(name: str, col: str, color: str) -> ch.Series:
        return ch.Series(name, [float(v) for v in f[col]], color)

    out = {
        "customer_equity": ch.line_chart(
            "customer_equity", "Customer equity: the value of the active customers",
            months, [s("Customer equity at month end", "customer_equity", ch.BLUE)], money),
        "active_customers": ch.line_chart(
            "active_customers", "Active customers at month end", months,
            [s("Active customers", "customers_end", ch.BLUE)], ch.Unit("count"), width=half),
        "customer_flows": ch.bar_chart(
            "customer_flows", "Customers won and lost each month", months,
            [s("New", "new_customers", ch.GREEN), s("Reactivated", "reactivated_customers",
                                                     ch.SKY),
             ch.Series(f"Churned ({gone})", [-float(v) for v in f["churned_customers"]], ch.RED,
                       negated=True),
             *(ch.Series(name, [-float(v) for v in f[col]], color, negated=True)
               for name, col, color in (("New, left within the month", "new_and_left", ch.ORANGE),
                                        ("Back, left within the month", "reactivated_and_left",
                                         ch.PURPLE)) if col in f)],
            ch.Unit("count", per="per month"), stacked=True, width=half),
        "acquisition_retention_equity": ch.bar_chart(
            "acquisition_retention_equity", "Acquisition equity and retention equity",
            months, [s("Acquisition equity", "acquisition_equity", ch.ORANGE),
                     s("Retention equity", "retention_equity", ch.BLUE)], money_m),
        "revenue_decomposition": ch.bar_chart(
            "revenue_decomposition", "Revenue change vs previous month, by driver "
            "(R = N x V x L)", months,
            [s("N: number of customers", "change_from_customers", ch.BLUE),
             s("V: revenue per active customer", "change_from_value", ch.ORANGE),
             s("L: loyalty", "change_from_loyalty", ch.GREEN)], money_m, stacked=True,
            total=s("Total change", "revenue_change", "#1a1a1a")),
        "revenue_margin": ch.line_chart(
            "revenue_margin", "Revenue and gross margin", months,
            [s("Revenue", "revenue", ch.BLUE), s("Gross margin", "gross_margin", ch.GREEN)],
            money_m),
        "churn_rate": ch.line_chart(
            "churn_rate", f"Churn rate: share of active customers who {gone}",
            months, [s("Churn rate", "churn_rate", ch.RED)], ch.Unit("percent", per="per month"),
            width=half),
        "average_order_value": ch.line_chart(
            "average_order_value", "Average order value", months,
            [s("Average order value", "avg_order_value", ch.PURPLE)], money, width=half),
        "value_tiers": ch.hbar_chart(
            "value_tiers", "Value tiers: share of customers and of total value",
            [t.name for t in tiers],
            [ch.Series("Share of customers", [t.customer_share for t in tiers], ch.GREY),
             ch.Series("Share of total value", [t.value_share for t in tiers], ch.BLUE)],
            ch.Unit("percent")),
    }
    if not stages.missing:
        series = [ch.Series(f"As of {stages.after}", list(stages.count_after), ch.BLUE)]
        if stages.before is not None:
            series.insert(0, ch.Series(f"As of {stages.before}", list(stages.count_before),
                                       ch.GREY))
            out["stage_flows"] = ch.matrix_chart(
                "stage_flows", f"Stage flows from {stages.before} to {stages.after}",
                stages.flow_rows, stages.names, stages.flows,
                row_caption=f"stage on {stages.before}", col_caption=f"stage on {stages.after}")
        out["lifecycle_stages"] = ch.hbar_chart("lifecycle_stages", "Customers per lifecycle "
                                                "stage", stages.names, series, ch.Unit("count"))
    if run.channels is not None and len(run.channels):
        b = run.channels
        names = [str(x) for x in b["channel"]]
        out["channel_allocation"] = ch.hbar_chart(
            "channel_allocation", "Latest run: cost and expected value by channel", names,
            [ch.Series("Cost", [float(x) for x in b["cost"]], ch.RED),
             ch.Series("Expected value", [float(x) for x in b["expected_value"]], ch.GREEN)],
            money, caption="Contacts: " + ", ".join(f"{c} {int(n):,}" for c, n in
                                                    zip(names, b["contacts"], strict=True)))
        used = [b[c].astype(float) for c in ("budget_used_share", "capacity_used_share")]
        if any(u.notna().any() for u in used):
            out["channel_capacity"] = ch.hbar_chart(
                "channel_capacity", "Latest run: share of each channel's budget and capacity "
                "used", names, [ch.Series("Budget used", list(used[0]), ch.ORANGE),
                                ch.Series("Capacity used", list(used[1]), ch.SKY)],
                ch.Unit("percent"))
    return out


def _cell(value: Any, kind: str, cur: str) -> str:
    if kind == "text":
        return str(value)
    v = float(value)
    if math.isnan(v):
        return ""
    if kind == "percent":
        return f"{fixed(v * 100, 1)}%"
    if kind == "money2":
        return fixed(v, 2)
    return units(v)  # money to the unit as the file's cents read (a count is whole)


def _tier_table(tiers: list[TierRow], cur: str) -> list[list[str]]:
    return [[t.name, f"{t.customers:,}", percent(t.customer_share), units(t.total_value),
             percent(t.value_share), f"{t.avg_total_value:,.2f}", units(t.clv_discounted)]
            for t in tiers]


def _run_context(run: LatestRun, cur: str, as_of: str) -> dict[str, Any]:
    if run.channels is None or run.campaigns is None:
        return {"missing": run.missing}

    def rows(frame: pd.DataFrame, key: str) -> list[list[str]]:
        capacity = key == "channel"  # campaigns have budgets, channels also capacities
        return [[str(r[key]), _cell(r["contacts"], "count", cur), _cell(r["cost"], "money2", cur),
                 _cell(r["budget"], "money", cur), _cell(r["budget_used_share"], "percent", cur),
                 *([_cell(r["capacity"], "count", cur),
                    _cell(r["capacity_used_share"], "percent", cur)] if capacity else []),
                 _cell(r["expected_value"], "money", cur)] for r in frame.to_dict("records")]

    return {"missing": "", "folder": run.folder, "run_id": run.run_id,
            "as_of": run.as_of, "other_date": bool(run.as_of) and run.as_of != as_of,
            "channels": rows(run.channels, "channel"), "campaigns": rows(run.campaigns,
                                                                         "campaign"),
            "statuses": [f"{n:,} {s.replace('_', ' ')}" for s, n in run.statuses],
            "cost": f"{float(run.channels['cost'].sum()):,.2f}",
            "value": units(float(run.channels['expected_value'].sum()))}


def _summary(config: Config, f: pd.DataFrame, spend: Spend) -> list[str]:
    last, cur, money = f.iloc[-1], config.currency, ch.Unit("money", config.currency)
    as_of = dt.date.fromisoformat(last["month_end"]) + dt.timedelta(days=1)  # a partial month's
    when = f"on {as_of}, the as-of date" if last["partial_month"] else \
        f"at the end of {last['month']}"
    return [f"Report for {config.name}: {len(f)} months, {f['month'].iloc[0]} to "
            f"{last['month']}",
            f"  customer equity {ch.fmt(last['customer_equity'], money)} {when} "
            f"({counted(int(last['customers_end']), 'active customer')}, average CLV "
            f"{money2(last['avg_clv'], cur)})",
            f"  {last['month']}{f' ({covered(last)})' if last['partial_month'] else ''}: revenue "
            f"{ch.fmt(last['revenue'], money)}, churn rate "
            f"{ch.fmt(last['churn_rate'], ch.Unit('percent'))}, "
            f"{int(last['new_customers']):,} new customers",
            f"  marketing spend: {spend.file}" if spend.file else
            "  note: no marketing-spend file: costs taken as 0"]
