"""The sandbox server as a network service, probed over real HTTP as a web page or a careless
client would: control token, loopback Host, body cap, bad Content-Length, JSON-only control bodies,
malformed bodies, private state files, key-ID claims, reset and tags, masked listings."""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_dysmsapi20170525 import models as m

from reconciler.sandbox.control import ControlError
from reconciler.sandbox.guard import MAX_BODY, TOKEN_FILE
from reconciler.sandbox.server import start
from reconciler.sandbox.store.account import Sandbox
from reconciler.sandbox.testing import TEST_ACCOUNT, TEST_KEY_ID, TEST_KEY_SECRET, SandboxHandle

ACCOUNT = f"/_sandbox/accounts/{TEST_ACCOUNT}"
NEW_ACCOUNT = {"name": "ctl", "provider": "alibaba", "access_keys": {"LTAI5tControlKey00000001": "s1"}}


def _send(
    handle: SandboxHandle,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    host: str | None = "",
    token: str | None = "",
    content_type: str | None = "application/json",
) -> tuple[int, http.client.HTTPResponse, Any]:
    """One request written header by header (so any of them can be wrong or missing); returns
    (status, response, decoded JSON body). ``""`` means the right value, None leaves it out."""
    port = handle.running.port("alibaba")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a hang fails, never blocks the run
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    if host is not None:
        connection.putheader("Host", host or f"127.0.0.1:{port}")
    if token is not None:
        connection.putheader("Authorization", f"Bearer {token or handle.token}")
    if content_type is not None:
        connection.putheader("Content-Type", content_type)
    sent = {"Content-Length": str(len(body)), **(headers or {})}
    for key, value in sent.items():
        connection.putheader(key, value)
    connection.endheaders(body or None)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    return response.status, response, json.loads(raw) if raw else None


def _template(client: Any) -> str:
    request = m.CreateSmsTemplateRequest(
        template_name="login v1",
        template_content="Your login code is ${code}.",
        template_type=0,
        related_sign_name="OnePro",
        template_rule=json.dumps({"code": "numberCaptcha"}),
        remark="Sent when a user signs in.",
    )
    code: str = client.create_sms_template(request).body.template_code
    return code


def _sign_status(client: Any) -> str:
    return str(client.get_sms_sign(m.GetSmsSignRequest(sign_name="OnePro")).body.code)


# -- the token ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/_sandbox/health", b""),
        ("GET", "/_sandbox/accounts", b""),
        ("GET", f"{ACCOUNT}/sends", b""),
        ("POST", "/_sandbox/accounts", json.dumps(NEW_ACCOUNT).encode()),
        ("POST", f"{ACCOUNT}/reset", b"{}"),
    ],
)
def test_every_control_route_needs_the_token(sms_sandbox: SandboxHandle, method: str, path: str, body: bytes) -> None:
    status, response, answer = _send(sms_sandbox, method, path, body=body, token=None)
    assert (status, response.getheader("WWW-Authenticate")) == (401, 'Bearer realm="smsops-sandbox"')
    assert "Authorization: Bearer <token>" in answer["error"]
    status, _, answer = _send(sms_sandbox, method, path, body=body, token="not-the-token")
    assert (status, answer) == (403, {"error": "wrong control token"})
    assert "ctl" not in {a.name for a in sms_sandbox.sandbox.accounts()}  # nothing was done
    assert _send(sms_sandbox, method, path, body=body)[0] == 200


def test_the_provider_api_keeps_its_own_authentication(sms_sandbox: SandboxHandle) -> None:
    assert _sign_status(sms_sandbox.alibaba_client()) == "OK"  # signed by the SDK, no control token
    with pytest.raises(Exception, match="SignatureDoesNotMatch"):
        _sign_status(sms_sandbox.alibaba_client(access_key_secret="wrong-secret-0000"))


