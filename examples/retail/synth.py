"""Seeded synthetic retail transactions whose customers live through every lifecycle stage.

``generate(n)`` draws each customer's latent state (acquisition day, spend level, purchase rate,
lifetime, growth and decline phases), places orders as a non-homogeneous Poisson process per
customer (slow while growing, full rate when mature, sparse while declining, none after churn),
expands orders into 1-3 category lines, then adds refunds, duplicate rows and free samples.
Everything is vectorised numpy driven by one seeded ``numpy.random.Generator``, so the same seed
gives byte-identical output. Columns use a retailer's own names (``OrderID``, ``NetAmount``, ...),
not the engine's, so the project's column mapping has something to map.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

CATEGORIES = ("Electronics", "Home", "Garden", "Fashion", "Beauty", "Sports", "Books", "Toys")
_PRICE = np.array([150.0, 52.0, 40.0, 46.0, 24.0, 58.0, 15.0, 28.0])  # unit price, median buyer
_MARGIN = np.array([0.14, 0.36, 0.40, 0.52, 0.58, 0.34, 0.24, 0.42])  # gross margin rate
_POPULARITY = np.array([0.12, 0.16, 0.08, 0.18, 0.14, 0.11, 0.11, 0.10])
_EXTRA_UNITS = np.array([0.05, 0.25, 0.30, 0.30, 0.60, 0.20, 0.70, 0.35])  # Poisson mean
SALES_CHANNELS = ("web", "store", "app", "phone")
_SALES_SHARE = np.array([0.46, 0.30, 0.17, 0.07])
CONTACT_CHANNELS = ("email", "sms", "phone", "mail", "app")
_PREFERRED_SHARE = np.array([0.45, 0.20, 0.10, 0.10, 0.15])
_OPT_IN_RATE = np.array([0.75, 0.40, 0.30, 0.55, 0.35])  # overall consent rate per channel
_OPT_IN_COLUMNS = ("EmailOptIn", "SmsOptIn", "PhoneOptIn", "MailOptIn", "PushOptIn")
REGIONS = ("north", "south", "east", "west")
_REGION_SHARE = np.array([0.30, 0.25, 0.25, 0.20])

ONE_TIME_SHARE = 0.31  # latent; recent repeat buyers yet to return push the observed share to ~40%
BIG_SPENDER_SHARE = 0.05  # of one-time buyers
REFERRED_SHARE = 0.095
REFUND_RATE, DUPLICATE_RATE, FREE_SAMPLE_RATE = 0.03, 0.002, 0.002
_GROWTH_RATE, _DECLINE_RATE = 0.5, 0.3  # purchase intensity relative to maturity
_LINE_SAMPLE, _LINE_REFUND = 5, 8  # sort rank within the order (sale lines are 0, 1, 2)


@dataclass(frozen=True)
class SynthData:
    """A generated data set: order lines and the customer file, in the retailer's columns."""

    transactions: pd.DataFrame
    customers: pd.DataFrame


@dataclass(frozen=True)
class _Latent:
    """Hidden per-customer state, indexed by customer number (= acquisition order)."""

    acq: Ints  # acquisition (first purchase) day, offset from start
    spend: Floats  # basket multiplier, lognormal around 1
    rate: Floats  # orders per day when mature
    growth_end: Floats  # days after acquisition: end of ramp-up
    decline_start: Floats  # days after acquisition: start of decline
    life: Floats  # days after acquisition: churn (no orders after)
    window: Floats  # days observed as a buyer: min(life, days left to end)
    fav: npt.NDArray[np.int8]  # favourite category
    channel: npt.NDArray[np.int8]  # usual sales channel
    loyalty: Floats  # probability an order uses the usual channel


