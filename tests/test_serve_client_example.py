"""examples/serve_client.py, the README's Python client, run as a user would without the key
set up yet: a sentence saying what to set, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_client_without_a_key_says_what_to_set() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CVM_SERVE_KEY"}
    done = subprocess.run([sys.executable, "examples/serve_client.py", "C000005"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("error: CVM_SERVE_KEY is not set: export the key the service was "
                           "started with (cvm serve reads the same variable, or --key-file)\n")


def test_the_help_says_what_the_client_does() -> None:
    done = subprocess.run([sys.executable, "examples/serve_client.py", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert ("A client of `cvm serve` in plain Python (standard library only): the next best "
            "action for a customer on the call centre, then the customer's answer recorded."
            ) in " ".join(done.stdout.split())
