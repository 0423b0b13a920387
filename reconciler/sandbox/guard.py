"""What the sandbox server checks before it reads a request, so that it is safe to leave running
on a developer's machine, where any web page the browser shows can send requests to loopback.

- ``Host`` must be a loopback name or address with the server's own port on every route: a page
  that rebinds its DNS name to 127.0.0.1 sends its own name, and is refused (421).
- A body is announced by one ``Content-Length`` of digits and is at most ``MAX_BODY`` bytes;
  anything else (``abc``, ``-1``, chunked, too big) is answered before the body is read.
- The control API (``/_sandbox/``) needs ``Authorization: Bearer <token>``, and a body it is sent
  must be ``application/json``: a page can send neither without a CORS preflight, which this server
  never grants. The token is made once per state directory (``control-token``, mode 0600) and
  shared by every server on that directory, so the CLI and tests read it where the secrets are.
The providers' own routes keep their own authentication (request signatures) untouched.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from reconciler.sandbox.core import SandboxResponse

MAX_BODY = 1024 * 1024  # far above any emulated request; a bigger one is refused unread
TOKEN_FILE = "control-token"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_DIGITS = re.compile(r"^[0-9]{1,18}$")
_HOST = re.compile(r"^(?P<name>\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(?P<port>[0-9]{1,5}))?$")


def refusal(status: int, message: str, headers: Mapping[str, str] | None = None) -> SandboxResponse:
    """A JSON ``{"error": message}`` answer, the shape of every control API error."""
    return SandboxResponse.json({"error": message}, status, dict(headers or {}), content_type="application/json")


def _loopback(name: str) -> bool:
    if name.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str | None, port: int) -> SandboxResponse | None:
    """None if ``host`` (the Host header) names loopback at ``port``; else the 421 answer."""
    match = _HOST.match((host or "").strip())
    given = int(match["port"]) if match and match["port"] else 80
    if match is None or not _loopback(match["name"]) or given != port:
        return refusal(421, f"this sandbox answers only Host: 127.0.0.1:{port} or localhost:{port}")
    return None


def body_length(content_length: list[str], transfer_encoding: str | None) -> int | SandboxResponse:
    """The body size announced by the ``Content-Length`` header(s), or the answer refusing it."""
    if transfer_encoding:
        return refusal(411, "send the body with a Content-Length, not a Transfer-Encoding")
    values = {value.strip() for value in content_length}
    if not values:
        return 0
    if len(values) > 1 or not _DIGITS.match(next(iter(values))):
        return refusal(400, "Content-Length must be one non-negative whole number")
    length = int(next(iter(values)))
    if length > MAX_BODY:
        return refusal(413, f"the body is {length} bytes; the sandbox takes at most {MAX_BODY}")
    return length


def check_control(headers: Mapping[str, str], method: str, token: str) -> SandboxResponse | None:
    """None if a control request (lower-case ``headers``) carries ``token`` and, unless it is a GET,
    a JSON content type; else the 401, 403 or 415 answer."""
    scheme, _, given = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return refusal(
            401,
            "the control API needs Authorization: Bearer <token> (`smsops sandbox serve` prints it)",
            {"WWW-Authenticate": 'Bearer realm="smsops-sandbox"'},
        )
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return refusal(403, "wrong control token")
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if method not in ("GET", "HEAD") and media_type != "application/json":
        return refusal(415, "control requests send Content-Type: application/json")
    return None


def token_path(state_dir: Path) -> Path:
    return state_dir / TOKEN_FILE


def read_token(state_dir: Path) -> str | None:
    """The control token of the servers on ``state_dir``; None if none was made or it is unreadable."""
    try:
        token = token_path(state_dir).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token if _TOKEN.match(token) else None


def ensure_token(state_dir: Path) -> str:
    """The control token of ``state_dir``, made (mode 0600) if there is none yet.

    Made under a temporary name and linked into place: two servers starting together on one
    directory agree on one token, and no reader ever sees a half-written file."""
    path = token_path(state_dir)
    for _ in range(3):
        existing = read_token(state_dir)
        if existing is not None:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)  # loosened by hand, or copied: readable by others no more
            return existing
        token = secrets.token_urlsafe(32)
        draft = state_dir / f".{TOKEN_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(token + "\n")
        try:
            if path.exists():
                path.unlink()  # unreadable or malformed: replace it
            os.link(draft, path)
        except FileExistsError:
            continue  # another server made one first: use that
        finally:
            draft.unlink()
        return token
    raise RuntimeError(f"cannot settle on a control token in {state_dir}")
