"""The template list and editor through Starlette's TestClient: check, save, modify, delete, commit,
on real config files in a real git repository."""

from __future__ import annotations

import html
import re
from pathlib import Path

from tests.console.conftest import ALERT, Client, csrf, draft, git


def test_a_draft_is_checked_with_validates_rule_ids_and_positions(client: Client) -> None:
    browser = client()
    answer = browser.post(
        "/templates/check",
        data=draft(csrf(browser), content="Welcome {{ user }, ready."),
        headers={"accept": "application/json"},
    )
    assert answer.status_code == 200
    (problem,) = answer.json()["diagnostics"]
    assert problem["location"] == "sms-config/templates/welcome.yaml:7:21"
    assert problem["rule"] == "SMS101"
    assert problem["message"] == "content is not valid template syntax: unexpected '}'"

    fine = browser.post("/templates/check", data=draft(csrf(browser)), headers={"accept": "application/json"}).json()
    assert fine["diagnostics"] == []
    (sandbox,) = fine["preview"]["renderings"]
    assert sandbox["message"] == "【OnePro】Welcome Ann, your account is ready."
    assert (sandbox["segments"], sandbox["encoding"]) == (1, "UCS-2")
    assert ["Tencent", "Welcome {1}, your account is ready."] in fine["preview"]["native"]


def test_a_draft_with_errors_is_not_saved_a_fixed_one_is_with_its_diff(client: Client, console_repo: Path) -> None:
    browser = client()
    token = csrf(browser)
    refused = browser.post("/templates/save", data=draft(token, content="Welcome {{ user }, ready."))
    assert refused.status_code == 422
    assert "SMS101" in refused.text and "welcome.yaml:7:21" in refused.text
    assert not (console_repo / "sms-config/templates/welcome.yaml").exists()

    saved = browser.post("/templates/save", data=draft(token))
    assert saved.status_code == 200  # followed to the changes page
    assert str(saved.url).endswith("/changes?saved=templates/welcome.yaml")
    written = (console_repo / "sms-config/templates/welcome.yaml").read_text()
    assert 'content: "Welcome {{ user }}, your account is ready."' in written
    assert 'user: {type: name, example: "Ann", maxLength: 10}' in written
    assert "+  content: &#34;Welcome {{ user }}, your account is ready.&#34;" in saved.text  # the diff, escaped


def test_modifying_a_live_template_keeps_comments_and_plans_a_new_version(client: Client, console_repo: Path) -> None:
    browser = client()
    editor = browser.get("/templates/alert-notification/edit?channel=sandbox").text
    digest = re.search(r'name="digest" value="([^"]+)"', editor)
    assert digest is not None
    form = draft(
        csrf(browser),
        name="alert-notification",
        original="alert-notification",
        file="templates/alert-notification.yaml",
        digest=digest.group(1),
        content="[{{ severity }}] {{ service }}: {{ summary }} since {{ started }}.",
        remark="Paging message to on-call engineers of the OnePro monitoring system when an alert fires.",
        channels=["sandbox", "staging", "production"],
        var_name=["severity", "service", "summary", "started"],
        var_type=["text", "name", "text", "time"],
        var_example=["P1", "payments-api", "error rate above 5%", "14:05"],
        var_max=["4", "20", "30", "5"],
    )
    assert browser.post("/templates/save", data=form).status_code == 200
    text = (console_repo / ALERT).read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schemas/template.schema.json\n# Pages the on-call")
    assert "labels:\n    team: sre" in text  # untouched parts as they were
    assert git(console_repo, "diff", "--stat").strip().endswith("1 file changed, 1 insertion(+), 1 deletion(-)")
    page = browser.get("/channels/sandbox").text
    assert "content changed: new version; the live one stays" in page


def test_a_second_save_from_a_stale_editor_is_refused_and_nothing_is_lost(client: Client, console_repo: Path) -> None:
    browser = client()
    editor = browser.get("/templates/alert-notification/edit").text
    digest = re.search(r'name="digest" value="([^"]+)"', editor)
    assert digest is not None
    other_tab = (console_repo / ALERT).read_text().replace("fires.", "fires, day or night.")
    (console_repo / ALERT).write_text(other_tab)
    where = {"name": "alert-notification", "original": "alert-notification", "file": ALERT.removeprefix("sms-config/")}
    form = draft(csrf(browser), **where, digest=digest.group(1), content="Mine {{ user }}")
    answer = browser.post("/templates/save", data=form)
    assert answer.status_code == 409
    assert "alert-notification.yaml changed since it was loaded" in answer.text
    assert "Mine {{ user }}" in answer.text  # the draft is still in the form
    assert (console_repo / ALERT).read_text() == other_tab


