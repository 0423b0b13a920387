"""Who may use the console: the access token, loopback Host names, CSRF on every change, and
--read-only. Starlette's TestClient on the real app, a real config repository (see conftest)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from reconciler.console.app import create_app
from reconciler.console.security import COOKIE, READ_ONLY
from tests.console.conftest import ALERT, TOKEN, Client, csrf, draft, git


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
