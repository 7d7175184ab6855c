"""What CI's other jobs leave to its main one: .ci/run sets CVM_CI_SECONDARY=1 in every job but
the main one (the newest Python with the newest of everything). Only tests whose outcome does
not depend on the Python or the pandas they run with, and whose minutes the other jobs cannot
spare within CI's 20 (the oldest job is the slowest: Python 3.10), are left to it."""

from __future__ import annotations

import os

import pytest


def main_job_only(why: str) -> pytest.MarkDecorator:
    """Skips the test in CI's other jobs, saying ``why`` it is left to the main one; it runs
    everywhere else (a developer's machine, the main job)."""
    return pytest.mark.skipif(os.environ.get("CVM_CI_SECONDARY") == "1",
                              reason=f"run by CI's main job only (.ci/run): {why}")