def _customers_latent(rng: np.random.Generator, n: int, days: int) -> _Latent:
    """Draw hidden state: acquisition skews recent, value lognormal, lifetime exponential."""
    acq = np.sort((rng.beta(1.15, 1.0, n) * days).astype(np.int64).clip(0, days - 1))
    one_time = rng.random(n) < ONE_TIME_SHARE
    spend = rng.lognormal(0.0, 0.6, n)
    big = one_time & (rng.random(n) < BIG_SPENDER_SHARE)
    spend[big] *= rng.uniform(6.0, 14.0, int(big.sum()))
    rate = np.clip(rng.lognormal(np.log(8.5), 0.7, n), 0.5, 52.0) / 365.0
    life = np.where(one_time, 0.0, 60.0 + rng.exponential(800.0, n))
    growth_end = np.minimum(rng.uniform(60.0, 240.0, n), life)
    decline_start = np.maximum(growth_end, life * rng.uniform(0.35, 0.7, n))
    window = np.minimum(life, days - 1 - acq)
    return _Latent(
        acq=acq, spend=spend, rate=rate, growth_end=growth_end, decline_start=decline_start,
        life=life, window=window, fav=rng.choice(8, n, p=_POPULARITY).astype(np.int8),
        channel=rng.choice(4, n, p=_SALES_SHARE).astype(np.int8),
        loyalty=rng.uniform(0.5, 0.95, n),
    )


def _intensity_integral(t: Floats, g: Floats, d: Floats) -> Floats:
    """Expected orders in (0, t] per unit of mature rate, for phases ending at g and d."""
    return (_GROWTH_RATE * np.minimum(t, g) + np.clip(t - g, 0.0, d - g)
            + _DECLINE_RATE * np.maximum(t - d, 0.0))


def _invert_integral(y: Floats, g: Floats, d: Floats) -> Floats:
    """The t with ``_intensity_integral(t, g, d) == y`` (piecewise linear inverse)."""
    cg = _GROWTH_RATE * g
    cd = cg + (d - g)
    return np.where(y <= cg, y / _GROWTH_RATE,
                    np.where(y <= cd, g + (y - cg), d + (y - cd) / _DECLINE_RATE))


def _orders(rng: np.random.Generator, lat: _Latent) -> tuple[Ints, Floats]:
    """Orders as (customer, days since acquisition), sorted by (day, customer).

    The first order is on the acquisition day; later ones come from the customer's
    non-homogeneous Poisson process, placed by inverting its cumulative intensity.
    """
    expected = _intensity_integral(lat.window, lat.growth_end, lat.decline_start)
    extra = rng.poisson(lat.rate * expected)
    cust = np.repeat(np.arange(len(lat.acq)), extra)
    y = rng.random(len(cust)) * np.repeat(expected, extra)
    t = np.ceil(_invert_integral(y, lat.growth_end[cust], lat.decline_start[cust]))
    cust = np.concatenate([np.arange(len(lat.acq)), cust])
    t = np.concatenate([np.zeros(len(lat.acq)), np.maximum(t, 1.0)])
    day = lat.acq[cust] + t.astype(np.int64)
    order = np.argsort(day * len(lat.acq) + cust, kind="stable")
    return cust[order], t[order]


def _phase_basket(lat: _Latent, cust: Ints, t: Floats) -> Floats:
    """Basket multiplier by phase: ramps 0.55 -> 1 while growing, 1 -> 0.45 while declining."""
    g, d, life = lat.growth_end[cust], lat.decline_start[cust], lat.life[cust]
    ramp_up = 0.55 + 0.45 * t / np.maximum(g, 1.0)
    ramp_down = 1.0 - 0.55 * np.minimum((t - d) / np.maximum(life - d, 1.0), 1.0)
    return np.where(t < g, ramp_up, np.where(t < d, 1.0, ramp_down))


