"""`cvm serve` under load: next-best-action and events requests against 127.0.0.1, history
recording on. Starts the service as its own process (`cvm serve` on the bundled retail example's
run, in a temporary folder), drives it from this one over keep-alive connections with raw
HTTP/1.1 (so the load generator costs little CPU), and stops by itself: each phase ends after
``--requests`` requests or ``--seconds`` seconds, whichever comes first. Prints throughput and
p50/p99 latency per endpoint, and how many interactions reached the history.

    python benchmarks/bench_serve.py [--requests 20000] [--seconds 10] [--connections 8]

Target (README "Performance"): on 2 cores, at least 1,000 next-best-action requests/s with p99
at most 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import ROOT

from engine import api


def _project(tmp: Path) -> Path:
    project = tmp / "retail"
    project.mkdir()
    for name in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / name, project / name)
    text = (ROOT / "cvm.yaml").read_text().replace("examples/", f"{ROOT}/examples/")
    (project / "cvm.yaml").write_text(text)
    api.run(project, out=project / "output")
    return project


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _phase(port: int, requests: list[bytes], seconds: float,
                 connections: int) -> tuple[list[float], float, int]:
    """Send the requests over ``connections`` keep-alive connections, each waiting for its
    answer before the next; stop when all are sent or ``seconds`` have passed."""
    latencies: list[float] = []
    failures = 0
    queue = iter(requests)
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in queue:
                if time.perf_counter() > deadline:
                    return
                start = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                if not head.startswith(b"HTTP/1.1 200"):
                    failures += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, time.perf_counter() - start, failures


def _request(method: str, path: str, key: str, body: dict[str, object] | None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode() + data


def _report(name: str, latencies: list[float], elapsed: float, failures: int) -> None:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{name:<18} {len(ordered):>7,} requests in {elapsed:5.1f} s: "
          f"{len(ordered) / elapsed:8,.0f} requests/s, p50 {p50:5.1f} ms, p99 {p99:5.1f} ms, "
          f"{failures} not 200", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000, help="per phase, at most")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase, at most")
    parser.add_argument("--connections", type=int, default=8,
                        help="concurrent connections (default 8)")
    args = parser.parse_args()
    key = secrets.token_urlsafe(32)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "history.sqlite"
        env = {**os.environ, "CVM_SERVE_KEY": key, "CVM_HISTORY_URL": str(history)}
        os.environ["CVM_HISTORY_URL"] = str(history)
        print("running cvm run on the retail example ...", flush=True)
        project = _project(Path(tmp))
        ids = [line.split(",")[0].strip('"') for line in
               (project / "output" / "decisions.csv").read_text().splitlines()[1:]]
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "engine", "serve", str(project), "--port", str(port),
             "--quiet", "--watch", "0"], env=env, cwd=ROOT)
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            print(f"service up: {len(ids):,} customers, history {history.name} (recording on)",
                  flush=True)
            nba = [_request("POST", f"/v1/customers/{rng.choice(ids)}/next-best-action", key,
                            {"channel": "call_centre"}) for _ in range(args.requests)]
            asyncio.run(_phase(port, nba[:1000], 5.0, args.connections))  # warm up
            _report("next-best-action", *asyncio.run(
                _phase(port, nba, args.seconds, args.connections)))
            events = [_request("POST", "/v1/events", key, {
                "customer_id": rng.choice(ids), "type": rng.choice(["complaint", "visit"])})
                for _ in range(args.requests)]
            _report("events", *asyncio.run(_phase(port, events, args.seconds,
                                                  args.connections)))
        finally:
            server.send_signal(signal.SIGINT)  # the service flushes its queue, then exits
            server.wait(timeout=60)
        with sqlite3.connect(history) as db:
            shown = db.execute("SELECT count(*) FROM cvm_interactions").fetchone()[0]
            posted = db.execute("SELECT count(*) FROM cvm_events").fetchone()[0]
        print(f"recorded in the history: {shown:,} interactions, {posted:,} events")


if __name__ == "__main__":
    main()
