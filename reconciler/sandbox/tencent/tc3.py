"""TC3-HMAC-SHA256 request verification, as Tencent Cloud API 3.0 does it server-side.

The SDK signs ``content-type;host`` and the body hash; we recompute the same signature from what
arrived on the wire, so a wrong SecretKey is rejected exactly like the real service rejects it.
Checks run in the order the real service reports them: malformed header, clock skew, unknown
SecretId, then the signature itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

ALGORITHM = "TC3-HMAC-SHA256"
MAX_SKEW_SECONDS = 300  # Tencent: the timestamp may differ from server time by at most 5 minutes

_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z0-9]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;_-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


class Tc3Error(Exception):
    """A request the real service would refuse before looking at the action."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, service: str) -> bytes:
    """The HMAC chain ``"TC3"+secret`` → date → service → ``tc3_request``."""
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    k_service = _hmac(k_date, service)
    return _hmac(k_service, "tc3_request")


def canonical_request(
    method: str, path: str, query: str, headers: Mapping[str, str], signed: list[str], body: bytes
) -> str:
    # Header names and values are lower-cased and trimmed, in the order SignedHeaders lists them.
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed)
    payload_hash = (
        hashlib.sha256(b"UNSIGNED-PAYLOAD").hexdigest()
        if headers.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD"
        else hashlib.sha256(body).hexdigest()
    )
    return "\n".join([method.upper(), path or "/", query, canonical_headers, ";".join(signed), payload_hash])


def string_to_sign(timestamp: str, date: str, service: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{digest}"


def sign(secret_key: str, timestamp: str, date: str, service: str, canonical: str) -> str:
    key = signing_key(secret_key, date, service)
    return hmac.new(key, string_to_sign(timestamp, date, service, canonical).encode(), hashlib.sha256).hexdigest()


def verify(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_for: Callable[[str], str | None],
    now: float,
    service: str = "sms",
) -> str:
    """Return the SecretId that signed the request, or raise ``Tc3Error``.

    ``headers`` must have lower-case keys. ``secret_for`` maps a SecretId to its SecretKey (None if
    the account does not know it); ``now`` is the server clock in unix seconds.
    """
    match = _AUTH.match(headers.get("authorization", ""))
    if match is None:
        raise Tc3Error("AuthFailure.InvalidAuthorization", "Authorization header is missing or not TC3-HMAC-SHA256.")
    signed = match["signed"].split(";")
    if "content-type" not in signed or "host" not in signed:
        raise Tc3Error("AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type and host.")
    raw_ts = headers.get("x-tc-timestamp", "")
    if not raw_ts.isdigit():
        raise Tc3Error("MissingParameter", "The request is missing the required header X-TC-Timestamp.")
    timestamp = int(raw_ts)
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        raise Tc3Error(
            "AuthFailure.SignatureExpire",
            f"Signature expired. Timestamp {timestamp} differs from server time {int(now)} by more "
            f"than {MAX_SKEW_SECONDS} seconds.",
        )
    secret_key = secret_for(match["id"])
    if secret_key is None:
        raise Tc3Error("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure it exists.")
    # The credential date must be the UTC date of the timestamp; the signature covers both.
    expected_date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = canonical_request(method, path, query, headers, signed, body)
    expected = sign(secret_key, raw_ts, expected_date, service, canonical)
    if match["service"] != service or match["date"] != expected_date or not hmac.compare_digest(expected, match["sig"]):
        raise Tc3Error(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        )
    return match["id"]