def test_delete_removes_the_template_and_commit_puts_it_on_a_new_branch(client: Client, console_repo: Path) -> None:
    browser = client()
    token = csrf(browser)
    assert browser.post("/templates/password-reset/delete", data={"csrf": token}).status_code == 200
    assert not (console_repo / "sms-config/templates/password-reset.yaml").exists()
    assert 'data-template="password-reset"' not in browser.get("/channels/sandbox").text
    done = browser.post("/changes/commit", data={"csrf": token, "branch": "sms/drop-reset", "message": "Drop reset"})
    assert done.status_code == 200
    assert "on branch sms/drop-reset" in done.text
    assert git(console_repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "sms/drop-reset"
    assert git(console_repo, "log", "-1", "--format=%s").strip() == "Drop reset"
    history = browser.get("/channels/sandbox/history?template=password-reset").text
    assert "Drop reset" in history and "Template password-reset deleted" in history


def fields_by_commit(page: str) -> dict[str, list[tuple[str, str, str]]]:
    """The history page's events: commit subject -> its (field, before, after) rows, as read."""
    events = {}
    for event in re.findall(r"<li>(.*?)</li>", page, re.S):
        subject = re.search(r"<strong>(.*?)</strong>", event)
        assert subject is not None, event
        rows = re.findall(
            r'<tr><td><code>(.*?)</code></td><td class="del">(.*?)</td><td class="add">(.*?)</td></tr>', event
        )
        events[html.unescape(subject.group(1))] = [tuple(html.unescape(cell) for cell in row) for row in rows]
    return events


def test_history_shows_what_each_commit_changed_before_and_after(client: Client, console_repo: Path) -> None:
    """Values read as ``smsops history`` writes them: JSON, strings quoted, nothing ambiguous."""
    alert = console_repo / ALERT
    alert.write_text(alert.read_text().replace("Started at {{ started }}.", "Started at {{ started }} UTC."))
    git(console_repo, "commit", "-q", "-am", "Alert: say the time zone")
    alert.write_text(
        alert.read_text().replace("team: sre", "team: platform").replace("maxLength: 30}", "maxLength: 40}")
    )
    git(console_repo, "commit", "-q", "-am", "Alert: the platform team owns it")
    events = fields_by_commit(client(read_only=True).get("/channels/sandbox/history?template=alert-notification").text)
    assert list(events) == [
        "Alert: the platform team owns it",
        "Alert: say the time zone",
        "Example config after the demo",
    ]

    def summary(length: int) -> str:
        return '{"type": "text", "example": "error rate above 5%", "maxLength": ' + f"{length}}}"

    assert events["Alert: the platform team owns it"] == [
        ("metadata.labels", '{"team": "sre"}', '{"team": "platform"}'),
        ("variables.summary", summary(30), summary(40)),
    ]
    content = '"[{{ severity }}] {{ service }} alert: {{ summary }}. Started at {{ started }}."'
    later = content.replace("{{ started }}.", "{{ started }} UTC.")
    assert events["Alert: say the time zone"] == [("content", content, later)]
    created = {field: (before, after) for field, before, after in events["Example config after the demo"]}
    assert created["content"] == ("", content) and created["international"] == ("", "false")


def test_the_changes_page_shows_only_a_file_the_console_saved(client: Client) -> None:
    browser = client()
    for other in ("keys/sandbox.agekey", "templates/../keys/sandbox.agekey", "templates/../../.git/config",
                  "templates/alert-notification.yaml"):  # fmt: skip
        page = browser.get("/changes", params={"saved": other}).text
        assert 'data-testid="file"' not in page and "Saved <code>" not in page, other
    saved = browser.post("/templates/save", data=draft(csrf(browser))).text
    assert "Saved <code>templates/welcome.yaml</code>" in saved
    assert '<pre class="file" data-testid="file">apiVersion: smsops/v1' in saved
