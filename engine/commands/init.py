"""``cvm init [FOLDER] [--from FILE]``: scaffold a project, guessing the mapping from a file."""

from __future__ import annotations

from pathlib import Path

import typer

from engine.errors import InputError, Problem, UsageError
from engine.workflow.scaffold import PLACEHOLDER, scaffold
from engine.workflow.sniff import Sniffed, sniff
from engine.workflow.sniff_contracts import detect_contracts


def run(*, folder: Path, source: Path | None, quiet: bool,
        contracts: bool | None = None) -> int:
    """``contracts``: True reads the file as contracts, False as transactions, None guesses."""
    sniffed: Sniffed | None = None
    considered: str | None = None
    if source is None and contracts is not None:
        flag = "--contracts" if contracts else "--transactions"
        raise UsageError(Problem("given without --from, expected --from FILE (the file to read)",
                                 key=flag,
                                 hint=f"give the file to read with --from, or drop {flag}"))
    if source is not None:
        if not source.is_file():
            raise InputError(Problem("file not found" if not source.exists() else
                                     "is a folder, expected a transactions file",
                                     file=str(source), key="--from",
                                     hint="give the path of your transactions export (CSV or "
                                     "Parquet), "
                                     "relative to the current folder or absolute"))
        sniffed = sniff(source)
        # one row per contract: a subscriptions: project (or the reading, said when unsure)
        considered = detect_contracts(sniffed, contracts)
    written = scaffold(folder, sniffed)
    if not quiet:
        typer.echo(f"wrote {folder}/: cvm.yaml, rules/, policies/, templates/, policy_tests/, "
                   f"triggers/, schemas/ ({len(written.files)} files)")
        if sniffed is not None:
            typer.echo(f"  {sniffed.file.name}: " + (
                "a Parquet file (its column types read as they are)" if sniffed.parquet else
                f"{sniffed.encoding}, delimiter {sniffed.delimiter!r}")
                + (f", decimal mark {sniffed.decimal!r}" if sniffed.decimal != "." else ""))
            if sniffed.date_format:
                typer.echo(f"  dates {sniffed.date_format} ({sniffed.date_sure}: " + (
                    ("a two-digit year may come first or last in the sample"
                     if sniffed.date_first == "the year" else
                     "day and month cannot be told apart in the sample")
                    + f"; if {sniffed.date_first} comes first, write date_format: "
                    f"\"{sniffed.date_other}\" in cvm.yaml)"
                    if sniffed.date_other else f"{sniffed.date_why})"))
            for name, guess in sniffed.mapping.items():
                typer.echo(f"  {name:<12} <- {guess.column!r} ({guess.sure}: {guess.why})")
            for name, why in sniffed.not_mapped.items():
                typer.echo(f"  {name:<12} not mapped: {why}")
            deal = sniffed.contracts
            if deal is not None:
                typer.echo(f"  contracts: one row per contract (subscriptions:), ended by "
                           f"{deal.end.column!r}, billed every {deal.billing_days} days "
                           f"({deal.billing_sure}: {deal.billing_why})")
            if considered is not None:
                typer.echo(f"  {'contracts?':<12} {considered}")
    if sniffed is not None and sniffed.not_guessed:
        lines = (folder / "cvm.yaml").read_text(encoding="utf-8").splitlines()
        for name, why in sniffed.not_guessed.items():
            # the line of cvm.yaml to fill in (`    amount: null  # NOT GUESSED: ...`)
            at = next((i + 1 for i, line in enumerate(lines)
                       if line.startswith(f"    {name}: null")), None)
            problem = Problem(f"not guessed: {why}", file=str(folder / "cvm.yaml"), line=at,
                              key=f"data.columns.{name}", hint=_not_guessed_hint(name, why))
            typer.echo(f"error: {problem.format()}", err=True)
        return 1
    if not quiet:
        typer.echo("next: cvm validate, cvm test, cvm run" if sniffed is not None else
                   f"next: put your transactions at {PLACEHOLDER} (or change data.transactions"
                   "), map its columns in cvm.yaml, then cvm validate")
    return 0


def _not_guessed_hint(name: str, why: str) -> str:
    """What to write for a column init could not map: where a column is named like it but its
    values were not read (a first-day trial's '1/2/2023 6:57 PM', '42,70-'), that it may be
    the one, with the setting its values need; else to name the column."""
    import re

    named = re.match(r"'([^']+)' is named like it", why)
    if named is None:
        return f"write the name of the column holding {name} in cvm.yaml, then run `cvm validate`"
    col = named.group(1)
    need = (" and data.date_format as its dates are written (strftime codes: \"%m/%d/%Y "
            "%I:%M %p\" reads 1/2/2023 6:57 PM)" if name == "date" else "")
    return (f"if {col!r} is the column, write {name}: {col}{need} in cvm.yaml, then run `cvm "
            "validate`, which says what each value needs; else write the name of the column "
            f"holding {name}")
