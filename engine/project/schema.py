"""The customer value table's columns, declared once.

Used to write the table, to document it (``cvm schema`` and the README), and to check the
attribute names and types that rules and policies refer to before anything runs.

Attribute types seen by conditions: ``number`` (int or float), ``text``, ``boolean``, ``date``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

NUMBER, TEXT, BOOLEAN, DATE = "number", "text", "boolean", "date"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    nullable: bool = False


_C = Column
VALUE_COLUMNS: tuple[Column, ...] = (
    _C("customer_id", TEXT, "The customer's id, as in the input (text)."),
    _C("first_purchase", DATE, "Date of the first purchase."),
    _C("last_purchase", DATE, "Date of the last purchase before the as-of date (purchases on or "
       "after it are not read)."),
    _C("recency_days", NUMBER, "Days from the last purchase to the as-of date."),
    _C("tenure_days", NUMBER, "Days from the first purchase to the as-of date."),
    _C("frequency", NUMBER, "Repeat purchases: purchase occasions (distinct purchase days) "
       "minus one."),
    _C("orders", NUMBER, "Distinct order ids, plus one order per purchase day for rows without "
       "an order id."),
    _C("active_periods", NUMBER, "Periods (of period_days, counted back from the as-of date) "
       "with a purchase."),
    _C("revenue", NUMBER, "Net revenue: purchases minus refunds."),
    _C("refunds", NUMBER, "Amount refunded (positive number), already netted in revenue."),
    _C("avg_order_value", NUMBER, "revenue / orders."),
    _C("gross_margin", NUMBER, "Net revenue minus cost (or revenue x margin_rate without costs)."),
    _C("margin_rate", NUMBER, "gross_margin / revenue; empty when revenue is not positive.", True),
    _C("revenue_recent", NUMBER, "Net revenue in the most recent period."),
    _C("revenue_previous", NUMBER, "Net revenue in the period before it."),
    _C("purchase_trend", NUMBER,
       "(recent - previous) / (abs(recent) + abs(previous)) revenue, from -1 (all revenue in the "
       "previous period) to 1 (all in the recent one); 0 when both are 0."),
    _C("avg_interpurchase_days", NUMBER,
       "Usual gap between purchases: (last - first purchase) / frequency; empty for one-time "
       "buyers.", True),
    _C("recency_ratio", NUMBER,
       "recency_days / avg_interpurchase_days: how overdue the next purchase is; empty for "
       "one-time buyers.", True),
    _C("category_breadth", NUMBER, "Distinct product categories bought (0 without categories)."),
    _C("referrals_made", NUMBER, "Customers in the customers file who name this one in "
       "referred_by (not counting this one itself)."),
    _C("signup_date", DATE, "From the customers file, if it maps one (else empty).", True),
    _C("preferred_channel", TEXT, "From the customers file, if it maps one (else empty).",
       True),
    _C("referred_by", TEXT, "Who referred this customer, from the customers file, if it maps "
       "one (else empty).", True),
    _C("historic_value", NUMBER, "Gross margin earned to date (= gross_margin)."),
    _C("margin_per_purchase", NUMBER, "gross_margin / purchase occasions (frequency + 1)."),
    _C("repeat_rate", NUMBER, "Repeat purchases per period: frequency / tenure_periods."),
    _C("margin_per_period", NUMBER, "m = margin_per_purchase x repeat_rate: margin per period "
       "from repeat buying, inactive periods included."),
    _C("expected_repeat_purchases", NUMBER, "repeat_rate x horizon_periods."),
    _C("margin_per_active_period", NUMBER, "gross_margin / active_periods; 0 for one-time "
       "buyers."),
    _C("retention_segment", TEXT, "The group whose measured retention rate applies: "
       "'value band k of n', 'all customers' (retention.by: none), or 'all customers "
       "(value band k of n pooled: few customers)' when the customer's band had too few "
       "customer-periods for a rate of its own (retention.min_customers)."),
    _C("retention_rate", NUMBER, "r: measured probability that a customer active in a period "
       "is active in the next."),
    _C("clv_simple", NUMBER, "margin_per_active_period x (r + r^2 + ... + r^H): the horizon, "
       "undiscounted."),
    _C("clv_discounted", NUMBER, "margin_per_active_period x r / (1 + d - r), d the discount "
       "rate per period."),
    _C("potential_value", NUMBER,
       "Expected margin over the horizon if retained: sum over t=1..H of m / (1 + d)^t; for a "
       "one-time buyer, what comparable earlier one-time buyers went on to earn."),
    _C("current_value", NUMBER, "Margin earned in the last H periods (the same span as the "
       "horizon, looking back)."),
    _C("influence_value", NUMBER, "Gross margin of the customers this one referred."),
    _C("total_value", NUMBER, "historic_value + potential_value + influence_value."),
    _C("value_score", NUMBER, "Percentile of total_value among all customers, 0 to 100."),
    _C("value_tier", TEXT, "Tier from rules/value_tiers.yaml."),
    _C("growth_headroom", NUMBER, "potential_value - margin of the purchases of the last H "
       "periods (current_value with refunds not deducted)."),
)

# Added by later stages (lifecycle, probabilistic models); present when those stages ran.
STAGE_COLUMNS: tuple[Column, ...] = (
    _C("lifecycle_stage", TEXT, "acquisition, growth, maturity, decline or exit."),
    _C("stage_rule", TEXT, "Id of the rule in rules/lifecycle.yaml that gave the stage."),
)
MODEL_COLUMNS: tuple[Column, ...] = (
    _C("p_alive", NUMBER, "Probability the customer is still active (probabilistic model).", True),
    _C("churn_risk", NUMBER, "1 - p_alive.", True),
    _C("expected_purchases", NUMBER, "Expected purchases over the horizon (model).", True),
    _C("clv_model", NUMBER, "Expected discounted margin over the horizon (model).", True),
    _C("clv_model_lower", NUMBER, "Lower end of clv_model's interval (models.interval_level, "
       "from the parameters' uncertainty).", True),
    _C("clv_model_upper", NUMBER, "Upper end of clv_model's interval.", True),
)

# With subscriptions: in cvm.yaml (engine.value.subscriptions), beside the model columns.
SUBSCRIPTION_COLUMNS: tuple[Column, ...] = (
    _C("days_to_contract_end", NUMBER, "Days from the as-of date to the end of the customer's "
       "running contract, its first day not covered (of several running, the latest; a "
       "contract booked to start by then carries it on to its own end), where every contract "
       "of theirs running has an end: a cancellation booked or a fixed term ending; empty "
       "when one runs without an end, or none runs. Contracts of a negative price (discount "
       "lines) end nothing.", True),
)



def contracts_only_hint(name: str) -> str | None:
    """The hint for an attribute of contracts named where ``subscriptions:`` is not set."""
    if name not in {c.name for c in SUBSCRIPTION_COLUMNS}:
        return None
    return (f"{name} is read from the contracts' ends: only with a subscriptions: section in "
            "cvm.yaml (README \"Subscriptions and contracts\")")


# The outcomes of a response (cvm responses import); last_outcome takes these values.
OUTCOMES = ("converted", "responded", "no_response", "complained", "opted_out")
# Of a customer's responses on one day, the one last_outcome and the contact policies' quiet
# days read (the latest): the last in this order, the strongest signal, whatever order the
# files were imported in (README "Value-change attributes").
OUTCOME_PRECEDENCE = ("no_response", "responded", "converted", "complained", "opted_out")

# From the history (engine.history.changes): what changed since the previous run. Missing on
# a first run (contacts_last_30_days is 0 then).
CHANGE_COLUMNS: tuple[Column, ...] = (
    _C("previous_tier", TEXT, "Value tier in the previous run.", True),
    _C("previous_stage", TEXT, "Lifecycle stage in the previous run.", True),
    _C("tier_change", NUMBER, "Tiers moved since the previous run: +1 up one tier, -2 down "
       "two.", True),
    _C("total_value_change_pct", NUMBER, "100 x (total_value - previous total_value) / "
       "abs(previous total_value); empty when that is 0.", True),
    _C("days_since_last_contact", NUMBER, "Days from the customer's last contact before the "
       "as-of date (a run that contacted them, or a contact cvm serve gave) to the as-of "
       "date.", True),
    _C("contacts_last_30_days", NUMBER, "Days with a contact in the 30 days ending on the "
       "as-of date: the as-of date and the 29 days before it. A run on the as-of date is this "
       "run, so a contact counts 1 to 29 days back: 29 days back counts, 30 does not."),
    _C("last_outcome", TEXT, "Outcome of the latest imported response dated before the as-of "
       "date; of two or more on that day, the last of no_response, responded, converted, "
       "complained, opted_out (the strongest), whatever order the files were imported in.",
       True),
)


# The value table's numbers that cannot be below 0 (days, counts) or outside a range
# (probabilities, percentiles): what a value sent in place of the run's (`cvm serve`'s
# context) must be within, as the run could have computed it. None: no upper end.
BOUNDS: dict[str, tuple[float, float | None]] = {
    **dict.fromkeys(("recency_days", "tenure_days", "frequency", "orders", "active_periods",
                     "avg_interpurchase_days", "category_breadth", "referrals_made",
                     "days_since_last_contact", "contacts_last_30_days",
                     "days_to_contract_end"), (0.0, None)),
    **dict.fromkeys(("p_alive", "churn_risk", "retention_rate"), (0.0, 1.0)),
    "value_score": (0.0, 100.0),
}


def consent_column(name: str) -> str:
    """Consents from the customers file become boolean ``consent_<name>`` attributes."""
    return f"consent_{name}"


def attribute_types(
    *, consents: Iterable[str] = (), extra: Mapping[str, str] | None = None,
    include_stage: bool = True, include_model: bool = True, subscriptions: bool = False,
) -> dict[str, str]:
    """Every attribute a rule or policy may name, with its type (``subscriptions``: the
    contracts' too)."""
    cols = list(VALUE_COLUMNS)
    if include_stage:
        cols += STAGE_COLUMNS
    if include_model:
        cols += MODEL_COLUMNS
    if subscriptions:
        cols += SUBSCRIPTION_COLUMNS
    cols += CHANGE_COLUMNS
    types = {c.name: c.type for c in cols}
    types.update({consent_column(c): BOOLEAN for c in consents})
    types.update(extra or {})
    return types



def markdown_table(columns: Iterable[Column] = VALUE_COLUMNS) -> str:
    """The columns as a Markdown table (the README's copy is checked against this)."""
    rows = ["| column | type | meaning |", "|---|---|---|"]
    rows += [f"| `{c.name}` | {c.type}{' (may be empty)' if c.nullable else ''} | "
             f"{c.description} |" for c in columns]
    return "\n".join(rows)