def _lines(rng: np.random.Generator, lat: _Latent, cust: Ints, t: Floats) -> dict[str, np.ndarray]:
    """Expand orders into 1-3 lines in distinct categories with prices, costs and channels."""
    n_orders = len(cust)
    seasoned = np.minimum(t / 365.0, 1.0)
    u = rng.random(n_orders)
    k = 1 + (u < 0.3 + 0.2 * seasoned) + (u < 0.08 + 0.12 * seasoned)
    explore = rng.random(n_orders) < 0.2 + 0.5 * np.minimum(t / 540.0, 1.0)  # breadth grows
    first = np.where(explore, rng.choice(8, n_orders, p=_POPULARITY), lat.fav[cust])
    step = rng.choice(np.array([1, 2, 3, 5, 6, 7]), n_orders)  # never 4: 3 lines stay distinct
    usual = rng.random(n_orders) < lat.loyalty[cust]
    chan = np.where(usual, lat.channel[cust], rng.choice(4, n_orders, p=_SALES_SHARE))
    basket = lat.spend[cust] * _phase_basket(lat, cust, t)
    order = np.repeat(np.arange(n_orders, dtype=np.int32), k)
    line = (np.arange(len(order)) - np.repeat(np.cumsum(k) - k, k)).astype(np.int8)
    cat = ((first[order] + line * step[order]) % 8).astype(np.int8)
    qty = (1 + rng.poisson(_EXTRA_UNITS[cat])).astype(np.int16)
    unit = np.maximum(_PRICE[cat] * basket[order] * rng.lognormal(0.0, 0.35, len(order)), 0.99)
    amount = np.round(qty * unit, 2)
    del unit
    cost_rate = np.clip(1.0 - _MARGIN[cat] * rng.lognormal(0.0, 0.2, len(order)), 0.2, 1.1)
    day = (lat.acq[cust] + t.astype(np.int64)).astype(np.int32)
    return {"order": order, "cust": cust.astype(np.int32)[order], "cat": cat,
            "chan": chan.astype(np.int8)[order], "qty": qty, "amount": amount,
            "cost": np.round(amount * cost_rate, 2), "day": day[order], "line": line}


def _anomalies(rng: np.random.Generator, rows: dict[str, np.ndarray], last: int
               ) -> list[dict[str, np.ndarray]]:
    """Refund rows (negated first line, days later), exact duplicates and free samples."""
    first_line = np.flatnonzero(rows["line"] == 0)
    refund = first_line[(rng.random(len(first_line)) < REFUND_RATE)
                        & (rows["day"][first_line] < last)]
    refunds = {key: col[refund] for key, col in rows.items()}
    for key in ("qty", "amount", "cost"):
        refunds[key] = -refunds[key]
    delay = 1 + rng.poisson(6.0, len(refund))
    refunds["day"] = np.minimum(refunds["day"] + delay, last).astype(np.int32)
    refunds["line"] = np.full(len(refund), _LINE_REFUND, dtype=np.int8)
    n_rows = len(rows["order"])
    dupe, sample = rng.random(n_rows) < DUPLICATE_RATE, rng.random(n_rows) < FREE_SAMPLE_RATE
    dupes = {key: col[dupe] for key, col in rows.items()}
    samples = {key: col[sample] for key, col in rows.items()}
    samples["qty"] = np.ones_like(samples["qty"])
    samples["amount"] = np.zeros_like(samples["amount"])
    samples["cost"] = np.round(np.minimum(samples["cost"] * 0.1, 5.0), 2)
    samples["line"] = np.full(len(samples["line"]), _LINE_SAMPLE, dtype=np.int8)
    return [refunds, dupes, samples]


def _ids(prefix: str, numbers: Ints, width: int) -> pa.Array:
    """Text ids like ``C000042``: prefix plus zero-padded number."""
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _uuids(seed: int, tag: int, n: int) -> pa.Array:
    """``n`` distinct version-4 UUIDs as 36-character text, drawn from their own generator (so
    the short ids' data stays byte-identical) and deterministic from ``seed``."""
    rng = np.random.default_rng([seed, tag])
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexa = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    digits = np.stack([hexa[raw >> 4], hexa[raw & 0x0F]], axis=2).reshape(n, 32)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for lo, hi, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, at:at + hi - lo] = digits[:, lo:hi]
    offsets = np.arange(0, 36 * n + 1, 36, dtype=np.int32)
    ids = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets),
                                                 pa.py_buffer(text.tobytes())])
    # 122 random bits: a repeat among a few million is about 1e-24 likely, but checked
    if n and pc.count_distinct(ids).as_py() != n:
        raise ValueError(f"seed {seed} drew a repeated UUID: choose another seed")
    return ids


