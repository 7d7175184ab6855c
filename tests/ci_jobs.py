"""What CI's jobs leave to one of them: .ci/run sets CVM_CI_SECONDARY=1 in every job but the
main one (the newest Python with the newest of everything), 0 in the main one. Only tests whose
outcome does not depend on the Python or the pandas they run with, and whose minutes the jobs
cannot all spare within CI's 20, run in one job: most in the main one (the oldest job is the
slowest: Python 3.10), one in the oldest, to even the two. The history tests on both
databases share them out too (tests/conftest.py, ``history_url``)."""

from __future__ import annotations

import os

import pytest


def main_job_only(why: str) -> pytest.MarkDecorator:
    """Skips the test in CI's other jobs, saying ``why`` it is left to the main one; it runs
    everywhere else (a developer's machine, the main job)."""
    return pytest.mark.skipif(os.environ.get("CVM_CI_SECONDARY") == "1",
                              reason=f"run by CI's main job only (.ci/run): {why}")


def oldest_job_only(why: str) -> pytest.MarkDecorator:
    """Skips the test in CI's main job, saying ``why`` the oldest one runs it instead (a test
    whose outcome no pandas or Python changes, whose minutes the main job, running the
    tests above, cannot spare); it runs everywhere else."""
    return pytest.mark.skipif(os.environ.get("CVM_CI_SECONDARY") == "0",
                              reason=f"run by CI's oldest job only (.ci/run): {why}")
