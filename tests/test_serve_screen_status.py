"""The agent screen shows the run's status and never the script of a withheld action: a
holdout customer on the call centre gets "no_action" and why (issue 14, review finding 1)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from tests.serve_util import agent_page, example_copy, serving

CHROMIUM = "/usr/bin/chromium"


def test_a_holdout_customer_gets_no_script(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import expect, sync_playwright

    project = example_copy(tmp_path)
    actions = pd.read_csv(project / "output" / "actions.csv", dtype=str)
    held = actions[actions["status"] == "holdout"].iloc[0]
    with serving(project, history=False) as service, sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = agent_page(browser, service)
            expect(page.locator("#channel option[value=call_centre]")).to_have_count(1)
            page.fill("#customer", held["customer_id"])
            page.select_option("#channel", "call_centre")
            page.click("#lookup")
            expect(page.locator("#action")).to_have_text("no_action")
            expect(page.locator("#status")).to_have_text(f"holdout: {held['reason']}")
            expect(page.locator("#script")).to_have_text(
                f"No action: holdout of campaign {held['campaign']}: measured, not treated")
            expect(page.locator("#why")).to_have_text("")
        finally:
            browser.close()
