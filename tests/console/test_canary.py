"""No secret and no phone number reaches the browser, whatever the route.

Every route the app registers is called (GET, and POST with the CSRF token), on the demo's sandbox
channel and on a Tencent channel served by the Tencent emulator (``tencent_sandbox``), both with
known values in their SOPS files: the canaries. No answer (a page, a JSON answer, a redirect's
address) may hold one. The routes are read from ``app.routes``: a route added to the console without
a call here fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Match, Mount, Route
from starlette.testclient import TestClient

from reconciler.sandbox.store.clock import SystemClock
from reconciler.sandbox.tencent.ops import set_effect_delay
from reconciler.sandbox.testing import (
    TENCENT_TEST_APP_ID,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    SandboxHandle,
)
from tests.configrepo import SANDBOX_KEY, write_sops
from tests.console.conftest import CANARIES, Client, csrf, draft, git

TENCENT_NUMBERS = ("+8613912345671", "+8615987654322")
NEW_KEYS = {  # what "a new key" is given, per channel
    "sandbox": ("LTAI5tCanaryReplaced9999", "CanaryNewSecret-3b8e1f00"),
    "tencent-cn": ("AKIDCanaryReplacedTencent00000000007", "CanaryNewTencentSecret-77c0"),
}
AGE_KEY = next(line for line in SANDBOX_KEY.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-"))
SECRETS = (
    *CANARIES,
    TENCENT_TEST_SECRET_ID,
    TENCENT_TEST_SECRET_KEY,
    *(number.removeprefix("+86") for number in TENCENT_NUMBERS),
    *(value for pair in NEW_KEYS.values() for value in pair),
    AGE_KEY,
)


@pytest.fixture
def sandbox_clock() -> SystemClock:
    """The emulators run on the wall clock: a gate asks for the delivery reports of the sends it made
    now, and waits for them (asking every 0.1 s, not every 5 s as of a real provider)."""
    return SystemClock()


@pytest.fixture(autouse=True)
def quick_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reconciler.verify.gate.DEFAULT_POLL_INTERVAL_S", 0.1)


def registered(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route of the app; a mount (the static files) as GET of its prefix."""
    found = set()
    for route in app.routes:
        if isinstance(route, Mount):
            found.add(("GET", route.path))
        else:
            assert isinstance(route, Route), route
            found.update((method, route.path) for method in route.methods or () if method != "HEAD")
    return found


class Visitor:
    """A browser of the console that keeps every answer it got and the route that gave it."""

    def __init__(self, browser: TestClient) -> None:
        self.browser = browser
        self.answers: list[str] = []
        self.routes: set[tuple[str, str]] = set()

    def _route(self, method: str, path: str) -> None:
        scope = {"type": "http", "method": method, "path": path.split("?")[0]}
        for route in self.browser.app.routes:  # type: ignore[attr-defined]
            if route.matches(scope)[0] is Match.FULL:
                self.routes.add((method, route.path))
                return
        raise AssertionError(f"no route answers {method} {path}")

    def _kept(self, method: str, path: str, answer: Any) -> Any:
        self._route(method, path)
        self.answers.append(f"{answer.headers.get('location', '')}\n{answer.text}")
        if answer.status_code == 303:  # followed, as a browser does
            return self.get(answer.headers["location"])
        return answer

    def get(self, path: str, **options: Any) -> Any:
        return self._kept("GET", path, self.browser.get(path, follow_redirects=False, **options))

    def post(self, path: str, data: dict[str, Any], **options: Any) -> Any:
        return self._kept("POST", path, self.browser.post(path, data=data, follow_redirects=False, **options))


def settings_form(visitor: Visitor, channel: str, token: str) -> dict[str, str]:
    """The "Modify" form of ``channel`` as the page fills it in, the switch on."""
    page = visitor.get(f"/channels/{channel}/modify").text
    filled = r'<input (?:type="hidden" )?(?:id="\w+" )?name="(digest|endpoint|signature)" value="([^"]*)"'
    fields = dict(re.findall(filled, page))
    assert sorted(fields) == ["digest", "endpoint", "signature"], page
    return {**fields, "csrf": token, "enabled": "on"}


