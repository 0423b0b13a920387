"""The console in a real browser (Debian's chromium driven by Playwright, no browser download, against
the console served by uvicorn on loopback, see conftest): Send Test SMS with and without a script,
--read-only, and a request without the token; on a config repository of their own."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from reconciler.commands import test_send
from tests.console.conftest import CANARIES, PHONE, HeldSleep, Served, channel


def test_send_test_sms_shows_progress_as_it_arrives_then_delivered_with_a_masked_number(
    page: Page, served: tuple[Served, Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldSleep()
    monkeypatch.setattr(test_send, "SLEEP", held)  # the server is a thread of this process
    channel(page, served[0])
    page.get_by_role("button", name="Send Test SMS").click()
    expect(page.get_by_test_id("progress")).to_contain_text("Sending… 0 of 1")
    expect(page.get_by_test_id("log")).to_contain_text("waiting for delivery reports")
    page.evaluate("window.stillThisPage = true")
    held.go.set()
    expect(page.get_by_test_id("gate")).to_contain_text("1 delivered; proof: delivered")
    assert page.evaluate("window.stillThisPage === true")  # the script put it in place: no reload
    expect(page.get_by_test_id("progress")).to_contain_text("Finished: 1 of 1")
    expect(page.locator("table code.phone").first).to_have_text(re.compile(f"^{PHONE}$"))
    for canary in CANARIES:
        assert canary not in page.content()


def test_without_a_script_the_send_page_refreshes_until_delivered(
    browser: Browser, served: tuple[Served, Served]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.set_default_timeout(30_000)
    plain.goto(served[0].url)
    plain.goto(f"{served[0].base}/channels/sandbox")
    plain.get_by_role("button", name="Send Test SMS").click()
    expect(plain.get_by_test_id("gate")).to_contain_text("1 delivered; proof: delivered")
    expect(plain.locator("table code.phone").first).to_have_text(re.compile(f"^{PHONE}$"))
    context.close()


def test_read_only_refuses_edits(browser: Browser, served: tuple[Served, Served]) -> None:
    context = browser.new_context()
    auditor = context.new_page()
    auditor.goto(served[1].url)
    auditor.goto(f"{served[1].base}/channels/sandbox")
    expect(auditor.get_by_role("status").filter(has_text="read-only")).to_be_visible()
    expect(auditor.get_by_role("link", name="Add Template")).to_have_count(0)
    expect(auditor.get_by_role("button", name="Send Test SMS")).to_be_disabled()
    auditor.goto(f"{served[1].base}/templates/task-status/edit")
    expect(auditor.get_by_role("button", name="Save")).to_be_disabled()
    csrf = auditor.locator("input[name=csrf]").first.get_attribute("value")
    status = auditor.evaluate(
        "csrf => fetch('/templates/task-status/delete', {method: 'POST', body: new URLSearchParams({csrf})})"
        ".then(r => r.status)",
        csrf,
    )
    assert status == 403
    assert (served[1].repo / "sms-config/templates/task-status.yaml").exists()
    context.close()


def test_a_request_without_the_token_is_refused(browser: Browser, served: tuple[Served, Served]) -> None:
    context = browser.new_context()
    stranger = context.new_page()
    answer = stranger.goto(f"{served[0].base}/channels/sandbox")
    assert answer is not None and answer.status == 403
    expect(stranger.locator("body")).to_contain_text("access token is missing or wrong")
    context.close()
