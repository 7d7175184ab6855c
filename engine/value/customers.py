"""Stage 1b: the optional customers file (signup date, preferred channel, consents, referrals,
extra attributes), checked and joined onto the per-customer features."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.data import id_match
from engine.data.empty_tail import dropped, empty_tail_note
from engine.data.load import DAY, Transactions
from engine.data.object_store import shown_names
from engine.data.preflight import customer_columns
from engine.data.spaced_ids import spaced_ids
from engine.data.tabular import Source, dictionary, read_columns, read_first
from engine.data.typed_columns import NO_DATE, as_date_seconds, as_number, as_text, check_ids
from engine.errors import InputError, Problem
from engine.project.config import Config
from engine.project.schema import consent_column
from engine.value.features import REFERRER

# English, then the words of the CRM exports `cvm init` reads the headers of (German, French,
# Spanish, Italian, Portuguese, Dutch, Polish, the Nordic languages): compared in lower case
YES = frozenset({"yes", "y", "true", "t", "1", "opt-in", "optin",
                 "ja", "j", "wahr", "oui", "vrai", "si", "sí", "sì", "sim", "verdadero",
                 "vero", "verdadeiro", "tak", "waar"})
NO = frozenset({"no", "n", "false", "f", "0", "opt-out", "optout",
                "nein", "falsch", "non", "faux", "não", "nao", "falso", "nee", "onwaar", "nie",
                "nej", "nei"})


Column: TypeAlias = "np.ndarray | pa.Array"  # text stays in Arrow, the rest is numpy


@dataclass(frozen=True)
class CustomersFile:
    file: str  # as shown to the user
    ids: pa.Array  # customer ids, one per row of the file
    columns: dict[str, Column]  # one value per row of the file, in file order
    consents: tuple[str, ...]
    empty_tail: int = 0  # rows of separators only at its end, not read (engine/data/empty_tail)
    spaced: str = ""  # the note on ids read without their surrounding spaces, if any


def load_customers(config: Config, first: int | None = None) -> CustomersFile | None:
    """The customers file of cvm.yaml, every value checked; ``first``: of its first rows
    only (``cvm validate``: engine.value.first_rows)."""
    data = config.data
    if data.customers is None:
        return None
    src = Source(data.customers, config.display(data.customers), "data.customers",
                 data.customers_delimiter, data.customers_encoding, config.where("data.customers"),
                 numbers=data.numbers)
    wanted = customer_columns(data)  # what cvm validate looks for in the header
    repetitive = ["signup_date", "preferred_channel", *(f"consent:{k}" for k in data.consents),
                  *(f"attr:{k}" for k, kind in data.attributes.items() if kind != "number")]
    if first is None:
        table = read_columns(src, wanted, repetitive)
    else:
        src, table = read_first(src, wanted, first)
    found: list[Problem] = []  # cvm validate: each column's first problem (run: the first)

    def checked(check: Callable[[], Any]) -> Any:
        if first is None:
            return check()
        try:
            return check()
        except InputError as exc:
            found.extend(exc.problems)
            return None

    ids = as_text(src, table, "customer_id", wanted["customer_id"], required=True)
    spaced = spaced_ids(src, table.column("customer_id"), ids, wanted["customer_id"]) \
        if first is None and isinstance(ids, pa.ChunkedArray) else None
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    checked(lambda: check_ids(src, ids, wanted["customer_id"]))
    checked(lambda: _check_unique(src, ids, wanted["customer_id"]))
    out: dict[str, Column] = {}
    if "signup_date" in wanted:
        sec = checked(lambda: as_date_seconds(
            src, table, "signup_date", wanted["signup_date"],
            date_format=data.customers_date_format or data.date_format, required=False))
        if sec is not None:
            days = np.where(sec == NO_DATE, np.nan, sec // DAY)
            out["signup_date"] = np.asarray(pd.to_datetime(days, unit="D").astype(
                "datetime64[s]"))
    for key in ("preferred_channel", "referred_by"):
        if key in wanted:
            out[key] = _text(as_text(src, table, key, wanted[key], required=False))
    for name, column in data.consents.items():
        got = checked(partial(_consent, src, table, f"consent:{name}", column))
        if got is not None:
            out[consent_column(name)] = got
    for name, kind in data.attributes.items():
        key = f"attr:{name}"
        if kind == "number":
            got = checked(partial(as_number, src, table, key, name, required=False))
        elif kind == "boolean":
            got = checked(partial(_consent, src, table, key, name))
        else:
            got = _text(as_text(src, table, key, name, required=False))
        if got is not None:
            out[name] = got
    if found:  # in the file's order
        raise InputError(sorted(found, key=lambda p: p.line or 0))
    return CustomersFile(file=src.display, ids=ids, columns=out, consents=tuple(data.consents),
                         empty_tail=dropped(table), spaced=spaced.note() if spaced else "")


def _text(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return values.cast(pa.string())


def join_customers(frame: pd.DataFrame, customers: CustomersFile | None, tx: Transactions,
                   codes: np.ndarray) -> tuple[str, ...]:
    """Add the customers file's columns to the feature frame (customer ``codes``, one per
    frame row), plus ``referrals_made`` and the internal referrer code; returns the consent
    columns. The join is on customer codes, never on text: fast at millions of rows."""
    report = tx.report
    if customers is None:
        frame["referrals_made"] = 0
        frame[REFERRER] = -1
        _unmapped(frame)
        return ()
    report.customers_file = customers.file
    report.customers_file_rows = len(customers.ids)
    n = len(tx.customer_ids)
    file_code = _index_in(customers.ids, tx.id_array)  # tx code of each file row, or -1
    rows_of_code = np.full(n, -1, dtype=np.int64)
    found = file_code >= 0
    rows_of_code[file_code[found]] = np.flatnonzero(found)
    rows = rows_of_code[codes]
    known = rows >= 0
    scored = np.zeros(n, dtype=bool)
    scored[codes] = True
    report.purchasers_not_in_customers_file = int((~known).sum())
    file_scored = found & scored[np.maximum(file_code, 0)]
    report.customers_without_purchases = int((~file_scored).sum())
    safe = np.where(known, rows, 0)
    for col, values in customers.columns.items():
        if isinstance(values, pa.Array):  # text: taken in Arrow, null where not in the file
            frame[col] = _text_column(values.take(pa.array(safe, mask=~known)))
        elif values.dtype == bool:
            frame[col] = np.where(known, values[safe], False)
        else:
            frame[col] = np.where(known, values[safe], np.array(np.nan).astype(values.dtype))
    frame[REFERRER] = -1
    frame["referrals_made"] = 0
    ref = customers.columns.get("referred_by")
    if isinstance(ref, pa.Array):
        ref_code = _index_in(ref, tx.id_array)  # referrer's tx code, or -1
        own = (ref_code >= 0) & (ref_code == file_code)  # names themselves: no referral
        if own.any():
            ref_code[own] = -1
            report.notes.append(_self_referrals(customers.ids, own))
        has_ref = ref_code >= 0
        made = np.bincount(ref_code[has_ref], minlength=n)
        frame["referrals_made"] = made[codes].astype(np.int64)
        frame[REFERRER] = np.where(known, ref_code[safe], -1)
        # a referrer that bought is known; one that did not must be in the customers file
        maybe = np.flatnonzero(~has_ref & ~own & np.asarray(ref.is_valid().to_numpy(
            zero_copy_only=False), dtype=bool))
        if len(maybe):
            unknown = int((_index_in(ref.take(pa.array(maybe)), customers.ids) < 0).sum())
            if unknown:
                named = ref.take(pa.array(maybe))
                named = named.filter(pc.invert(pc.is_in(named, value_set=customers.ids)))
                report.notes.append(
                    f"{unknown:,} referred_by values name no known customer (not in the "
                    "customers file, no purchase)" + written_otherwise(named, pa.chunked_array(
                        [c.cast(pa.large_string()) for ids in (customers.ids, tx.id_array)
                         for c in (ids.chunks if isinstance(ids, pa.ChunkedArray)
                                   else [ids])])))
    if customers.empty_tail:
        report.notes.append(empty_tail_note(customers.empty_tail, customers.file))
    if customers.spaced:
        report.notes.append(customers.spaced)
    if report.purchasers_not_in_customers_file:
        n = report.purchasers_not_in_customers_file
        report.notes.append(f"{n:,} purchasing customer{' is' if n == 1 else 's are'} not in "
                            "the customers file: no consents recorded for them"
                            + _case_only(tx.id_array, codes, known, customers.ids))
    if report.customers_without_purchases:
        n = report.customers_without_purchases
        report.notes.append(f"{n:,} customer{'' if n == 1 else 's'} in the customers file "
                            f"ha{'s' if n == 1 else 've'} no purchase before the as-of date: "
                            "not scored")
    _unmapped(frame)
    return tuple(consent_column(c) for c in customers.consents)


def _self_referrals(ids: pa.Array, own: np.ndarray) -> str:
    """The note on the customers whose ``referred_by`` names themselves (``own``: per file
    row), the first three named."""
    rows = np.flatnonzero(own)
    named = shown_names([str(v) for v in ids.take(pa.array(rows[:4])).to_pylist()])
    n = len(rows)
    return (f"{n:,} customer{' names themselves' if n == 1 else 's name themselves'} in "
            f"referred_by ({named}): not counted as a referral")


def _unmapped(frame: pd.DataFrame) -> None:
    """The value table's customers-file columns, empty where no file maps them: every
    project's table has the same columns (a new user's script read signup_date, documented,
    from a project without a customers file)."""
    if "signup_date" not in frame:
        frame["signup_date"] = np.full(len(frame), np.datetime64("NaT", "s"))
    for key in ("preferred_channel", "referred_by"):
        if key not in frame:
            frame[key] = np.full(len(frame), None, dtype=object)


def _case_only(purchasers: pa.Array, codes: np.ndarray, known: np.ndarray,
               listed: pa.Array) -> str:
    """What to add when the missing purchasers are in the customers file but for how their
    ids are written (``written_otherwise``)."""
    return written_otherwise(purchasers.take(pa.array(np.unique(codes[~known]))), listed)


def written_otherwise(missing: pa.Array, listed: pa.Array | pa.ChunkedArray) -> str:
    """What to add when ids ``missing`` from a file are in ``listed`` but for the letter case
    of their ids (a PostgreSQL uuid column is read in lower case, an export may write upper
    case), for their leading zeros (a spreadsheet drops them: ``4711`` for ``004711``) or
    both: each cause counted, the most frequent first (one stray case did hide 30 ids without
    their zeros); ids are matched exactly. "" when none is."""
    if not (pa.types.is_string(missing.type) or pa.types.is_large_string(missing.type)):
        return ""
    listed = (listed.combine_chunks() if isinstance(listed, pa.ChunkedArray) else listed) \
        .cast(missing.type)
    lower, bare = pc.utf8_lower(listed), pc.utf8_ltrim(listed, characters="0")
    lower_bare = pc.utf8_lower(bare)
    case = pc.is_in(pc.utf8_lower(missing), value_set=lower)
    trimmed = pc.utf8_ltrim(missing, characters="0")
    zeros = pc.and_(pc.is_in(trimmed, value_set=bare), pc.invert(case))
    both = pc.and_(pc.is_in(pc.utf8_lower(trimmed), value_set=lower_bare),
                   pc.invert(pc.or_(case, zeros)))
    causes = []  # (count, what, fix)
    for mask, what in ((case, "the letter case of"), (zeros, "the leading zeros of"),
                       (both, "the letter case and the leading zeros of")):
        found = int(pc.sum(mask).as_py() or 0)
        if not found:
            continue
        # an example: the first such id, and how the other file writes it
        first = missing.filter(mask)[0]
        key = pa.array([first.as_py()], missing.type)
        if mask is case:
            at = pc.index(lower, pc.utf8_lower(key)[0]).as_py()
            fix = (f"write them in one case in both files ({first.as_py()!r} is "
                   f"{listed[at].as_py()!r} there)")
        else:
            key = pc.utf8_ltrim(key, characters="0")
            at = pc.index(bare, key[0]).as_py() if mask is zeros else \
                pc.index(lower_bare, pc.utf8_lower(key)[0]).as_py()
            fix = (f"write them the same way in both files ({first.as_py()!r} is "
                   f"{listed[at].as_py()!r} there; a spreadsheet drops leading zeros)")
        causes.append((found, what, fix))
    if not causes:
        return ""
    causes.sort(key=lambda c: -c[0])  # (stable: case, zeros, both on a tie)

    def ids(n: int) -> str:
        return "its id" if n == 1 else "their ids"

    if len(missing) == 1:
        which = f"it is, but for {causes[0][1]} its id"
    else:
        n, what, _ = causes[0]
        which = f"{n:,} of them {'is' if n == 1 else 'are'}, but for {what} {ids(n)}" + "".join(
            f", and {n:,} but for {what} {ids(n)}" for n, what, _ in causes[1:])
    return f" ({which}: ids are matched exactly; {'; '.join(c[2] for c in causes)})"


def _text_column(values: pa.Array) -> object:
    """A text column for the frame: Arrow-backed ``str`` in pandas 3 (no copy), object in 2."""
    return values.to_pandas().array


def _index_in(values: pa.Array, value_set: pa.Array) -> np.ndarray:
    by_number = id_match.index_in(values, value_set)  # packed ids, UUIDs: numbers, not text
    if by_number is not None:
        return by_number
    found = pc.index_in(values, value_set=value_set)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _check_unique(src: Source, ids: pa.Array, column: str) -> None:
    if id_match.all_distinct(ids):  # packed ids, UUIDs: numbers hashed, not text
        return
    encoded = pc.dictionary_encode(ids)
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    if len(encoded.dictionary) == len(ids):
        return
    first_row = np.full(len(encoded.dictionary), -1, dtype=np.int64)
    first_row[codes[::-1]] = np.arange(len(codes))[::-1]
    dup_rows = np.flatnonzero(first_row[codes] != np.arange(len(codes)))
    row = int(dup_rows[0])
    value = ids[row].as_py()
    raise InputError(src.row_problem(
        row, column, f"found customer id {value!r} a second time (first on row "
        f"{int(first_row[codes[row]]) + 1}), expected each customer once",
        hint="merge or remove the duplicate"))


def _consent(src: Source, table: pa.Table, key: str, column: str) -> np.ndarray:
    """yes/no values as booleans (empty means no). Each distinct spelling is read once."""
    encoded = dictionary(as_text(src, table, key, column, required=False, raw=True))
    # an accent apart from its letter (decomposed, as some exports write it) is the same word;
    # in Python (pyarrow 15's utf8_normalize decomposes sí); one per distinct spelling
    labels = pa.array([None if v is None else unicodedata.normalize("NFC", v) for v in
                       pc.utf8_lower(pc.utf8_trim_whitespace(
                           encoded.dictionary.cast(pa.string()))).to_pylist()], pa.string())
    known = np.asarray(pc.is_in(labels, value_set=pa.array(sorted(YES | NO | {""}))).to_numpy(
        zero_copy_only=False), dtype=bool)
    index = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int64)
    if not known.all():
        bad = (index >= 0) & ~np.append(known, True)[index]
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(src.row_problem(
                row, column, f"found {table.column(key)[row].as_py()!r}, expected yes or no",
                hint="consents and boolean attributes accept yes/no, y/n, true/false, t/f, "
                "1/0, opt-in/opt-out and ja/nein, oui/non, sí/no, sim/não, ja/nee, tak/nie, "
                "ja/nej, in any case (empty means no)"))
    yes = np.asarray(pc.is_in(labels, value_set=pa.array(sorted(YES))).to_numpy(
        zero_copy_only=False), dtype=bool)
    return np.append(yes, False)[index]
