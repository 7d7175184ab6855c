"""``cvm explain CUSTOMER_ID``: why a customer got their value, stage and decision."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import typer

from engine.commands.common import last_purchase, project_of, warn_if_ahead
from engine.errors import InputError, Problem
from engine.words import counted


def run(*, project: Path | None, config_file: Path | None, customer_id: str,
        json_out: bool = False, history: bool = True) -> int:
    """As ``cvm run`` decides now (``history=False``: as ``cvm run --no-history`` does)."""
    setup = project_of(project, config_file)
    # the scoring's libraries once the project is read (an error in it is said at once)
    from engine.activation.learned import explain_lines
    from engine.history import with_changes
    from engine.history.checks import check_readable
    from engine.history.contact_explain import contact_verdicts, lines_of
    from engine.history.learn import read_learned
    from engine.policy.explain import explain
    from engine.policy.lifecycle import assign_stages
    from engine.value.score import score

    config = setup.config
    if history:
        check_readable(config)  # a history validate refuses is not read (exit 1)
    scored = score(config, tiers=setup.tiers)
    warn_if_ahead(config, scored.as_of, last_purchase(scored.table),
                  scored.report.dated_ahead)
    table = with_changes(config, scored, use_history=history)
    found = table.index[table["customer_id"] == customer_id]
    if len(found) == 0:
        raise InputError(_not_scored(customer_id, table["customer_id"].tolist(), scored, config))
    row = assign_stages(table.loc[found], setup.rulebook).iloc[0]
    why = explain(row.to_dict(), setup.rulebook, model=scored.model)
    pol = why.action_policy
    contact = pol is not None and bool(pol.channels)
    camp = (pol.campaign or pol.id) if contact and pol else None
    chans = pol.channels if contact and pol else ()
    verdicts = contact_verdicts(config, setup.contacts, customer_id=customer_id,
                                campaign=camp, channels=chans, as_of=scored.as_of,
                                use_history=history)
    learned = read_learned(config, scored.transactions, setup.channels, as_of=scored.as_of,
                           campaigns=[camp] if camp else [], use_history=history)
    # the allocation is decided among every customer: the run's computation, written nowhere
    from engine.project.rulebook import NO_ACTION
    from engine.run.explain_allocation import NOTHING, allocation_view
    from engine.run.pipeline import compute

    # (no action: nothing to allocate, and no need to decide everyone else: seconds at 1M)
    placed = allocation_view(compute(setup, scored=scored, history=history), customer_id) \
        if why.action not in (None, NO_ACTION) else NOTHING
    if json_out:  # issue 17; the contact policies and the expected response: issue 13
        from engine.workflow.json_output import explain_json

        figs = learned.campaigns.get(camp or "")
        typer.echo(explain_json(why, contact_policies=verdicts, expected_response=None if
                                figs is None else {"campaign": camp, "source": learned.source,
                                                    "runs_measured": figs.counts.runs,
                                                    **figs.as_dict()},
                                allocation=placed.as_dict()))
        return 0
    lines = explain_lines(learned, camp, chans)
    lines += lines_of(verdicts) if verdicts is not None else \
        ["", "Contact policies: none (no policies/contact_policies.yaml)"]
    lines += placed.lines(config.currency)
    typer.echo("\n".join([why.format(), *lines]))
    return 0


def _not_scored(customer_id: str, scored_ids: list[str], scored: Any, config: Any) -> Problem:
    """Why the value table does not hold the customer, where the data say it: rows of theirs
    hold no purchase before the as-of date, or the customers file has them without a
    transaction; else the ids closest to the one asked for."""
    import pyarrow.compute as pc

    from engine.value.customers import load_customers

    contracts = config.subscriptions is not None  # contracts and payments, not purchases
    bought = "payment" if contracts else "purchase"
    # every id of the rows read, purchases or not
    has_rows = pc.index(scored.transactions.id_array, customer_id).as_py() >= 0
    if has_rows and contracts:
        return Problem(
            f"customer {customer_id!r} has a contract but no payment before {scored.as_of} "
            "(contracts starting on or after it, of price 0, duplicates or refunds): not in "
            "the value table", key="CUSTOMER_ID",
            hint="a subscriber is valued from their payments before the as-of date")
    if has_rows:
        return Problem(
            f"customer {customer_id!r} has transactions but no purchase before "
            f"{scored.as_of} (rows dated on or after it, of amount 0, duplicates or refunds): "
            "not in the value table", key="CUSTOMER_ID",
            hint="a customer is valued from their purchases before the as-of date")
    customers = load_customers(config)
    if customers is not None and pc.index(customers.ids, customer_id).as_py() >= 0:
        return Problem(
            f"customer {customer_id!r} is in the customers file ({customers.file}) but has no "
            "transaction: not in the value table", key="CUSTOMER_ID",
            hint="a customer is valued from their purchases; cvm score counts those without one")
    # an id written another way first (a spreadsheet's 3 for 000003, c1 for C1), then the
    # ids spelt close to it
    loose = _loose(customer_id)
    close = [c for c in scored_ids if _loose(c) == loose][:3] or difflib.get_close_matches(
        customer_id, scored_ids, n=3)
    return Problem(
        f"customer {customer_id!r} is not in the value table "
        f"({counted(len(scored_ids), 'customer')} with a {bought} before {scored.as_of})",
        key="CUSTOMER_ID",
        hint=("did you mean " + ", ".join(repr(c) for c in close) + "?") if close
        else "customer ids are matched exactly, as text")


def _loose(customer_id: str) -> str:
    """An id without its case, surrounding spaces and leading zeros."""
    return customer_id.strip().lower().lstrip("0") or "0"