def test_the_token_is_the_state_directorys_private_file(sms_sandbox: SandboxHandle) -> None:
    path = sms_sandbox.sandbox.state_dir / TOKEN_FILE
    assert path.read_text().strip() == sms_sandbox.token and len(sms_sandbox.token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with start(Sandbox(sms_sandbox.sandbox.state_dir), {"alibaba": 0}) as second:  # same directory, same token
        assert second.token == sms_sandbox.token


# -- Host -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/_sandbox/accounts", "/?Action=GetSmsSign"])
@pytest.mark.parametrize("host", ["rebound.example.com:{port}", "127.0.0.1:1", "localhost", "10.0.0.1:{port}", None])
def test_a_foreign_host_is_refused_on_every_route(sms_sandbox: SandboxHandle, host: str | None, path: str) -> None:
    port = sms_sandbox.running.port("alibaba")
    status, response, answer = _send(sms_sandbox, "GET", path, host=None if host is None else host.format(port=port))
    assert status == 421 and response.getheader("Connection") == "close"
    assert answer == {"error": f"this sandbox answers only Host: 127.0.0.1:{port} or localhost:{port}"}


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_loopback_hosts_are_served(sms_sandbox: SandboxHandle, host: str) -> None:
    port = sms_sandbox.running.port("alibaba")
    assert _send(sms_sandbox, "GET", "/_sandbox/accounts", host=host.format(port=port))[0] == 200


# -- the body -------------------------------------------------------------------------------------


def test_a_huge_body_is_refused_before_it_is_read(sms_sandbox: SandboxHandle) -> None:
    # Only the headers are sent: the answer comes without the server waiting for 300 MiB.
    size = 300 * 1024 * 1024
    status, response, answer = _send(sms_sandbox, "POST", "/_sandbox/accounts", headers={"Content-Length": str(size)})
    assert (status, response.getheader("Connection")) == (413, "close")
    assert answer == {"error": f"the body is {size} bytes; the sandbox takes at most {MAX_BODY}"}
    assert _send(sms_sandbox, "GET", "/", headers={"Content-Length": str(MAX_BODY + 1)})[0] == 413  # provider API too


@pytest.mark.parametrize("length", ["abc", "-1", "+5", "1e3", "5, 6"])
def test_a_bad_content_length_is_a_400_not_a_traceback_or_a_hang(
    sms_sandbox: SandboxHandle, capfd: pytest.CaptureFixture[str], length: str
) -> None:
    for path in ("/_sandbox/accounts", "/"):
        status, _, answer = _send(sms_sandbox, "POST", path, headers={"Content-Length": length})
        assert (status, answer) == (400, {"error": "Content-Length must be one non-negative whole number"})
    assert _send(sms_sandbox, "GET", "/_sandbox/health")[0] == 200  # still serving
    assert "Traceback" not in capfd.readouterr().err


def test_a_chunked_body_is_refused(sms_sandbox: SandboxHandle) -> None:
    status, _, answer = _send(
        sms_sandbox, "POST", "/_sandbox/accounts", headers={"Transfer-Encoding": "chunked"}, body=b"0\r\n\r\n"
    )
    assert (status, answer) == (411, {"error": "send the body with a Content-Length, not a Transfer-Encoding"})


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]
)
def test_control_bodies_must_be_json(sms_sandbox: SandboxHandle, content_type: str | None) -> None:
    # What a cross-site form or a "simple" fetch can send without a preflight.
    body = json.dumps(NEW_ACCOUNT).encode()
    status, _, answer = _send(sms_sandbox, "POST", "/_sandbox/accounts", body=body, content_type=content_type)
    assert (status, answer) == (415, {"error": "control requests send Content-Type: application/json"})
    assert "ctl" not in {a.name for a in sms_sandbox.sandbox.accounts()}
    json_charset = "application/json; charset=utf-8"
    assert _send(sms_sandbox, "POST", "/_sandbox/accounts", body=body, content_type=json_charset)[0] == 200


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/_sandbox/accounts", b"{not json", "the body is not JSON: Expecting property name"),
        ("/_sandbox/accounts", b"\xff\xfe\x00", "the body is not JSON"),
        ("/_sandbox/accounts", b"[" * 100_000, "the body is not JSON"),
        ("/_sandbox/accounts", b"[]", "body: Input should be a valid dictionary"),
        ("/_sandbox/accounts", b"{}", "name: Field required; provider: Field required"),
        ("/_sandbox/accounts", b'{"name": "x", "provider": "nokia"}', "unknown provider 'nokia'"),
        ("/_sandbox/accounts", b'{"name": "../x", "provider": "alibaba"}', "account name '../x' must match"),
        ("/_sandbox/accounts", b'{"name": "x", "provider": "alibaba", "access_keys": ["k"]}', "access_keys: Input"),
        ("/_sandbox/accounts", b'{"name": "x", "provider": "alibaba", "signatures": [1]}', "signatures.0: Input"),
        ("/_sandbox/accounts", b'{"name": "x", "provider": "alibaba", "signatures": [["A", "meh"]]}', "Input should"),
        ("/_sandbox/accounts", b'{"name": "x", "provider": "alibaba", "admin": true}', "admin: Extra inputs"),
        (f"{ACCOUNT}/behaviour", b'{"faults": 5}', "faults: Input should be a valid dictionary or instance"),
        (f"{ACCOUNT}/behaviour", b'{"review_delay_s": "soon"}', "review_delay_s: Input should be a valid number"),
        (f"{ACCOUNT}/behaviour", b'{"faults": {"reset": {"rate": 7}}}', "faults.reset.rate: Input should be less"),
        (f"{ACCOUNT}/behaviour", b"[1, 2]", "body: Input should be a valid dictionary"),
        (f"{ACCOUNT}/signatures", b'{"status": "approved"}', "name: Field required"),
        (f"{ACCOUNT}/signatures", b'{"name": "A", "scene": "everything"}', "scene: Input should be"),
        (f"{ACCOUNT}/signatures/OnePro/filing", b'{"mobile": "soon"}', "mobile: Input should be a valid integer"),
        (f"{ACCOUNT}/signatures/OnePro/reject", b'{"reason": 5}', "reason: Input should be a valid string"),
        (f"{ACCOUNT}/templates/SMS_1/reject", b'"no"', "body: Input should be a valid dictionary"),
    ],
)
def test_a_malformed_control_body_is_a_400_that_says_why(
    sms_sandbox: SandboxHandle, capfd: pytest.CaptureFixture[str], path: str, body: bytes, message: str
) -> None:
    status, response, answer = _send(sms_sandbox, "POST", path, body=body)
    assert (status, response.getheader("Content-Type")) == (400, "application/json")
    assert message in answer["error"] and "errors.pydantic.dev" not in answer["error"]
    assert "internal error" not in capfd.readouterr().err