def _text(values: tuple[str, ...] | list[str], index: np.ndarray) -> pa.Array:
    """Look up labels by integer code, as a text column."""
    return pa.array(list(values), pa.string()).take(pa.array(index))


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """A frame with Arrow-backed text columns (pandas 3's default ``str``; pandas 2 asks)."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return table.to_pandas()
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def _transactions(rng: np.random.Generator, lat: _Latent, dates: list[str],
                  customer_ids: pa.Array, order_ids: Callable[[int], pa.Array]
                  ) -> pd.DataFrame:
    """The order-line table, sorted by (OrderDate, OrderID, line)."""
    cust, t = _orders(rng, lat)
    rows = _lines(rng, lat, cust, t)
    parts = [rows, *_anomalies(rng, rows, len(dates) - 1)]
    cols = {key: np.concatenate([p.pop(key) for p in parts]) for key in list(rows)}
    key = ((cols.pop("day").astype(np.int64) << 40) | (cols["order"].astype(np.int64) << 4)
           | cols.pop("line"))
    ix = np.argsort(key, kind="stable")
    day = key[ix] >> 40
    del key
    table = {"OrderID": order_ids(len(cust)).take(
                 pa.array(cols.pop("order")[ix])),
             "CustomerID": customer_ids.take(pa.array(cols.pop("cust")[ix])),
             "OrderDate": _text(dates, day),
             "Category": _text(CATEGORIES, cols.pop("cat")[ix]),
             "SalesChannel": _text(SALES_CHANNELS, cols.pop("chan")[ix])}
    for name, col in (("Qty", "qty"), ("NetAmount", "amount"), ("Cost", "cost")):
        table[name] = pa.array(cols.pop(col)[ix])
    return _to_pandas(pa.table(table))


def _referrers(rng: np.random.Generator, lat: _Latent, signup: Ints) -> Ints:
    """Referrer index per customer (-1: none): a buyer before the signup, by expected value."""
    n = len(lat.acq)
    earlier = np.searchsorted(lat.acq, signup, side="left")  # customers acquired before
    referred = (rng.random(n) < REFERRED_SHARE) & (earlier > 0)
    expected = _intensity_integral(lat.window, lat.growth_end, lat.decline_start)
    weight = np.cumsum(lat.spend * (1.0 + lat.rate * expected))
    target = rng.random(n) * weight[np.maximum(earlier - 1, 0)]
    pick = np.minimum(np.searchsorted(weight, target, side="right"), np.maximum(earlier - 1, 0))
    return np.where(referred, pick, -1)


def _customer_file(rng: np.random.Generator, lat: _Latent, dates: list[str],
                   customer_ids: pa.Array) -> pd.DataFrame:
    """The customer table: signup, contact preference and consents, referral, region."""
    n = len(lat.acq)
    lag = np.where(rng.random(n) < 0.55, 0, rng.geometric(1.0 / 21.0, n))
    signup = np.maximum(lat.acq - lag, 0)
    preferred = rng.choice(5, n, p=_PREFERRED_SHARE)
    base = (_OPT_IN_RATE - 0.95 * _PREFERRED_SHARE) / (1.0 - _PREFERRED_SHARE)
    draws = rng.random((n, 5))
    consent = np.where(preferred[:, None] == np.arange(5), draws < 0.95, draws < base)
    ref = _referrers(rng, lat, signup)
    region = rng.choice(4, n, p=_REGION_SHARE)
    follow = (ref >= 0) & (rng.random(n) < 0.6)  # friends tend to live nearby
    region[follow] = region[ref[follow]]
    table = {"CustomerID": customer_ids, "SignupDate": _text(dates, signup),
             "PreferredChannel": _text(CONTACT_CHANNELS, preferred)}
    for i, name in enumerate(_OPT_IN_COLUMNS):
        table[name] = _text(("no", "yes"), consent[:, i].astype(np.int8))
    table["ReferredBy"] = customer_ids.take(pa.array(np.maximum(ref, 0), mask=ref < 0))
    table["Region"] = _text(REGIONS, region)
    return _to_pandas(pa.table(table))


def generate(n_customers: int, *, seed: int = 7, start: dt.date = dt.date(2023, 1, 1),
             end: dt.date = dt.date(2025, 12, 31), ids: Literal["short", "uuid"] = "short"
             ) -> SynthData:
    """Generate ``n_customers`` customers and their order lines between ``start`` and ``end``.

    Deterministic for a given (n_customers, seed, start, end, ids). Roughly 10 transaction rows
    per customer over three years; 1,000,000 customers give about 10 million rows. ``ids``:
    ``short`` numbers customers and orders (``C000042``, ``O0001589``) in the order they
    appear; ``uuid`` gives both random 36-character UUIDs, as many real exports have (the
    rest of the data is the same as with short ids).
    """
    if ids not in ("short", "uuid"):
        raise ValueError(f"unknown ids {ids!r}: use 'short' or 'uuid'")
    if n_customers < 1:
        raise ValueError("n_customers must be at least 1")
    if end <= start:
        raise ValueError("end must be after start")
    dates = list(pd.date_range(start, end, freq="D").strftime("%Y-%m-%d"))
    rng = np.random.default_rng(seed)
    lat = _customers_latent(rng, n_customers, len(dates))
    if ids == "uuid":
        customer_ids = _uuids(seed, 1, n_customers)

        def order_ids(n: int) -> pa.Array:
            return _uuids(seed, 2, n)
    else:
        customer_ids = _ids("C", np.arange(1, n_customers + 1),
                            max(6, len(str(n_customers))))

        def order_ids(n: int) -> pa.Array:
            return _ids("O", np.arange(1, n + 1), max(7, len(str(n))))
    transactions = _transactions(rng, lat, dates, customer_ids, order_ids)
    return SynthData(transactions, _customer_file(rng, lat, dates, customer_ids))


def write(data: SynthData, folder: str | Path, *, fmt: Literal["csv", "parquet"] = "csv"
          ) -> tuple[Path, Path]:
    """Write ``transactions.<fmt>`` and ``customers.<fmt>`` into ``folder``; return the paths."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}: use 'csv' or 'parquet'")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = (out / f"transactions.{fmt}", out / f"customers.{fmt}")
    for frame, path in zip((data.transactions, data.customers), paths, strict=True):
        if fmt == "csv":
            frame.to_csv(path, index=False, float_format="%.2f", lineterminator="\n")
        else:
            frame.to_parquet(path, index=False)
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python examples/retail/synth.py N FOLDER``: the benchmarks' data sets (README
    "Performance"); an unknown option is an error (exit 2), as argparse makes it."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="synth.py", description="Write seeded synthetic retail transactions and customers "
        "(about 10 transaction rows per customer) as FOLDER/transactions.<format> and "
        "FOLDER/customers.<format>.")
    parser.add_argument("customers", type=int, help="how many customers (1000000 gives about "
                        "9.5M transaction rows)")
    parser.add_argument("folder", type=Path, help="where to write the two files (created)")
    parser.add_argument("--seed", type=int, default=7, help="the random seed (default 7): the "
                        "same seed writes byte-identical files")
    parser.add_argument("--ids", choices=("short", "uuid"), default="short",
                        help="customer and order ids: short numbers or 36-character UUIDs "
                        "(default short)")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv",
                        help="the files' format (default csv)")
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("customers must be at least 1")
    paths = write(generate(args.customers, seed=args.seed, ids=args.ids), args.folder,
                  fmt=args.format)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
