"""``cvm init``: write a new project (cvm.yaml, rules/, policies/, templates/, policy_tests/).

The starter rules, policies, templates and tests are those of ``engine/workflow/starter/`` (the
repository's starter set; its channels need no consent, since a transactions file has none).
A contracts file (``subscriptions:``) gets the subscription starter instead: the files of
``starter_subscriptions/`` replace those of the same name (lifecycle stages by whether a contract
runs, tenure and churn risk; policies that never welcome or retain a customer who left) and the
purchase-only ones are left out.
Nothing is ever overwritten: every file is created exclusively, after checking that none of
them exists.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import OutputError, Problem
from engine.workflow.sniff import REQUIRED, Sniffed
from engine.workflow.sniff_alike import alike_rows, same_rows

STARTER = Path(__file__).resolve().parent / "starter"
SUBSCRIPTION_STARTER = STARTER.parent / "starter_subscriptions"
# a one-time buyer is a purchase idea: a subscriber's frequency 0 is their first billing period
PURCHASES_ONLY = frozenset({"policies/one_time_big_buyer.yaml"})
# the starter lifecycle's fallback without the model, one billing period (30 days as written)
NO_PAYMENT = "recency_days: {gt: 30}   # without the model: no payment in the last billing period"
TX_FIELDS = ("customer_id", "date", "amount", "cost", "margin", "quantity", "order_id",
             "channel", "category")
OPTIONAL_NOTES = {
    "cost": "without cost or margin, margin_rate below is used",
    "margin": "or give cost; without either, margin_rate below is used",
    "quantity": "optional", "order_id": "optional: without it, one order per customer and day",
    "channel": "optional", "category": "optional: needed for category_breadth (cross-selling)",
}
PLACEHOLDER = "data/transactions.csv"


@dataclass(frozen=True)
class Written:
    folder: Path
    files: tuple[str, ...]  # relative to the folder


def starter_files(billing_days: int | None = None) -> dict[str, bytes]:
    """The starter project's files by relative path; ``billing_days``: a contracts project's
    billing period, for the subscription starter (None: the purchase starter). With them, the
    JSON Schemas of the project's files (``schemas/``), which their first lines name for an
    editor: the repository's files name ``engine/schemas/``, which a project made here lacks."""
    files = _with_schemas(_files(STARTER))
    if billing_days is None:
        return files
    files = {k: v for k, v in files.items() if k not in PURCHASES_ONLY} | _with_schemas(
        _files(SUBSCRIPTION_STARTER))
    stages = files["rules/lifecycle.yaml"].decode()
    assert NO_PAYMENT in stages
    files["rules/lifecycle.yaml"] = stages.replace(NO_PAYMENT, NO_PAYMENT.replace(
        "30", str(billing_days), 1)).encode()
    return dict(sorted(files.items()))


SCHEMAS = STARTER.parent.parent / "schemas"
# the schemas of the files a project holds (not those of the commands' --json output)
PROJECT_SCHEMAS = ("campaigns", "channels", "contact_policies", "cvm", "policy", "rules",
                   "triggers", "value_tiers")
SCHEMA_LINE = b"$schema=../engine/schemas/"


