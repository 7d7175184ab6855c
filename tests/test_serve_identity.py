"""One source of truth: for a customer with no new events, the service's next best action is
the batch run's decision, for every customer of the examples (asked over HTTP)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.ci_jobs import main_job_only, oldest_job_only
from tests.serve_util import client, example_copy, serving

FIELDS = ("action", "policy_id", "campaign", "offer", "service_level", "reason")


# every customer over HTTP, half a minute of a job: the retail example in the main job, the
# subscription one in the oldest (the service's other tests run in both)
@pytest.mark.parametrize("example", [
    pytest.param(None, marks=main_job_only("every customer of the retail example over HTTP")),
    pytest.param("subscription", marks=oldest_job_only(
        "every customer of the subscription example over HTTP"))])
def test_every_customer_gets_the_batch_decision(tmp_path: Path, example: str | None) -> None:
    project = example_copy(tmp_path, example)
    batch = pd.read_csv(project / "output" / "decisions.csv", dtype=str,
                        keep_default_na=False)
    with serving(project, history=False) as service, client(service) as http:
        differ = []
        for row in batch.to_dict("records"):
            body = http.post(f"/v1/customers/{row['customer_id']}/next-best-action").json()
            got = body["policy_decision"]  # the run's status: tests/test_serve_status.py
            want = {k: row[k] or None for k in FIELDS}
            if row["action"] == "no_action":
                want["campaign"] = None  # the batch leaves the campaign empty there too
            if {k: got[k] for k in FIELDS} != want or body["lifecycle_stage"] != \
                    row["lifecycle_stage"]:
                differ.append((row["customer_id"], want, got))
            ranked = body["actions"]
            if row["action"] != "no_action" or row["policy_id"]:
                assert ranked and ranked[0]["policy_id"] == row["policy_id"], row
    assert len(batch) >= 2000
    assert differ == []
