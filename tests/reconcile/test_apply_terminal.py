"""apply on a terminal asks before changing anything; two applies on one channel take turns."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reconciler.errors import SmsopsError
from reconciler.reconcile.lock import channel_locks
from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import ROOT, SANDBOX_KEY, ConfigRepo


def run_on_terminal(args: list[str], answer: bytes, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run ``smsops ARGS`` with a pseudo-terminal as stdin/stdout; answer the first prompt."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    seen = b""
    answered = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(leader, answer)
                answered = True
        elif process.poll() is not None:
            break
    code = process.wait(timeout=10)
    os.close(leader)
    return code, seen.decode(errors="replace").replace("\r\n", "\n")


@pytest.fixture
def repo(tmp_path: Path, sms_sandbox: SandboxHandle) -> ConfigRepo:
    config = ConfigRepo(tmp_path / "cfg")
    config.secrets(*sms_sandbox.credentials)
    config.channel("prod", "alibaba", sms_sandbox.url())
    config.template("alert", "Service {{ service }} is down", service="db")
    return config


def env() -> dict[str, str]:
    return {**os.environ, "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "SOPS_DISABLE_VERSION_CHECK": "1"}


def test_terminal_shows_the_plan_and_a_no_changes_nothing(repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    code, screen = run_on_terminal(["apply", str(repo.root)], b"n\n", env())
    assert code == 0, screen
    assert "+ create  prod/alert~" in screen
    assert "Apply these changes? [y/N]:" in screen
    assert "Nothing applied." in screen
    assert sms_sandbox.account.templates() == []


def test_terminal_yes_applies(repo: ConfigRepo, sms_sandbox: SandboxHandle) -> None:
    code, screen = run_on_terminal(["apply", str(repo.root)], b"y\n", env())
    assert code == 0, screen
    assert "Apply: 1 done, 0 failed, 0 deferred, 0 skipped." in screen
    assert [t.name.split("~")[0] for t in sms_sandbox.account.templates()] == ["alert"]


def test_second_apply_on_a_channel_waits_for_the_first(tmp_path: Path) -> None:
    messages: list[str] = []
    order: list[str] = []
    with channel_locks(tmp_path, ["prod"]):

        def second() -> None:
            with channel_locks(tmp_path, ["prod"], notify=messages.append, poll=0.01):
                order.append("second")

        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.2)
        order.append("first done")
    waiting.join(timeout=5)
    assert order == ["first done", "second"]
    assert messages == [f"waiting for another apply on channel prod to finish (lock {tmp_path}/prod.lock)"]


def test_lock_wait_has_a_limit_with_a_clear_message(tmp_path: Path) -> None:
    with channel_locks(tmp_path, ["prod"]), pytest.raises(SmsopsError) as raised:  # noqa: SIM117
        with channel_locks(tmp_path, ["prod"], timeout=0.1, poll=0.01):
            pass
    assert str(raised.value) == (
        "channel prod is locked by another apply for over 0s\n"
        "  hint: wait for the other apply to finish, or check for a stuck smsops process"
    )


def test_lock_wait_runs_on_the_injected_clock(tmp_path: Path) -> None:
    """Ten minutes of waiting for a held lock, in no time: the clock and sleep are parameters."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with channel_locks(tmp_path, ["prod"]), pytest.raises(SmsopsError) as raised:  # noqa: SIM117
        with channel_locks(tmp_path, ["prod"], timeout=600, poll=30, clock=lambda: now[0], sleep=sleep):
            pass
    assert "locked by another apply for over 600s" in str(raised.value)
    assert slept == [30] * 21 and now[0] == 630  # it gives up once the deadline has passed