# -- state and what routes give back --------------------------------------------------------------


def test_state_files_are_private(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    assert _sign_status(client) == "OK"  # a request: the WAL and shared-memory files exist now
    state = sms_sandbox.sandbox.state_dir
    files = sorted(p.name for p in state.iterdir())
    assert {f"{TEST_ACCOUNT}.sqlite3", f"{TEST_ACCOUNT}.sqlite3-wal", TOKEN_FILE} <= set(files)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in state.iterdir()} == dict.fromkeys(files, 0o600)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700


def test_a_state_file_made_readable_before_is_made_private_on_open(tmp_path: Path) -> None:
    legacy = tmp_path / "old.sqlite3"
    sqlite3.connect(legacy).close()
    legacy.chmod(0o644)
    Sandbox(tmp_path).create_account("old", provider="alibaba")
    assert stat.S_IMODE(legacy.stat().st_mode) == 0o600


def test_an_account_cannot_claim_a_key_id_held_elsewhere(sms_sandbox: SandboxHandle) -> None:
    control = sms_sandbox.control_client()
    masked = f"{TEST_KEY_ID[:4]}****{TEST_KEY_ID[-4:]}"
    thief = {"name": "thief", "provider": "alibaba", "access_keys": {TEST_KEY_ID: "attacker-secret"}}
    with pytest.raises(ControlError, match=rf"HTTP 409: access key ID {re.escape(masked)} belongs to another"):
        control.call("POST", "accounts", thief)
    with pytest.raises(ControlError, match="HTTP 409"):  # nor change the secret of its own key
        control.call("POST", "accounts", {**thief, "name": TEST_ACCOUNT})
    assert "thief" not in {a["name"] for a in control.call("GET", "accounts")}
    assert _sign_status(sms_sandbox.alibaba_client()) == "OK"  # the real secret still works
    same = {"name": TEST_ACCOUNT, "provider": "alibaba", "access_keys": {TEST_KEY_ID: TEST_KEY_SECRET}}
    assert control.call("POST", "accounts", same)["name"] == TEST_ACCOUNT  # re-creating as it is: fine


