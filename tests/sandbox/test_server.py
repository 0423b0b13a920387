"""`smsops sandbox serve` as a real subprocess, and the control subcommands."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.base import TemplateKind
from reconciler.sandbox import Sandbox
from reconciler.sandbox.alibaba.emulator import AlibabaEmulator

DEMO = AlibabaEmulator.demo


def _start(state_dir: Path) -> tuple[subprocess.Popen[str], str, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("ready"):
            break
    match = next(
        (re.match(r"^alibaba: http://(127\.0\.0\.1:\d+)$", ln) for ln in lines if ln.startswith("alibaba")), None
    )
    assert match is not None, lines
    return process, match.group(1), lines


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    process, endpoint, lines = _start(tmp_path / "state")
    try:
        yield process, endpoint, lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _sign_status(endpoint: str, key_id: str = DEMO.access_key_id, secret: str = DEMO.access_key_secret) -> Any:
    from alibabacloud_dysmsapi20170525 import models as m
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi.models import Config

    config = Config(access_key_id=key_id, access_key_secret=secret, endpoint=endpoint, protocol="http")
    return Client(config).get_sms_sign(m.GetSmsSignRequest(sign_name="OnePro")).body


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_serve_answers_the_sdk_then_stops_cleanly(
    served: tuple[subprocess.Popen[str], str, list[str]], tmp_path: Path, signum: int, exit_code: int
) -> None:
    process, endpoint, lines = served
    # The key id masked, as `sandbox accounts` shows it; the secret never: serve says where the pair is.
    keys_file = tmp_path / "state" / "demo-keys.json"
    assert f"  account {DEMO.name}: access key id LTAI****0001 (key id and secret in {keys_file})" in lines
    assert not any(DEMO.access_key_secret in line or DEMO.access_key_id in line for line in lines)
    assert keys_file.stat().st_mode & 0o777 == 0o600
    pair = json.loads(keys_file.read_text())["alibaba"]
    assert pair["account"] == DEMO.name
    body = _sign_status(endpoint, pair["access_key_id"], pair["access_key_secret"])  # what a user does with it
    assert (body.code, body.sign_status) == ("OK", 1)
    process.send_signal(signum)
    assert process.wait(timeout=15) == exit_code
    assert process.stderr is not None and "sandbox stopped" in process.stderr.read()
    assert "Traceback" not in (process.stdout.read() if process.stdout else "")


def test_control_commands_on_the_state_dir(tmp_path: Path, run_cli: Any) -> None:
    sandbox = Sandbox(tmp_path)
    account = sandbox.ensure_demo("alibaba", DEMO)
    account.configure(auto_review=False)
    code = account.create_template(
        name="login",
        content="code ${code}",
        kind=TemplateKind.VERIFICATION,
        remark="r",
        code_factory=lambda n: f"SMS_{n}",
    ).code
    state = ["--state-dir", str(tmp_path)]
    assert run_cli("sandbox", "status", *state)[1].splitlines()[2] == f"  template {code} login: pending"
    assert run_cli("sandbox", "reject", code, "--reason", "too vague", *state)[:2] == (
        0,
        f"{code}: rejected (too vague)\n",
    )
    assert run_cli("sandbox", "approve", code, *state)[:2] == (0, f"{code}: approved\n")
    code_, out, _ = run_cli("sandbox", "status", "--json", *state)
    assert code_ == 0 and json.loads(out)["templates"][0]["status"] == "approved"
    missing = run_cli("sandbox", "approve", "SMS_404", *state)
    assert missing[0] == 1 and "template SMS_404 does not exist" in missing[2]
    nobody = run_cli("sandbox", "status", "--account", "no-such-account", *state)
    assert nobody[0] == 1 and "no sandbox account 'no-such-account'" in nobody[2]


def test_control_commands_over_http(
    served: tuple[subprocess.Popen[str], str, list[str]], run_cli: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    _, endpoint, lines = served
    url = ["--url", f"http://{endpoint}"]
    monkeypatch.chdir(tmp_path)  # no state directory of its own to find a token in
    # The token is printed by serve and read from the state directory by the CLI.
    (token,) = (ln.split()[1] for ln in lines if ln.startswith("  token "))
    assert (tmp_path / "state" / "control-token").read_text().strip() == token
    code, out, _ = run_cli("sandbox", "status", *url, "--state-dir", str(tmp_path / "state"))
    assert code == 0 and out.splitlines()[:2] == [f"account {DEMO.name} (alibaba)", "  signature OnePro: approved"]
    assert run_cli("sandbox", "status", *url, "--token", token)[0] == 0
    missing = run_cli("sandbox", "approve", "SMS_404", *url, "--token", token)
    assert missing[0] == 1 and "HTTP 404" in missing[2]
    code, _, err = run_cli("sandbox", "status", *url)
    assert code == 1 and "HTTP 401" in err and "hint: pass the --state-dir of that `smsops sandbox serve`" in err
    code, _, err = run_cli("sandbox", "status", *url, "--token", "x" * 43)
    assert code == 1 and "HTTP 403: wrong control token" in err


def test_a_busy_port_is_an_error_not_a_traceback(tmp_path: Path, run_cli: Any) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli("sandbox", "serve", "--state-dir", str(tmp_path), "--alibaba-port", str(port))
    assert code == 1
    assert f"error: cannot listen on 127.0.0.1 (alibaba {port}): Address already in use" in err
    assert "hint: choose other ports, or 0 to let the system pick free ones" in err
    assert "Traceback" not in err
