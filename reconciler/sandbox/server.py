"""The HTTP side: one ``ThreadingHTTPServer`` per emulator on loopback, all sharing one ``Sandbox``.

Each port answers its provider's API and, under ``/_sandbox/``, the JSON control API (see
``reconciler.sandbox.control``). A response marked ``drop`` closes the socket with an RST and
writes nothing, which clients see as a connection reset.

Every request passes ``reconciler.sandbox.guard`` first (loopback ``Host``, a sane body length;
on the control API a token and JSON bodies), so the server is safe to leave running on a machine
whose browser visits other sites.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import struct
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reconciler.sandbox.control import handle_control
from reconciler.sandbox.core import Emulator, SandboxRequest, SandboxResponse, load_emulator
from reconciler.sandbox.guard import body_length, check_control, check_host, ensure_token, token_path
from reconciler.sandbox.store.account import DemoAccount, Sandbox
from reconciler.secrets.redact import mask_key

LOOPBACK = "127.0.0.1"
DEMO_KEYS_FILE = "demo-keys.json"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator, running: RunningSandbox) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator
        self.running = running
        self.port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (a test's timeout, an injected reset) is normal here: no traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real gateways; every answer has Content-Length
    # A client that stops sending (a body shorter than announced, an idle keep-alive) frees its
    # thread after this long instead of holding it forever.
    timeout = 60
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without NODELAY, Nagle plus the client's delayed ACK
        # stalls every keep-alive answer by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _admit(self) -> int | SandboxResponse:
        """The body length to read, or the answer refusing the request before it is read."""
        headers = self.headers
        refused = check_host(headers.get("Host"), self.server.port)
        return refused or body_length(headers.get_all("Content-Length") or [], headers.get("Transfer-Encoding"))

    def _dispatch(self) -> None:
        running = self.server.running
        length = self._admit()
        if isinstance(length, SandboxResponse):
            # The body, if any, stays unread: the connection cannot carry another request after it.
            self.close_connection = True
            self._answer(length)
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away mid-body
            self.close_connection = True
            return
        request = SandboxRequest.build(self.command, self.path, dict(self.headers.items()), body)
        control = request.path.startswith("/_sandbox/") or request.path == "/_sandbox"
        try:
            if control:
                response = check_control(request.headers, request.method, running.token) or handle_control(
                    running.sandbox, running.endpoints(), request
                )
            else:
                response = self.server.emulator.handle(request)
        except Exception as error:  # a bug in an emulator must not kill the server thread silently
            print(f"sandbox: internal error: {type(error).__name__}: {error}", file=sys.stderr)
            response = SandboxResponse.json({"Code": "InternalError", "Message": "sandbox internal error"}, 500)
        if not control:
            running.call_after_request(self.server.emulator.name, request, response)
        self._answer(response)

    def _answer(self, response: SandboxResponse) -> None:
        if response.drop:
            # SO_LINGER 0 makes close() send RST: the client sees a reset, not a clean empty reply.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def log_message(self, format: str, *args: object) -> None:
        if self.server.running.verbose:
            super().log_message(format, *args)


# Called with (emulator name, request, response) after each provider API request (see RunningSandbox).
AfterRequest = Callable[[str, SandboxRequest, SandboxResponse], None]


@dataclass
class RunningSandbox:
    """Emulators serving on loopback. ``endpoint(name)`` is host:port as the SDKs want it; ``token``
    is what the control API asks for (``Authorization: Bearer <token>``).

    ``after_request``, when set, is called after each provider API request has been handled (its
    effect is in the store, a fault included) and before its answer is sent: the client is still
    waiting, so what the callback reads is the state that call left. Control API requests
    (``/_sandbox/``) are not reported. Calls come from the server's threads, one per connection:
    a callback that keeps figures must lock. An exception it raises is printed and the answer sent
    as if nothing happened (a check should record what it finds, not fail the client)."""

    sandbox: Sandbox
    token: str
    verbose: bool = False
    servers: dict[str, _Server] = field(default_factory=dict)
    emulators: dict[str, Emulator] = field(default_factory=dict)
    after_request: AfterRequest | None = None
    _threads: list[threading.Thread] = field(default_factory=list)

    def call_after_request(self, emulator: str, request: SandboxRequest, response: SandboxResponse) -> None:
        hook = self.after_request
        if hook is None:
            return
        try:
            hook(emulator, request, response)
        except Exception as error:
            print(f"sandbox: after_request callback failed: {type(error).__name__}: {error}", file=sys.stderr)

    def port(self, name: str) -> int:
        return int(self.servers[name].server_address[1])

    def endpoint(self, name: str) -> str:
        return f"{LOOPBACK}:{self.port(name)}"

    def url(self, name: str) -> str:
        return f"http://{self.endpoint(name)}"

    def endpoints(self) -> dict[str, str]:
        return {name: self.endpoint(name) for name in self.servers}

    def close(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.servers.clear()
        self._threads.clear()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(
    sandbox: Sandbox, ports: Mapping[str, int], *, seed_demo: bool = False, verbose: bool = False
) -> RunningSandbox:
    """Serve each emulator named in ``ports`` (port 0: a free one) in background threads.

    ``seed_demo`` creates each emulator's demo account (keys and signatures) if missing. The control
    token is the state directory's (``guard.ensure_token``), made on the first start."""
    running = RunningSandbox(sandbox=sandbox, token=ensure_token(sandbox.state_dir), verbose=verbose)
    try:
        for name, port in ports.items():
            emulator = load_emulator(name, sandbox)
            if seed_demo:
                sandbox.ensure_demo(name, emulator.demo)
            server = _Server((LOOPBACK, port), emulator, running)
            running.servers[name] = server
            running.emulators[name] = emulator
            # A short poll interval: shutdown() waits up to one interval, and tests start and stop often.
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{name}", daemon=True
            )
            thread.start()
            running._threads.append(thread)
        if seed_demo:
            write_demo_keys(sandbox.state_dir, {name: e.demo for name, e in running.emulators.items()})
    except BaseException:
        running.close()
        raise
    return running


