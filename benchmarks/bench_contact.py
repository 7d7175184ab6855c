"""Benchmark of the contact-policy look-ups: the contacts and responses read from a history of
10 runs, and the policies evaluated on every customer's options.

    python benchmarks/bench_contact.py [--customers 1000000] [--runs 10]

A fresh SQLite history gets ``--runs`` weekly runs of ``--customers`` customers (30% of them
allocated each run, on one of four channels, in one of three campaigns) and a response for
2% of them per run; then, for an eleventh run, the time to read the contact log
(engine.history.contacts) and to apply the five contact policies of the bundled example
(engine.activation.contact.suppress) on a (customers x 6 channels) option grid. Recording the
history is not timed (bench_history.py times it). Target (issue 13): the look-ups for 1M
customers against 10 runs in at most 3 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from _common import peak_rss_mb

if TYPE_CHECKING:
    from engine.history.store import Store

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ["account_manager", "call_centre", "direct_mail", "email", "sms", "app_push"]
CAMPAIGNS = np.array(["retain_high_value", "win_back", "develop_growth"], dtype=object)


def snapshot(ids: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = len(ids)
    allocated = rng.random(n) < 0.3
    camp = CAMPAIGNS[rng.integers(0, 3, n)]
    return pd.DataFrame({
        "customer_id": ids, "value_tier": "silver", "lifecycle_stage": "maturity",
        "total_value": 100.0, "value_score": 50.0, "action": "retain", "campaign": camp,
        "policy_id": camp,
        "channel": np.where(allocated, np.array(CHANNELS[2:], dtype=object)[
            rng.integers(0, 4, n)], None),
        "status": np.where(allocated, "allocated", "not_served"), "holdout": False,
        "cost": 0.05, "value_at_stake": 100.0, "expected_response": 0.04})


def cpu_times(since: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
    """This process's user and system CPU seconds (since ``since``): the system part is mostly
    the kernel clearing fresh pages, which this machine makes costly."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime - since[0], use.ru_stime - since[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers in the history (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=10,
                        help="weekly runs recorded before the look-ups (default 10)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from engine.activation.contact import suppress
    from engine.history.contacts import contact_log
    from engine.history.record import record_run
    from engine.history.settings import parse
    from engine.history.store import open_store
    from engine.project.contact_policies import load_contact_policies

    n = args.customers
    rng = np.random.default_rng(13)
    ids = np.array([f"C{i:08d}" for i in range(n)], dtype=object)
    policies = load_contact_policies(ROOT, CHANNELS, None)
    start_day = dt.date(2025, 1, 6)
    with tempfile.TemporaryDirectory() as tmp:
        settings = parse(str(Path(tmp) / "h.sqlite"), Path(tmp), source="benchmark")
        store = open_store(settings, create=True)
        assert store is not None
        answers = []
        for run in range(args.runs):
            as_of = start_day + dt.timedelta(days=7 * run)
            record_run(store, run_id=f"bench{run}", as_of=as_of, project="bench", inputs={},
                       snapshot=snapshot(ids, rng))
            who = ids[rng.random(n) < 0.02]
            answers.append(pd.DataFrame({
                "customer_id": who, "campaign": CAMPAIGNS[rng.integers(0, 3, len(who))],
                "date": (as_of + dt.timedelta(days=3)).isoformat(),
                "outcome": np.array(["converted", "responded", "complained", "no_response"],
                                    dtype=object)[rng.integers(0, 4, len(who))]}))
        _responses(store, pd.concat(answers, ignore_index=True))
        as_of = start_day + dt.timedelta(days=7 * args.runs)
        start, cpu = time.perf_counter(), cpu_times()
        log = contact_log(store, as_of=as_of, window=policies.window, source="benchmark")
        read, read_cpu = time.perf_counter() - start, cpu_times(cpu)
        store.close()
    campaign = CAMPAIGNS[rng.integers(0, 3, n)]
    allowed = rng.random((n, len(CHANNELS))) < 0.5
    start, cpu = time.perf_counter(), cpu_times()
    found = suppress(policies, log, ids, campaign, CHANNELS, allowed)
    evaluated, evaluated_cpu = time.perf_counter() - start, cpu_times(cpu)
    blocked = int((found.reason != "").sum())
    print(f"{n:,} customers, {args.runs} runs, {len(log.contact_customer):,} contacts and "
          f"{len(log.response_customer):,} responses counted: read {read:5.2f} s, policies "
          f"{evaluated:5.2f} s, total {read + evaluated:5.2f} s (CPU user + sys {read_cpu[0]:5.2f}"
          f" + {read_cpu[1]:4.2f} and {evaluated_cpu[0]:5.2f} + {evaluated_cpu[1]:4.2f} s; "
          f"target 3 s at 1M; load average {os.getloadavg()[0]:.1f}); "
          f"{blocked:,} customers with an option blocked; peak {peak_rss_mb():,.0f} MB")
    return 0


def _responses(store: Store, frame: pd.DataFrame) -> None:
    """Insert the responses directly (the import's checks are not what is measured)."""
    from engine.history.response_digest import row_digest
    from engine.history.tables import imports, responses

    with store.transaction() as conn:
        key = conn.execute(imports.insert().values(
            file="bench", sha256="0" * 64, imported_at=dt.datetime.now(dt.timezone.utc),
            rows_read=len(frame), imported=len(frame), already_present=0, skipped=0)
        ).inserted_primary_key[0]
        frame = frame.drop_duplicates(["customer_id", "campaign", "date", "outcome"])
        conn.execute(responses.insert(), [
            {"customer_id": c, "campaign": p, "response_date": dt.date.fromisoformat(d),
             "outcome": o, "revenue": None, "import_id": key,
             "digest": row_digest(c, p, d, o, None)}
            for c, p, d, o in frame[["customer_id", "campaign", "date", "outcome"]]
            .itertuples(index=False)])


if __name__ == "__main__":
    raise SystemExit(main())
