"""Generate the synthetic retail example (transactions + customers) with ``synth.py`` beside it.

    python examples/retail/generate.py --customers 2000 --seed 7 --out examples/retail

Runs from a checkout without installing the package.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: size, seed, date range, output folder and format."""
    parser = argparse.ArgumentParser(description="Generate synthetic retail transactions.")
    parser.add_argument("--customers", type=int, default=2000, help="number of customers")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same files)")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2023, 1, 1),
                        help="first order date, YYYY-MM-DD")
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2025, 12, 31),
                        help="last order date, YYYY-MM-DD")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="output folder")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--ids", choices=("short", "uuid"), default="short",
                        help="customer and order ids: numbered (C000042) or 36-character UUIDs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Generate and write the files; print what was written."""
    args = parse_args(argv)
    here = str(Path(__file__).resolve().parent)  # synth.py: the example's own generator
    if here not in sys.path:
        sys.path.insert(0, here)
    import synth

    began = time.perf_counter()
    data = synth.generate(args.customers, seed=args.seed, start=args.start, end=args.end,
                          ids=args.ids)
    paths = synth.write(data, args.out, fmt=args.format)
    print(f"{len(data.transactions):,} transaction rows, {len(data.customers):,} customers "
          f"in {time.perf_counter() - began:.1f}s -> {', '.join(str(p) for p in paths)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