def demo_keys_path(state_dir: Path) -> Path:
    return state_dir / DEMO_KEYS_FILE


def write_demo_keys(state_dir: Path, demos: Mapping[str, DemoAccount]) -> None:
    """The demo accounts' key pairs by provider, in a file only the user can read (0600, like the
    control token): ``serve`` shows key ids masked and secrets never, and names this file instead.
    Pairs of providers not served this time are kept (their accounts stay in the state directory);
    the file is written under a temporary name and moved into place, so no reader sees half of it."""
    path = demo_keys_path(state_dir)
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    pairs = kept if isinstance(kept, dict) else {}
    for name, demo in demos.items():
        pairs[name] = {
            "account": demo.name,
            "access_key_id": demo.access_key_id,
            "access_key_secret": demo.access_key_secret,
        }
    draft = state_dir / f".{DEMO_KEYS_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as file:
        file.write(json.dumps(pairs, indent=2, sort_keys=True) + "\n")
    os.replace(draft, path)


def describe(running: RunningSandbox) -> str:
    """Endpoints and demo accounts, one provider per block (printed by ``sandbox serve``). Key ids are
    masked as ``sandbox accounts`` shows them and secrets are not shown: the pairs are in the state
    directory's ``demo-keys.json`` (``write_demo_keys``), which the line names."""
    lines = []
    keys = demo_keys_path(running.sandbox.state_dir)
    for name, emulator in running.emulators.items():
        demo = emulator.demo
        lines.append(f"{name}: http://{running.endpoint(name)}")
        shown = mask_key(demo.access_key_id)
        lines.append(f"  account {demo.name}: access key id {shown} (key id and secret in {keys})")
        for sign, status in demo.signatures:
            lines.append(f"  signature {sign}: {status}")
        for key, value in demo.extra.items():
            lines.append(f"  {key}: {value}")
        if demo.note:
            lines.append(f"  note: {demo.note}")
    if running.servers:
        lines.append(f"control: GET http://{running.endpoint(next(iter(running.servers)))}/_sandbox/accounts")
        where = token_path(running.sandbox.state_dir)
        lines.append(f"  token {running.token} (Authorization: Bearer <token>; also in {where})")
    else:
        lines.append("control: no emulator running")
    return "\n".join(lines)


def dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
