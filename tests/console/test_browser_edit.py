"""The console in a real browser (Debian's chromium driven by Playwright, no browser download, against
the console served by uvicorn on loopback, see conftest): the editing flows of the issue, in order on
one config repository: open the channel, add a template, modify one, cancel, delete, commit."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.console.conftest import CANARIES, Served, channel


def test_open_the_sandbox_channel_and_see_live_and_pending_versions(page: Page, served: tuple[Served, Served]) -> None:
    channel(page, served[0])
    assert "token=" not in page.url  # the token went into a cookie
    expect(page.get_by_role("heading", name="SMS · sandbox")).to_be_visible()
    expect(page.locator("header .where")).to_have_text("Config: sms-config")  # served as an absolute path
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


def test_commit_on_a_branch_and_history_shows_the_commit(page: Page, served: tuple[Served, Served]) -> None:
    page.goto(f"{served[0].base}/changes")
    page.get_by_label("New branch").fill("sms/welcome")
    page.get_by_label("Commit message").fill("Add the welcome template")
    page.get_by_role("button", name="Commit").click()
    expect(page.get_by_test_id("committed")).to_contain_text("on branch sms/welcome")
    page.goto(f"{served[0].base}/channels/sandbox/history?template=welcome")
    expect(page.locator("ol.history")).to_contain_text("Add the welcome template")
    expect(page.locator("ol.history")).to_contain_text("Template welcome created")
