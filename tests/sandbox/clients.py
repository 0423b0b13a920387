"""Official clients smsops itself does not use, driven in-process against the emulators: the
older Alibaba SDK (``aliyunsdkcore`` + ``aliyunsdkdysmsapi``), ``tccli`` and the aws CLI; and a
recorder of the emulators' raw answers, to check them against the clients' metadata.

tccli has no option for plain HTTP (it always speaks https to ``--endpoint``), so ``tccli_call``
makes the SDK's HttpProfile default to http while it runs; everything else is tccli's own path:
argument parsing, model building, signing, parsing and printing the answer."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import AcsRequest, CommonRequest

from reconciler.sandbox.core import SandboxRequest, SandboxResponse
from reconciler.sandbox.server import RunningSandbox


@dataclass(frozen=True)
class Answer:
    provider: str
    operation: str
    status: int
    body: Any


def operation_of(provider: str, request: SandboxRequest) -> str:
    if provider == "alibaba":
        return request.headers.get("x-acs-action") or request.params().get("Action", "")
    if provider == "tencent":
        return request.headers.get("x-tc-action", "")
    return request.headers.get("x-amz-target", "").rpartition(".")[2]


@dataclass
class Recorder:
    """Every answer the emulators give while installed, with the operation it answered."""

    answers: list[Answer] = field(default_factory=list)

    def install(self, running: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        for provider, emulator in running.emulators.items():
            monkeypatch.setattr(emulator, "handle", self._wrap(provider, emulator.handle))

    def _wrap(self, provider: str, handle: Callable[[SandboxRequest], SandboxResponse]) -> Any:
        def recorded(request: SandboxRequest) -> SandboxResponse:
            response = handle(request)
            if not response.drop:
                body = json.loads(response.body) if response.body else None
                self.answers.append(Answer(provider, operation_of(provider, request), response.status, body))
            return response

        return recorded

    def operations(self, provider: str, *, status: int = 200) -> set[str]:
        return {a.operation for a in self.answers if a.provider == provider and a.status == status}


# -- the older Alibaba SDK ------------------------------------------------------------------------
@dataclass
class OldAlibaba:
    """``AcsClient`` (V2 HMAC-SHA1 signing) against the emulator; POST puts ``body`` in the form."""

    client: AcsClient
    endpoint: str

    def request(self, action: str, *, body: dict[str, Any] | None = None, **query: Any) -> CommonRequest:
        request = CommonRequest(domain=self.endpoint, version="2017-05-25", action_name=action)
        request.set_protocol_type("http")
        request.set_method("POST")
        request.set_accept_format("json")
        for key, value in query.items():
            request.add_query_param(key, value)
        for key, value in (body or {}).items():
            request.add_body_params(key, value)
        return request

    def call(self, action: str, *, body: dict[str, Any] | None = None, **query: Any) -> dict[str, Any]:
        return self.send(self.request(action, body=body, **query))

    def send(self, request: AcsRequest) -> dict[str, Any]:
        """Any request of the old SDK, pointed at the emulator; the parsed JSON answer."""
        request.set_protocol_type("http")
        if isinstance(request, CommonRequest):
            request.set_domain(self.endpoint)
        else:
            request.set_endpoint(self.endpoint)
        answer: dict[str, Any] = json.loads(self.client.do_action_with_exception(request))
        return answer


# -- tccli ----------------------------------------------------------------------------------------
class _KeptOpen(io.BytesIO):
    def close(self) -> None:  # tccli closes the stream it printed to; keep what it wrote
        return None


@dataclass
class Tccli:
    endpoint: str
    monkeypatch: pytest.MonkeyPatch
    _command: Any = None

    def __call__(self, action: str, **params: Any) -> Any:
        """``tccli sms <action> --Name value ...``: the printed JSON, or the SDK exception."""
        from tccli.command import CLICommand
        from tencentcloud.common.profile import http_profile

        original = http_profile.HttpProfile.__init__

        def plain_http(profile: Any, protocol: str | None = None, *args: Any, **kwargs: Any) -> None:
            original(profile, "http", *args, **kwargs)

        argv = ["sms", action, "--endpoint", self.endpoint]
        for key, value in params.items():
            argv += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
        raw = _KeptOpen()
        out = io.TextIOWrapper(raw, encoding="utf-8")
        with self.monkeypatch.context() as patch:
            patch.setattr(http_profile.HttpProfile, "__init__", plain_http)
            patch.setattr(sys, "argv", ["tccli", *argv])
            if self._command is None:
                self._command = CLICommand()  # its service map is built once (the slow part)
            with contextlib.redirect_stdout(out):
                self._command(argv)
            out.flush()
        return json.loads(raw.getvalue())


# -- the aws CLI ----------------------------------------------------------------------------------
@dataclass
class AwsCli:
    url: str
    _driver: Any = None

    def __call__(self, *args: str) -> tuple[int, Any]:
        """``aws pinpoint-sms-voice-v2 <args>``: exit code and printed JSON (None when empty)."""
        from awscli.clidriver import create_clidriver

        if self._driver is None:
            self._driver = create_clidriver()
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = self._driver.main(["pinpoint-sms-voice-v2", *args, "--endpoint-url", self.url, "--output", "json"])
        text = out.getvalue()
        return code, json.loads(text) if text.strip() else None


@contextlib.contextmanager
def aws_environment(monkeypatch: pytest.MonkeyPatch, key_id: str, secret: str, home: str) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{home}/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", f"{home}/config")
    monkeypatch.setenv("AWS_PAGER", "")
    yield
