"""``cvm explain CUSTOMER_ID``: why a customer got their value, stage and decision."""

from __future__ import annotations

import difflib
from pathlib import Path

import typer

from engine.activation.learned import explain_lines
from engine.commands.common import project_of
from engine.errors import InputError, Problem
from engine.history import with_changes
from engine.history.contact_explain import contact_lines
from engine.history.learn import read_learned
from engine.policy.explain import explain
from engine.policy.lifecycle import assign_stages
from engine.value.score import score


def run(*, project: Path | None, config_file: Path | None, customer_id: str,
        json_out: bool = False) -> int:
    setup = project_of(project, config_file)
    config = setup.config
    scored = score(config, tiers=setup.tiers)
    table = with_changes(config, scored)
    found = table.index[table["customer_id"] == customer_id]
    if len(found) == 0:
        close = difflib.get_close_matches(customer_id, table["customer_id"].tolist(), n=3)
        raise InputError(Problem(
            f"customer {customer_id!r} is not in the value table ({len(table):,} customers "
            f"with a purchase before {scored.as_of})", key="CUSTOMER_ID",
            hint=("did you mean " + ", ".join(repr(c) for c in close) + "?") if close
            else "customer ids are matched exactly, as text"))
    row = assign_stages(table.loc[found], setup.rulebook).iloc[0]
    why = explain(row.to_dict(), setup.rulebook)
    if json_out:  # issue 17
        from engine.workflow.json_output import explain_json

        typer.echo(explain_json(why))
        return 0
    pol = why.action_policy
    contact = pol is not None and bool(pol.channels)
    lines = contact_lines(config, setup.contacts, customer_id=customer_id,
                          campaign=pol.campaign if contact and pol else None,
                          channels=pol.channels if contact and pol else (), as_of=scored.as_of)
    camp = (pol.campaign or pol.id) if contact and pol else None
    learned = read_learned(config, scored.transactions, setup.channels, as_of=scored.as_of,
                           campaigns=[camp] if camp else [])
    lines += explain_lines(learned, camp, pol.channels if contact and pol else ())
    typer.echo("\n".join([why.format(), *lines]))
    return 0