def tencent_channel(repo: Path, handle: SandboxHandle, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    """The example's tencent-cn channel, served by the emulator (published on the machine instead of
    S3), its SOPS file holding the emulator's keys and two test numbers; order-shipped-zh live."""
    channel = repo / "sms-config/channels/tencent-cn.yaml"
    text = channel.read_text().split("  # Durable:")[0]  # the S3 publication left out
    text = text.replace("  provider: tencent\n", f"  provider: tencent\n  endpoint: {handle.url('tencent')}\n")
    text = text.replace('smsSdkAppId: "1400000000"', f'smsSdkAppId: "{TENCENT_TEST_APP_ID}"')
    channel.write_text(text.replace("deliveryTimeout: 5m", "deliveryTimeout: 30s"))
    write_sops(
        repo / "sms-config/secrets/tencent.enc.yaml",
        {
            "access_key_id": TENCENT_TEST_SECRET_ID,
            "access_key_secret": TENCENT_TEST_SECRET_KEY,
            "test_recipients": list(TENCENT_NUMBERS),
        },
    )
    git(repo, "commit", "-q", "-am", "tencent-cn on the emulator")
    assert run_cli("apply", "sms-config", "--channel", "tencent-cn", "--auto-approve")[0] == 0
    (version,) = handle.tencent_account.templates()
    set_effect_delay(handle.tencent_account, 0)  # approved is effective at once
    handle.tencent_account.approve(version.code)
    code, out, err = run_cli("apply", "sms-config", "--channel", "tencent-cn", "--auto-approve")
    assert code == 0 and "Gate passed on tencent-cn" in out, out + err


def test_no_secret_or_phone_number_in_any_answer_of_any_route(
    client: Client,
    console_repo: Path,
    tencent_sandbox: SandboxHandle,
    run_cli: Any,
) -> None:
    tencent_channel(console_repo, tencent_sandbox, run_cli)
    browser = client()
    visitor = Visitor(browser)
    token = csrf(browser)
    channels = ("sandbox", "tencent-cn")

    # What is there: the pages, the editor, an error, the static files.
    for path in ("/", "/templates/new", "/templates/login-verification/edit", "/templates/order-shipped-zh/edit",
                 "/changes", "/static/console.css", "/static/console.js", "/channels/nope"):  # fmt: skip
        visitor.get(path)
    visitor.get("/channels/nope/history", headers={"accept": "application/json"})
    for name in channels:
        page = visitor.get(f"/channels/{name}").text
        assert 'class="state state-live">live</span>' in page  # the live state was read
        visitor.get(f"/channels/{name}/modify")
        visitor.get(f"/channels/{name}/history")
    visitor.get("/channels/tencent-cn/history?template=order-shipped-zh")

    # "Send Test SMS" on each channel: its page while it runs and once done, and its JSON.
    for name in channels:
        where = visitor.post(f"/channels/{name}/test-send", data={"csrf": token}).url.path
        job = browser.app.state.console.sends.get(where.rsplit("/", 1)[1])  # type: ignore[attr-defined]
        assert job is not None and job.wait(timeout=120)
        visitor.get(where)
        progress = visitor.get(f"{where}/progress").json()
        assert progress["status"] == "passed", progress

    # Every change the console makes: each answer, and the page it leads to.
    visitor.post("/templates/check", data=draft(token))
    visitor.post("/templates/check", data=draft(token), headers={"accept": "application/json"})
    assert visitor.post("/templates/save", data=draft(token, content="Hi {{ user }")).status_code == 422
    assert visitor.post("/templates/save", data=draft(token)).status_code == 200
    for name in channels:
        assert visitor.post(f"/channels/{name}/settings", data=settings_form(visitor, name, token)).status_code == 200
    assert visitor.post("/templates/password-reset/delete", data={"csrf": token}).status_code == 200
    committed = visitor.post("/changes/commit", data={"csrf": token, "branch": "sms/canary", "message": "Welcome"})
    assert "on branch sms/canary" in committed.text
    for name, (key_id, secret) in NEW_KEYS.items():
        answer = visitor.post(
            f"/channels/{name}/keys", data={"csrf": token, "access_key_id": key_id, "access_key_secret": secret}
        )
        assert "keys replaced through sops" in answer.text
    visitor.post("/changes/commit", data={"csrf": token, "branch": "sms/new-keys", "message": "Rotate the keys"})
    # The keys the providers do not know: what the pages say of that, and the history of the rotation.
    for name in channels:
        visitor.get(f"/channels/{name}")
        visitor.get(f"/channels/{name}/modify")
        assert "<code>credentials</code>" in visitor.get(f"/channels/{name}/history").text
    assert "credentials refused by the provider: tencent" in visitor.get("/channels/tencent-cn").text
    # A file the console did not save is not shown on the changes page: not the age key beside the config.
    visitor.get("/changes?saved=keys/sandbox.agekey")
    visitor.get("/changes?saved=templates/../keys/sandbox.agekey")

    assert visitor.routes == registered(browser.app), "a route of the console is not called here"
    assert any("+86 139****5671" in answer for answer in visitor.answers)  # the numbers are shown, masked
    for answer in visitor.answers:
        for secret in SECRETS:
            assert secret not in answer, f"leaked {secret[:6]}…"
