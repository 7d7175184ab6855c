"""Generate the synthetic contracts of the subscription example (deterministic: seed 2026).

A streaming-style service sold by monthly contract (30-day billing periods) in three plans.
Customers sign up between 2023-01-01 and 2025-12-15. Each has a churn probability theta per
renewal decision drawn from Beta(0.9, 4.5) (heterogeneity: a mean of 17% with many loyal
customers), the shifted-beta-geometric process of Fader & Hardie (2007); a customer who leaves
cancels during their last paid period, giving 14 days' notice: as of 2026-01-01, contracts
still running have no end, but those ending in the next 14 days hold it (a cancellation
booked: the value table's `days_to_contract_end`). One in ten customers who left comes back
later on a new contract (a second row).

    python examples/subscription/generate.py    # rewrites contracts.csv next to this file
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

SEED, CUSTOMERS, BILLING_DAYS, NOTICE_DAYS = 2026, 3000, 30, 14
FIRST, LAST_SIGNUP, AS_OF = dt.date(2023, 1, 1), dt.date(2025, 12, 15), dt.date(2026, 1, 1)
PLANS = {"basic": (9.99, 0.45), "standard": (17.99, 0.38), "premium": (29.99, 0.33)}
CHANNELS = ("web", "app", "partner")


def main() -> None:
    rng = np.random.default_rng(SEED)
    span = (LAST_SIGNUP - FIRST).days
    rows = []
    for i in range(CUSTOMERS):
        customer = f"S{i + 1:05d}"
        theta = rng.beta(0.9, 4.5)
        start = FIRST + dt.timedelta(days=int(rng.integers(0, span + 1)))
        plan = str(rng.choice(list(PLANS), p=[0.5, 0.35, 0.15]))
        channel = str(rng.choice(CHANNELS, p=[0.5, 0.35, 0.15]))
        for contract in range(2):
            periods = int(rng.geometric(theta))  # periods paid before leaving
            end = start + dt.timedelta(days=periods * BILLING_DAYS - int(rng.integers(0, 29)))
            price, cost_share = PLANS[plan]
            rows.append([f"K{len(rows) + 1:06d}", customer, start.isoformat(),
                         end.isoformat() if end < AS_OF + dt.timedelta(days=NOTICE_DAYS)
                         else "", plan, channel, f"{price:.2f}",
                         f"{price * cost_share:.2f}"])
            back = end + dt.timedelta(days=int(rng.integers(60, 400)))
            if end >= AS_OF or back >= AS_OF or contract == 1 or rng.random() > 0.1:
                break
            start, plan = back, str(rng.choice(list(PLANS)))
    rows.sort(key=lambda r: (r[2], r[0]))
    path = Path(__file__).with_name("contracts.csv")
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["contract_id", "customer_id", "start_date", "end_date", "plan",
                         "signup_channel", "monthly_price", "monthly_cost"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
