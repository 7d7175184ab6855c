"""Benchmark of deciding with many policies: 5,000 policies x 1M customers.

    python benchmarks/bench_policies.py [--customers 1000000] [--policies 5000]
                                        [--shape mixed|templated] [--seed 3]

Writes a project's policies/ with generated policies (``tests/policy_sets.py``: ``mixed``, each
policy with its own attributes and nesting, or ``templated``, campaign templates filled in per
region, tier and stage), makes a random customer value table (``bench_decide.customers`` plus
consents, region, preferred channel and churn risk; not timed), then times loading and
compiling the rulebook, the lifecycle stages and the decisions, and prints how often
durable-rules was asked, the action mix and the peak memory. Then ``cvm validate`` on the
bundled example with the same policies in place of its own (its briefs rendered for every
campaign, as validate checks the templates).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import ROOT, peak_rss_mb
from bench_decide import customers


def table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    out = customers(n, seed)
    for name in ("email", "sms", "phone", "mail", "push"):
        out[f"consent_{name}"] = rng.random(n) < 0.6
    out["Region"] = pd.array(rng.choice(["north", "south", "east", "west", "central"], n),
                             dtype="str")
    out["preferred_channel"] = pd.array(rng.choice(["email", "sms", "phone", "mail", "app"],
                                                   n), dtype="str")
    out["churn_risk"] = np.where(rng.random(n) < 0.1, np.nan, rng.random(n).round(4))
    out["influence_value"] = np.where(rng.random(n) < 0.9, 0.0, rng.lognormal(4, 1.5, n))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers decided (default 1,000,000)")
    parser.add_argument("--policies", type=int, default=5000,
                        help="policies generated (default 5,000)")
    parser.add_argument("--shape", choices=["mixed", "templated"], default="mixed",
                        help="mixed: each policy its own; templated: campaign templates "
                             "filled in (default mixed)")
    parser.add_argument("--seed", type=int, default=3,
                        help="seed of the policies and customers (default 3)")
    args = parser.parse_args()

    from engine.policy.decisions import decide, policy_matcher, stage_matcher
    from engine.policy.lifecycle import assign_stages
    from engine.project.rulebook import load_rulebook
    from engine.project.schema import attribute_types
    from tests import policy_sets

    start = time.perf_counter()
    frame = table(args.customers, args.seed)
    print(f"made {len(frame):,} customers in {time.perf_counter() - start:.1f} s (not timed); "
          f"memory so far {peak_rss_mb():,.0f} MB", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copytree(ROOT / "rules", project / "rules")
        (project / "policies").mkdir()
        made = getattr(policy_sets, args.shape)(args.policies, seed=args.seed)
        for name, policy in made.items():
            (project / "policies" / name).write_text(policy_sets.dump(policy))
        types = attribute_types(consents=["email", "sms", "phone", "mail", "push"],
                                extra={"Region": "text"})
        timings: dict[str, float] = {}
        start = time.perf_counter()
        book = load_rulebook(project, types)
        timings["load"] = time.perf_counter() - start
        start = time.perf_counter()
        stages, policies = stage_matcher(book), policy_matcher(book)
        timings["compile"] = time.perf_counter() - start
        start = time.perf_counter()
        staged = assign_stages(frame, book)
        timings["stages"] = time.perf_counter() - start
        start = time.perf_counter()
        decisions = decide(staged, book)
        timings["decide"] = time.perf_counter() - start
    for name, seconds in timings.items():
        print(f"  {name:<10} {seconds:7.2f} s")
    total = timings["stages"] + timings["decide"]
    print(f"{len(book.active_policies()):,} policies ({args.shape}, {policies.rulesets:,} "
          f"rulesets) decided {len(frame):,} customers in {total:.2f} s "
          f"(stages and decisions; load and compile {timings['load'] + timings['compile']:.2f} "
          f"s more); durable-rules asked {stages.posts + policies.posts:,} times; peak memory "
          f"{peak_rss_mb():,.0f} MB")
    share = decisions["action"].value_counts(normalize=True)
    print("actions: " + ", ".join(f"{k} {v:.0%}" for k, v in share.head(8).items()))
    print("policies deciding an action: "
          f"{decisions['policy_id'].nunique():,}; service level: "
          f"{decisions['service_policy'].nunique():,}")
    print(f"cvm validate, the bundled example with these policies: "
          f"{validate_seconds(made):.2f} s")


def validate_seconds(made: dict[str, object]) -> float:
    """``cvm validate`` on a copy of the bundled example whose policies are ``made`` (its
    channels and campaigns kept)."""
    from engine.commands.validate import check

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("rules", "policies", "templates"):
            shutil.copytree(ROOT / name, project / name)
        (project / "cvm.yaml").write_text(
            (ROOT / "cvm.yaml").read_text().replace("examples/", f"{ROOT}/examples/"))
        for path in (project / "policies").glob("*.yaml"):
            if path.name not in ("channels.yaml", "campaigns.yaml"):
                path.unlink()
        from tests import policy_sets

        for name, policy in made.items():
            (project / "policies" / name).write_text(policy_sets.dump(policy))
        start = time.perf_counter()
        errors = [p for p in check(project, None).problems if p.severity == "error"]
        seconds = time.perf_counter() - start
    if errors:
        raise SystemExit(f"validate found {len(errors)} error(s): {errors[0]}")
    return seconds


if __name__ == "__main__":
    main()