def test_reset_forgets_the_templates_tags(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    code = _template(client)
    tag = m.TagResourcesRequestTag(key="smsops-live", value="login")
    client.tag_resources(
        m.TagResourcesRequest(region_id="cn-hangzhou", resource_type="TEMPLATE", resource_id=[code], tag=[tag])
    )
    sms_sandbox.control_client().call("POST", f"accounts/{TEST_ACCOUNT}/reset", {})
    assert _template(client) == code  # codes start again: the new template has the old one's code
    listed = client.list_tag_resources(
        m.ListTagResourcesRequest(region_id="cn-hangzhou", resource_type="TEMPLATE", resource_id=[code])
    )
    assert listed.body.tag_resources.tag_resource == []


def test_sends_are_listed_with_numbers_masked(sms_sandbox: SandboxHandle) -> None:
    client = sms_sandbox.alibaba_client()
    code = _template(client)
    sms_sandbox.account.approve(code)
    request = m.SendSmsRequest(
        phone_numbers="+8613812340000", sign_name="OnePro", template_code=code, template_param='{"code": "1234"}'
    )
    assert client.send_sms(request).body.code == "OK"
    status, _, answer = _send(sms_sandbox, "GET", f"{ACCOUNT}/sends")
    assert status == 200
    (listed,) = answer
    assert (listed["phone"], listed["extra"]["wire_number"]) == ("138****0000", "+86 138****0000")
    assert "3812340000" not in json.dumps(answer)
    (stored,) = sms_sandbox.account.sends()  # in-process, the store itself: the number as sent
    assert stored.phone == "13812340000"


def test_status_json_masks_access_key_ids(sms_sandbox: SandboxHandle, run_cli: Any) -> None:
    state = str(sms_sandbox.sandbox.state_dir)
    code, out, _ = run_cli("sandbox", "status", "--output", "json", "--state-dir", state, "--account", TEST_ACCOUNT)
    assert code == 0 and json.loads(out)["access_key_ids"] == ["LTAI****0001"]
    url = ["--url", sms_sandbox.url(), "--state-dir", state]  # the token is read from the state directory
    code, out, _ = run_cli("sandbox", "status", "--json", *url, "--account", TEST_ACCOUNT)
    assert code == 0 and json.loads(out)["access_key_ids"] == ["LTAI****0001"]
    assert TEST_KEY_ID not in out and TEST_KEY_SECRET not in out


def test_the_cli_finds_the_token_where_serve_keeps_it(tmp_path: Path, run_cli: Any, monkeypatch: Any) -> None:
    # `smsops sandbox serve` run from here keeps its state (and token) in .smsops/sandbox.
    with start(Sandbox(tmp_path / ".smsops" / "sandbox"), {"alibaba": 0}, seed_demo=True) as running:
        monkeypatch.chdir(tmp_path)
        code, out, err = run_cli("sandbox", "status", "--url", running.url("alibaba"))
        assert (code, out.splitlines()[0], err) == (0, "account demo-alibaba (alibaba)", "")
