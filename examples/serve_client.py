"""A client of `cvm serve` in plain Python (standard library only): the next best action for a
customer on the call centre, then the customer's answer recorded.

    export CVM_SERVE_KEY=...            # the service's key
    python examples/serve_client.py C000005 [--url http://127.0.0.1:8000] [--outcome accepted]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any


def call(url: str, key: str, method: str, path: str, body: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    request = urllib.request.Request(
        url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        result: dict[str, Any] = json.load(answer)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("customer_id")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--channel", default="call_centre")
    parser.add_argument("--outcome", choices=["accepted", "declined", "converted"])
    args = parser.parse_args()
    key = os.environ.get("CVM_SERVE_KEY", "")
    if not key:
        print("error: CVM_SERVE_KEY is not set: export the key the service was started with "
              "(cvm serve reads the same variable, or --key-file)", file=sys.stderr)
        return 2
    try:
        nba = call(args.url, key, "POST", f"/v1/customers/{args.customer_id}/next-best-action",
                   {"channel": args.channel})
    except urllib.error.HTTPError as exc:  # 401, 404, 422: the service says why
        print(f"{exc.code}: {exc.read().decode()}")
        return 1
    except urllib.error.URLError as exc:
        print(f"cannot reach {args.url}: {exc.reason} (is `cvm serve` running?)")
        return 1
    decision = nba["decision"]
    print(f"{nba['customer_id']}: {nba['value_tier']}, {nba['lifecycle_stage']}, "
          f"total value {nba['total_value']:,.2f}")
    print(f"next best action: {decision['action']} (offer {decision['offer']}, service "
          f"{decision['service_level']}, campaign status {decision['status']})")
    print(f"  why: {decision['reason']}")
    for item in nba["actions"]:  # the script only of an action that may be given here
        if item["policy_id"] == decision["policy_id"]:
            print(f"  script: {item['talking_points']}")
    if args.outcome:
        done = call(args.url, key, "POST", f"/v1/interactions/{nba['interaction_id']}/response",
                    {"outcome": args.outcome})
        print(f"recorded: {done['outcome']} ({done['response_id']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
