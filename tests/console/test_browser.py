"""The console in a real browser: Debian's chromium driven by Playwright (no browser download),
against the console served by uvicorn on loopback, as `smsops console` serves it.

One browser and one console for the module; the flows run in order on one config repository."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from reconciler.console.app import create_app
from tests.configrepo import SANDBOX_KEY
from tests.console.conftest import CANARIES, GIT_IDENTITY, TOKEN, make_repo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclass
class Served:
    url: str  # with the token
    base: str
    repo: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(demo_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Served]]:
    """The console and a --read-only one, on one repository, each in a thread of this process."""
    repo = make_repo(demo_base, tmp_path_factory.mktemp("browser"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
        for name, value in GIT_IDENTITY.items():
            patch.setenv(name, value)
        servers, shown = [], []
        for read_only in (False, True):
            port = _free_port()
            app = create_app(str(repo / "sms-config"), read_only=read_only, token=TOKEN)
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            threading.Thread(target=server.run, daemon=True).start()
            while not server.started:
                time.sleep(0.02)
            servers.append(server)
            base = f"http://127.0.0.1:{port}"
            shown.append(Served(f"{base}/?token={TOKEN}", base, repo))
        yield shown[0], shown[1]
        for server in servers:
            server.should_exit = True


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser: Browser, served: tuple[Served, Served]) -> Iterator[Page]:
    context = browser.new_context()  # launch() gives chromium a fresh profile; a context, no cookie yet
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(served[0].url)
    yield tab
    context.close()


def channel(page: Page, served: Served) -> None:
    page.goto(f"{served.base}/channels/sandbox")


def test_open_the_sandbox_channel_and_see_live_and_pending_versions(page: Page, served: tuple[Served, Served]) -> None:
    channel(page, served[0])
    assert "token=" not in page.url  # the token went into a cookie
    expect(page.get_by_role("heading", name="SMS · sandbox")).to_be_visible()
    expect(page.get_by_test_id("access-key")).to_have_text("LTAI****emo1")
    row = page.locator("tr[data-template=task-status]")
    expect(row).to_contain_text("live")
    expect(page.locator("table.versions")).to_contain_text("pending")
    for canary in CANARIES:
        assert canary not in page.content()


def test_add_a_template_with_a_typo_see_the_rule_fix_it_save_and_see_the_file_and_diff(
    page: Page, served: tuple[Served, Served]
) -> None:
    channel(page, served[0])
    page.get_by_role("link", name="Add Template").click()
    page.get_by_label("Template ID").fill("welcome")
    page.get_by_label("variable 1 name").fill("user")
    page.get_by_label("variable 1 type").select_option("name")
    page.get_by_label("variable 1 example").fill("Ann")
    page.get_by_label("Remark (for the provider's reviewers)").fill("Sent once when a user signs up for OnePro.")
    page.get_by_label("Content").fill("Welcome {{ user }, your account is ready.")
    diagnostics = page.locator("#diagnostics")
    expect(diagnostics).to_contain_text("SMS101")  # checked as typed, by the page's script
    expect(diagnostics).to_contain_text("sms-config/templates/welcome.yaml:7:21")
    page.get_by_label("Content").fill("Welcome {{ user }}, your account is ready.")
    expect(diagnostics).to_contain_text("No problems")
    expect(page.locator("#preview")).to_contain_text("【OnePro】Welcome Ann, your account is ready.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("file")).to_contain_text('content: "Welcome {{ user }}, your account is ready."')
    expect(page.get_by_test_id("diff")).to_contain_text("+++ b/sms-config/templates/welcome.yaml")


def test_modify_a_live_template_and_the_plan_says_new_version(page: Page, served: tuple[Served, Served]) -> None:
    channel(page, served[0])
    page.locator("tr[data-template=login-verification]").get_by_role("link", name="Modify").click()
    page.get_by_label("Content").fill("Your login code is {{ code }}. It expires in {{ minutes }} minutes.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("diff")).to_contain_text("-  content:")
    channel(page, served[0])
    expect(page.get_by_test_id("plan")).to_contain_text("content changed: new version")


def test_cancel_discards_unsaved_edits(page: Page, served: tuple[Served, Served]) -> None:
    file = served[0].repo / "sms-config/templates/alert-notification.yaml"
    before = file.read_text()
    channel(page, served[0])
    page.locator("tr[data-template=alert-notification]").get_by_role("link", name="Modify").click()
    page.get_by_label("Content").fill("Something else entirely {{ severity }}")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="SMS · sandbox")).to_be_visible()
    assert file.read_text() == before
    page.locator("tr[data-template=alert-notification]").get_by_role("link", name="Modify").click()
    expect(page.get_by_label("Content")).to_have_value(
        "[{{ severity }}] {{ service }} alert: {{ summary }}. Started at {{ started }}."
    )


def test_delete_a_template(page: Page, served: tuple[Served, Served]) -> None:
    channel(page, served[0])
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr[data-template=password-reset]").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").first).to_contain_text("Deleted template password-reset")
    assert not (served[0].repo / "sms-config/templates/password-reset.yaml").exists()


def test_send_test_sms_shows_delivered_with_a_masked_number(page: Page, served: tuple[Served, Served]) -> None:
    channel(page, served[0])
    page.get_by_role("button", name="Send Test SMS").click()
    expect(page.get_by_test_id("gate")).to_contain_text("1 delivered; proof: delivered")
    expect(page.locator("table code.phone").first).to_have_text(re.compile(r"^\+86 138\*\*\*\*000[123]$"))


def test_commit_on_a_branch_and_history_shows_the_commit(page: Page, served: tuple[Served, Served]) -> None:
    page.goto(f"{served[0].base}/changes")
    page.get_by_label("New branch").fill("sms/welcome")
    page.get_by_label("Commit message").fill("Add the welcome template")
    page.get_by_role("button", name="Commit").click()
    expect(page.get_by_test_id("committed")).to_contain_text("on branch sms/welcome")
    page.goto(f"{served[0].base}/channels/sandbox/history?template=welcome")
    expect(page.locator("ol.history")).to_contain_text("Add the welcome template")
    expect(page.locator("ol.history")).to_contain_text("Template welcome created")


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
