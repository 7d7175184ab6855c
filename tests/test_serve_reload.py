"""A new run lands while the service is under load: it is loaded (by the watcher of
manifest.json, and by POST /v1/admin/reload) and swapped in whole; no request fails, and no
answer mixes the two runs."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from engine import api
from tests.serve_util import client, example_copy, serving

NEW_SCRIPT = "Call them back today: a personal offer to come back."


def test_reload_under_load_drops_no_request(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    policy = project / "policies" / "win_back.yaml"
    with serving(project, watch_seconds=0.2) as service:
        with client(service) as http:
            old = http.get("/ready").json()["run_id"]
        stop = threading.Event()
        statuses: Counter[int] = Counter()
        seen: Counter[tuple[str, str]] = Counter()
        errors: list[str] = []

        def hammer() -> None:
            with client(service) as http:
                while not stop.is_set():
                    try:
                        answer = http.post("/v1/customers/C000003/next-best-action")
                        statuses[answer.status_code] += 1
                        body = answer.json()
                        seen[(body["run_id"], body["actions"][0]["talking_points"])] += 1
                        statuses[http.get("/v1/customers/C000005").status_code] += 1
                    except (httpx.HTTPError, KeyError, ValueError) as exc:
                        errors.append(repr(exc))

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            text = policy.read_text()
            start = text.index("description:")
            end = text.index("priority:")
            policy.write_text(text[:start] + f'description: "{NEW_SCRIPT}"\n' + text[end:])
            new = api.run(project, out=project / "output").run_id
            assert new != old
            with client(service) as http:
                for _ in range(600):  # the watcher looks every 0.2 s
                    if http.get("/ready").json()["run_id"] == new:
                        break
                    time.sleep(0.1)
                assert http.get("/ready").json()["run_id"] == new
                for _ in range(3):  # and reloads asked for, under load
                    answer = http.post("/v1/admin/reload")
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["run_id"] == new
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    assert errors == []
    assert set(statuses) == {200}, statuses
    assert sum(statuses.values()) > 50
    scripts = {run: script for run, script in seen}
    assert set(scripts) == {old, new}  # both runs served, each with its own policies
    assert scripts[new] == NEW_SCRIPT
    assert scripts[old] != NEW_SCRIPT
    assert len(seen) == 2
