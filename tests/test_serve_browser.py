"""The agent screen in a real browser (headless Chromium, driven by Playwright with the system
Chromium, no browser download): enter the key, type a customer id, see value, tier, stage and
the next best action with its script, click an outcome; the response is in the history."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, select

from engine.history.tables import interaction_responses, interactions
from tests.ci_jobs import main_job_only
from tests.serve_util import KEY, agent_page, example_copy, serving

CHROMIUM = "/usr/bin/chromium"


@main_job_only("Chromium runs the page's script whatever the Python or pandas; the oldest job "
               "tests the same service over HTTP")
def test_agent_screen_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import expect, sync_playwright

    history = tmp_path / "history.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    project = example_copy(tmp_path)
    table = pd.read_csv(project / "output" / "customers.csv", dtype={"customer_id": str})
    row = table.set_index("customer_id").loc["C000005"]
    with serving(project) as service, sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            failed: list[str] = []
            page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(service.url + "/")
            page.fill("#key", KEY)
            page.click("#key-form button")
            expect(page.locator("#key-state")).to_have_text("key set")
            expect(page.locator("#channel option[value=call_centre]")).to_have_count(1)
            page.fill("#customer", "C000005")
            page.select_option("#channel", "direct_mail")  # win_back's channel in the run
            page.click("#lookup")
            expect(page.locator("#action")).to_have_text("win_back")
            expect(page.locator("#tier")).to_have_text(str(row["value_tier"]))
            expect(page.locator("#stage")).to_have_text(str(row["lifecycle_stage"]))
            expect(page.locator("#total-value")).to_have_text(f"{row['total_value']:,.2f}")
            expect(page.locator("#script")).to_contain_text("Lapsing or lost customers")
            page.click("button[data-outcome=accepted]")
            expect(page.locator("#recorded")).to_have_text("Recorded: accepted")
            page.fill("#customer", "NOBODY")
            page.click("#lookup")
            expect(page.locator("#message")).to_have_text("No customer NOBODY.")
            assert [f for f in failed if "404" not in f] == []
        finally:
            browser.close()
    engine = create_engine(f"sqlite:///{history}")
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(interactions.c.customer_id, interactions.c.channel,
                       interaction_responses.c.outcome)
                .select_from(interaction_responses.join(
                    interactions, interactions.c.id == interaction_responses.c.interaction_id))
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in found] == [("C000005", "direct_mail", "accepted")]


@main_job_only("Chromium runs the page's script whatever the Python or pandas")
def test_agent_screen_shows_a_booked_contract_end(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """With subscriptions, the screen says when a contract whose end is booked ends, and
    shows nothing of it for a contract running without an end."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "history.sqlite"))
    project = example_copy(tmp_path, "subscription")
    table = pd.read_csv(project / "output" / "customers.csv", dtype={"customer_id": str})
    days = table.set_index("customer_id")["days_to_contract_end"]
    booked = {1.0: "in 1 day", 0.0: "today", 9.0: "in 9 days"}
    shown = {str(days[days == d].index[0]): text for d, text in booked.items()}
    running = str(days[days.isna() & (table.set_index("customer_id")["p_alive"] > 0)].index[0])
    with serving(project) as service, sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = agent_page(browser, service)
            expect(page.locator("#key-state")).to_have_text("key set")
            for customer, text in [*shown.items(), (running, None)]:
                page.fill("#customer", customer)
                page.click("#lookup")
                expect(page.locator("#who")).to_have_text(customer)
                if text is None:
                    expect(page.locator("#contract-end")).to_be_hidden()
                    expect(page.locator("#contract-end-label")).to_be_hidden()
                else:
                    expect(page.locator("#contract-end")).to_have_text(text)
                    expect(page.locator("#contract-end-label")).to_have_text("Contract ends")
        finally:
            browser.close()
