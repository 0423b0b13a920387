"""``RunningSandbox.after_request``: called once per provider API request, before it is answered;
never for the control API; a callback that fails does not change the answer."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from reconciler.sandbox.core import SandboxRequest, SandboxResponse
from reconciler.sandbox.testing import SandboxHandle


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_after_request_sees_each_api_request_before_its_answer(
    sms_sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[str, str, int]] = []

    def record(emulator: str, request: SandboxRequest, response: SandboxResponse) -> None:
        seen.append((emulator, request.params().get("Action", ""), response.status))

    url = sms_sandbox.url("alibaba")
    sms_sandbox.running.after_request = record
    unsigned = status_of(f"{url}/?Action=QuerySmsTemplateList")  # refused: not signed
    assert status_of(f"{url}/_sandbox/accounts") == 200
    assert seen == [("alibaba", "QuerySmsTemplateList", unsigned)]

    def fail(emulator: str, request: SandboxRequest, response: SandboxResponse) -> None:
        raise RuntimeError("the check broke")

    sms_sandbox.running.after_request = fail
    assert status_of(f"{url}/?Action=QuerySmsTemplateList") == unsigned
    assert "sandbox: after_request callback failed: RuntimeError: the check broke" in capsys.readouterr().err