def _with_schemas(files: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` naming the project's own copy of the schemas, and that copy."""
    out = {k: v.replace(SCHEMA_LINE, b"$schema=../schemas/") for k, v in files.items()}
    return out | {f"schemas/{n}.schema.json": (SCHEMAS / f"{n}.schema.json").read_bytes()
                  for n in PROJECT_SCHEMAS}


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root).as_posix()): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def config_text(name: str, sniffed: Sniffed | None, data_path: str) -> str:
    lines = [f"# CVM project {name!r}, written by `cvm init`. README \"Your own data: cvm.yaml\""
             " says what each", "# setting means."]
    if sniffed is None:
        lines += ["# Put your transactions file at the path below (or change it) and map its "
                  "columns, then", "# run `cvm validate`."]
    else:
        lines += [f"# Guessed from {sniffed.file.name} ({sniffed.rows:,} rows sampled): check "
                  "every line marked `guess`,", "# then run `cvm validate` and `cvm test`."]
        if sniffed.not_guessed:
            lines.append("# NOT GUESSED (fill these in before `cvm run`): "
                         + ", ".join(sniffed.not_guessed))
    lines += [f"name: {_q(name)}", "data:", f"  transactions: {_q(data_path)}"]
    if sniffed is None:
        lines += ["  delimiter: \",\"", "  encoding: utf-8",
                  "  # date_format: \"%d/%m/%Y\"    # only when dates are not YYYY-MM-DD",
                  "  duplicates: drop             # exact duplicate rows are counted and "
                  "skipped", "  columns:                     # our name: the column in your "
                  "file", "    customer_id: CustomerID", "    date: OrderDate",
                  "    amount: NetAmount", "    # cost: Cost                # or margin: "
                  "<column>; without either, margin_rate is used"]
    else:
        lines += ["  # a Parquet file: read by its column types (no delimiter or encoding)"] \
            if sniffed.parquet else [
                f"  delimiter: {_q(sniffed.delimiter)}  # guess: {sniffed.delimiter_why}",
                f"  encoding: {sniffed.encoding}  # guess: {sniffed.encoding_why}"]
        if sniffed.decimal != ".":
            lines.append(f"  decimal: {_q(sniffed.decimal)}  # guess: {sniffed.decimal_why}")
        if (fmt := sniffed.written_as) is not None:
            lines += [f"  {key}: {_q(value)}  # guess: {fmt.why}" for key, value in (
                ("thousands", fmt.numbers.thousands), ("currency_sign", fmt.numbers.sign))
                if value]
        if sniffed.date_format:
            lines.append(f"  date_format: {_q(sniffed.date_format)}  # guess "
                         f"({sniffed.date_sure}): {sniffed.date_why}"
                         + (f"; if {sniffed.date_first} comes first: {_q(sniffed.date_other)}"
                            if sniffed.date_other else ""))
        elif "date" in sniffed.mapping:
            lines.append(f"  # date_format: not needed, dates are YYYY-MM-DD ({sniffed.date_why})")
        lines += ["  duplicates: drop  # a contract's row twice (its contract id too) is "
                  "counted and skipped" if sniffed.contracts and "order_id" in sniffed.mapping
                  else "  duplicates: keep  # every row is a contract of its own (no contract "
                  "id tells a row exported twice from two alike)" if sniffed.contracts
                  else _line_items(sniffed) or "  duplicates: drop  # exact duplicate rows "
                  "are counted and skipped; `keep` when identical rows are real purchases",
                  "  columns:  # our name: the column in your file"]
        for field in TX_FIELDS:
            guess = sniffed.mapping.get(field)
            if guess is not None:
                lines.append(f"    {field}: {_q(guess.column)}  # guess ({guess.sure}): "
                             f"{guess.why}")
            elif field in REQUIRED:
                why = sniffed.not_guessed.get(field, "not found")
                lines.append(f"    {field}: null  # NOT GUESSED: {why}; write the name of the "
                             "column holding it (the columns: "
                             + ", ".join(sniffed.header) + ")")
            elif field in sniffed.not_mapped:
                lines.append(f"    # {field}: not mapped: {sniffed.not_mapped[field]}")
            elif field != "margin" or "cost" not in sniffed.mapping:
                lines.append(f"    # {field}: not found ({OPTIONAL_NOTES[field]})")
        lines += _subscriptions(sniffed)
    lines += [
        "as_of: null  # default: the day after the last transaction",
        f"currency: {sniffed.currency[0]}  # guess: {sniffed.currency[1]}" if sniffed is not None
        and sniffed.currency else "currency: EUR  # not guessed: your currency code",
        _period_line(sniffed),
        "horizon_periods: 4", "discount_rate: 0.10  # per year",
        "margin_rate: 0.30  # only for rows without cost or margin",
        "output: output", ""]
    return "\n".join(lines)


def _period_line(sniffed: Sniffed | None) -> str:
    """period_days: 90, or one billing period when contracts are billed less often (a period
    without a payment would make the formulas' retention 0: cvm.yaml refuses it)."""
    billing = sniffed.contracts.billing_days if sniffed and sniffed.contracts else 0
    if billing > 90:
        return (f"period_days: {billing}  # one period for retention, trend and CLV: at least "
                "one billing period")
    return ("period_days: 90  # one period for retention, trend and CLV (the starter rules say "
            "90 days)")


def _subscriptions(sniffed: Sniffed) -> list[str]:
    """A contracts file: the section that turns each contract into its payments."""
    found = sniffed.contracts
    if found is None:
        return []
    return ["subscriptions:  # guess: a contracts file, one row per contract (README "
            "\"Subscriptions and contracts\"): date is its start, amount its price per "
            "billing period",
            f"  end: {_q(found.end.column)}  # guess ({found.end.sure}): {found.end.why}",
            f"  billing_days: {found.billing_days}  # guess ({found.billing_sure}): "
            f"{found.billing_why}"]


def _in_the_way(folder: Path, files: dict[str, bytes]) -> list[str]:
    """Every path the files would take that exists: a file itself, or a file where one of
    their folders goes (``templates`` as a file), the project folder aside."""
    if folder.exists() and not folder.is_dir():
        return ["."]
    found = {name for name in files if (folder / name).exists()}
    for name in files:
        for parent in Path(name).parents:
            if parent != Path(".") and (folder / parent).exists() and not (
                    folder / parent).is_dir():
                found.add(parent.as_posix())
    return sorted(found, key=lambda n: (n != "cvm.yaml", n))


def scaffold(folder: Path, sniffed: Sniffed | None) -> Written:
    """Write the project into ``folder``; refuse (before writing anything) if a file exists."""
    contracts = sniffed.contracts if sniffed is not None else None
    files = {"cvm.yaml": b"", **starter_files(
        contracts.billing_days if contracts is not None else None)}
    if folder.exists() and not folder.is_dir():  # (its files would go inside it)
        raise OutputError(Problem("refused: is a file, expected a folder for the project",
                                  file=str(folder), hint="name a new or empty folder"))
    existing = _in_the_way(folder, files)
    if existing:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more"
                                           if len(existing) > 5 else "")
        raise OutputError(Problem(
            f"refused: {len(existing)} file(s) already exist: {shown}", file=str(folder),
            hint="cvm init never overwrites a file: choose a new or empty folder, or move "
            "those files away"))
    if sniffed is None:
        data_path = PLACEHOLDER
    else:
        relative = os.path.relpath(sniffed.file.resolve(), folder.resolve())
        # relative while near (the project and its data move together), else absolute
        near = not relative.startswith(os.path.join("..", ".."))
        data_path = (relative if near else str(sniffed.file.resolve())).replace(os.sep, "/")
    files["cvm.yaml"] = config_text(folder.resolve().name, sniffed, data_path).encode()
    try:
        for name, content in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("xb") as fh:  # "x": never over a file that appeared meanwhile
                fh.write(content)
    except OSError as exc:
        raise OutputError(Problem(f"cannot be written: {exc.strerror}",
                                  file=str(exc.filename or folder))) from None
    return Written(folder, tuple(files))


def _line_items(sniffed: Sniffed) -> str | None:
    """``duplicates: keep`` when two sampled rows alike in every mapped column differ in
    another (line items), said where they are."""
    found = alike_rows(sniffed.written, {g.column for g in sniffed.mapping.values()})
    if found is None:
        return None
    one, two, column = found
    twice = same_rows(sniffed.written)
    return (f"  duplicates: keep  # rows {one} and {two} are alike in every mapped column and "
            f"differ in {column!r} (line items?): each is a purchase; `drop` would count the "
            "second and skip it" + ("" if twice is None else f"; but rows {twice[0]} and "
                                    f"{twice[1]} are alike in every column (exported twice?): "
                                    "with keep both count, so remove such rows from the export"))
