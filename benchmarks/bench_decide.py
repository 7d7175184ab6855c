"""Benchmark of the decision step: lifecycle stages and policies for 1M customers.

    python benchmarks/bench_decide.py [--customers 1000000] [--seed 3] [--synth]

Generates a random customer value table shaped like the real one (numpy, a few seconds, not
timed), then times ``assign_stages`` and ``decide`` with the starter rules/ and policies/ and
prints the time per step, how often durable-rules was asked, the stage and action mix, and the
peak memory. Target (issue 3): 1M customers decided in at most 5 s on 2 cores.

``--synth`` instead scores the synthetic retail data set of benchmarks/_common.py (generated
once into bench-data/; scoring is not timed either): the value table the engine really makes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _common import DATA_HELP, ROOT, peak_rss_mb


def customers(n: int, seed: int) -> pd.DataFrame:
    """Random customers with the value table's columns and roughly its distributions."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 1096, n)
    one_time = rng.random(n) < 0.4
    frequency = np.where(one_time, 0, np.clip(rng.lognormal(1.3, 1.0, n), 1, 90).astype(int))
    span = np.where(one_time, 0.0, rng.uniform(0.05, 1.0, n) * tenure)
    gap = np.where(one_time, np.nan, np.maximum(span / np.maximum(frequency, 1), 1.0))
    recency = np.maximum(tenure - span, 0).round()
    trend = rng.choice([0.0, -1.0, 1.0, np.nan], n, p=[0.5, 0.2, 0.15, 0.15])
    trend = np.where(np.isnan(trend), rng.uniform(-1, 1, n).round(3), trend)
    revenue = rng.lognormal(5.3, 1.3, n).round(2)
    historic = (revenue * rng.uniform(0.15, 0.45, n)).round(2)
    potential = np.where(one_time, 0.0, rng.lognormal(3.5, 1.6, n))
    total = historic + potential
    score = (pd.Series(total).rank(pct=True) * 100).round(2).to_numpy()
    tier = np.select([score > 95, score > 80, score > 50], ["platinum", "gold", "silver"],
                     "bronze")
    current = potential * rng.uniform(0.3, 1.7, n)
    return pd.DataFrame({
        "customer_id": pd.array([f"C{i:07d}" for i in range(1, n + 1)], dtype="str"),
        "recency_days": recency.astype(np.int64), "tenure_days": tenure,
        "frequency": frequency, "orders": frequency + 1, "revenue": revenue,
        "purchase_trend": trend, "avg_interpurchase_days": gap, "recency_ratio": recency / gap,
        "category_breadth": rng.integers(1, 9, n), "historic_value": historic,
        "potential_value": potential, "clv_discounted": potential * rng.uniform(0.3, 0.8, n),
        "current_value": current, "growth_headroom": potential - current,
        "total_value": total, "value_score": score, "value_tier": pd.array(tier, dtype="str"),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=DATA_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers decided (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=3,
                        help="seed of the random value table (default 3)")
    parser.add_argument("--synth", action="store_true",
                        help="score the synthetic retail transactions instead")
    args = parser.parse_args()

    from engine.policy.decisions import decide, policy_matcher, stage_matcher
    from engine.policy.lifecycle import assign_stages
    from engine.project.rulebook import load_rulebook
    from engine.project.schema import attribute_types

    start = time.perf_counter()
    types = attribute_types()
    if args.synth:
        from _common import retail_project

        from engine.project.config import load_config
        from engine.value.score import score

        scored = score(load_config(retail_project(args.customers)))
        table = scored.table
        types = attribute_types(consents=[c.removeprefix("consent_") for c in scored.consents],
                                extra={"Region": "text"})
    else:
        table = customers(args.customers, args.seed)
    print(f"made {len(table):,} customers in {time.perf_counter() - start:.1f} s "
          f"(not timed); memory so far {peak_rss_mb():,.0f} MB", flush=True)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    book = load_rulebook(ROOT, types)
    stages, policies = stage_matcher(book), policy_matcher(book)  # compile both rulesets
    timings["load + compile"] = time.perf_counter() - start
    start = time.perf_counter()
    staged = assign_stages(table, book)
    timings["stages"] = time.perf_counter() - start
    start = time.perf_counter()
    decisions = decide(staged, book)
    timings["decide"] = time.perf_counter() - start
    for name, seconds in timings.items():
        print(f"  {name:<15} {seconds:6.2f} s")
    print(f"durable-rules asked {stages.posts + policies.posts:,} times "
          f"(stages {stages.posts:,}, policies {policies.posts:,}) for {len(table):,} customers")
    total = timings["stages"] + timings["decide"]
    print(f"decision total {total:.2f} s (target 5 s) = {len(table) / total:,.0f} customers/s; "
          f"peak memory {peak_rss_mb():,.0f} MB")
    share = decisions["lifecycle_stage"].value_counts(normalize=True, sort=False)
    print("stages:  " + ", ".join(f"{k} {v:.0%}" for k, v in share.items()))
    share = decisions["action"].value_counts(normalize=True)
    print("actions: " + ", ".join(f"{k} {v:.0%}" for k, v in share.items()))
    share = decisions["service_level"].value_counts(normalize=True)
    print("service: " + ", ".join(f"{k} {v:.0%}" for k, v in share.items()))


if __name__ == "__main__":
    main()
