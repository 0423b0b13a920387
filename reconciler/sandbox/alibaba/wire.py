"""Alibaba Cloud POP gateway behaviour: request signing (V3 ACS3-HMAC-SHA256, legacy V2 HMAC-SHA1),
gateway error bodies, and the small value formats dysmsapi uses.

V3 (providers.md §1.1): canonical = method, path, canonical query string, one ``name:value`` line
per signed header, the signed header list, and the payload hash; string to sign =
``ACS3-HMAC-SHA256\\n`` + hex(sha256(canonical)); signature = hex HMAC-SHA256(secret, sts). The
canonical query re-encodes the *decoded* wire values with ``quote(v, safe='~')``: the SDK puts
``+`` for a space on the wire but signs ``%20``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote, quote_plus

from reconciler.sandbox.core import SandboxRequest, SandboxResponse

API_VERSION = "2017-05-25"
HOST_ID = "dysmsapi.aliyuncs.com"
BEIJING = timezone(timedelta(hours=8))
MAX_CLOCK_SKEW_S = 15 * 60

_V3 = re.compile(r"^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$")
# Headers a V3 request must sign; anything else present is signed too when the SDK sends it.
_REQUIRED_SIGNED = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)


class GatewayError(Exception):
    """An error the POP gateway answers itself, with a non-200 status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def signature_mismatch(to_sign: str) -> GatewayError:
    """The gateway's answer to a wrong signature: its own string to sign after a colon, which
    clients compare with theirs (the older SDK splits the message on ':' to tell a wrong secret)."""
    return GatewayError(
        400,
        "SignatureDoesNotMatch",
        f"Specified signature does not match our calculation. server string to sign is:{to_sign}",
    )


def request_id() -> str:
    return str(uuid.uuid4()).upper()


def gateway_response(error: GatewayError, rid: str) -> SandboxResponse:
    body = {
        "RequestId": rid,
        "HostId": HOST_ID,
        "Code": error.code,
        "Message": error.message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={error.code}&product=Dysmsapi&requestId={rid}",
    }
    return SandboxResponse.json(body, error.status, error.headers)


def throttled(rid: str, retry_after_ms: int) -> SandboxResponse:
    return gateway_response(
        GatewayError(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
            {"x-acs-retry-after": str(retry_after_ms)},
        ),
        rid,
    )


def server_error(rid: str, status: int) -> SandboxResponse:
    if status == 503:
        error = GatewayError(
            503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
        )
    else:
        error = GatewayError(
            status,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    return gateway_response(error, rid)


def beijing(ts: float, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Alibaba reports dates as Beijing local time."""
    return datetime.fromtimestamp(ts, BEIJING).strftime(fmt)


def canonical_query(request: SandboxRequest) -> str:
    pairs = sorted(request.query, key=lambda kv: kv[0])
    return "&".join(f"{key}={quote(value, safe='~', encoding='utf-8')}" for key, value in pairs)


class Authenticator:
    """Checks a request's signature against the account's secret; remembers nonces for replay checks."""

    def __init__(self, lookup: Callable[[str], str | None], *, wall_clock: Callable[[], float] = time.time) -> None:
        self._lookup = lookup  # access key id -> secret, None if unknown
        self._wall_clock = wall_clock  # signatures are checked against real time, not the sandbox clock
        self._nonces: dict[str, float] = {}

    def verify(self, request: SandboxRequest) -> tuple[str, str, dict[str, str]]:
        """(access key id, action, params) of a correctly signed request, else ``GatewayError``."""
        authorization = request.headers.get("authorization", "")
        if authorization:
            key_id, action = self._verify_v3(request, authorization)
            return key_id, action, request.params()
        if "Signature" in request.params():  # V2: in the query, or in a POST form body
            return self._verify_v2(request)
        raise GatewayError(
            400,
            "MissingParameter",
            "The input parameter Authorization that is mandatory for processing this request is not supplied.",
        )

    def _secret(self, key_id: str) -> str:
        secret = self._lookup(key_id)
        if secret is None:
            raise GatewayError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        return secret

    def _check_time_and_nonce(self, stamp: str, nonce: str) -> None:
        try:
            when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise GatewayError(
                400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
            ) from None
        now = self._wall_clock()
        if abs(now - when) > MAX_CLOCK_SKEW_S:
            raise GatewayError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        # Insertion order is time order: expired nonces are the oldest, popped from the front.
        while self._nonces and now - next(iter(self._nonces.values())) > MAX_CLOCK_SKEW_S:
            del self._nonces[next(iter(self._nonces))]
        if nonce in self._nonces:
            raise GatewayError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces[nonce] = now

    def _verify_v3(self, request: SandboxRequest, authorization: str) -> tuple[str, str]:
        match = _V3.match(authorization.strip())
        if match is None:
            raise GatewayError(
                400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )
        key_id, signed_list, signature = match.groups()
        signed = signed_list.split(";")
        if sorted(signed) != signed or any(h not in signed or h not in request.headers for h in _REQUIRED_SIGNED):
            raise GatewayError(
                400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )
        secret = self._secret(key_id)
        payload = hashlib.sha256(request.body).hexdigest()
        if request.headers["x-acs-content-sha256"] != payload:
            raise GatewayError(400, "SignatureDoesNotMatch", "Specified content sha256 does not match the body.")
        headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
        canonical = f"{request.method}\n{request.path}\n{canonical_query(request)}\n{headers}\n{signed_list}\n{payload}"
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        expected = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise signature_mismatch(to_sign)
        if request.headers["x-acs-version"] != API_VERSION:
            raise GatewayError(400, "InvalidVersion", "Specified parameter Version is not valid.")
        self._check_time_and_nonce(request.headers["x-acs-date"], request.headers["x-acs-signature-nonce"])
        return key_id, request.headers["x-acs-action"]

    def _verify_v2(self, request: SandboxRequest) -> tuple[str, str, dict[str, str]]:
        params = request.params()
        for name in ("AccessKeyId", "SignatureNonce", "Timestamp", "Action", "Version"):
            if not params.get(name):
                raise GatewayError(
                    400,
                    "MissingParameter",
                    f"The input parameter {name} that is mandatory for processing this request is not supplied.",
                )
        if params.get("SignatureMethod") != "HMAC-SHA1":
            raise GatewayError(
                400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )
        secret = self._secret(params["AccessKeyId"])
        signed = {k: v for k, v in params.items() if k != "Signature"}
        canonical = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(signed.items()))
        to_sign = f"{request.method}&%2F&{quote_plus(canonical, safe='~')}"
        digest = hmac.new((secret + "&").encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), params["Signature"]):
            raise signature_mismatch(to_sign)
        if params["Version"] != API_VERSION:
            raise GatewayError(400, "InvalidVersion", "Specified parameter Version is not valid.")
        self._check_time_and_nonce(params["Timestamp"], params["SignatureNonce"])
        return params["AccessKeyId"], params["Action"], {k: v for k, v in signed.items() if k not in _V2_COMMON}


_V2_COMMON = frozenset(
    {"AccessKeyId", "SignatureNonce", "SignatureMethod", "SignatureVersion", "Timestamp", "Action", "Version", "Format"}
)
