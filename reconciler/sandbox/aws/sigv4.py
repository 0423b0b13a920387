"""AWS Signature Version 4 verification for the awsJson emulators.

We do not reimplement SigV4: botocore's own ``SigV4Auth`` recomputes the signature over exactly the
headers the client says it signed, with the client's ``X-Amz-Date``. Failures map to what AWS JSON
services answer (HTTP 400): an unknown access key is ``UnrecognizedClientException``, a wrong
secret or a stale date is ``InvalidSignatureException``.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_SKEW = timedelta(minutes=15)  # AWS refuses signatures dated more than 15 minutes off
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)"
    r"/(?P<service>[a-z0-9-]+)"
    r"/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;_.-]+), ?Signature=(?P<sig>[0-9a-f]{64})$"
)


class SigV4Error(Exception):
    """A request AWS would refuse before dispatching the operation."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Signer:
    """Who signed a verified request."""

    access_key_id: str
    region: str


def verify(
    *,
    method: str,
    host: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_for: Callable[[str], str | None],
    service: str,
    now: datetime,
) -> Signer:
    """Return the signer of a request, or raise ``SigV4Error``.

    ``headers`` must have lower-case keys; ``secret_for`` maps an access key id to its secret.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    match = _AUTH.match(headers.get("authorization", ""))
    if match is None:
        raise SigV4Error(
            "MissingAuthenticationTokenException", "Missing Authentication Token or malformed Authorization."
        )
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, _DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SigV4Error("IncompleteSignatureException", "X-Amz-Date is missing or malformed.") from None
    if abs(now - signed_at) > MAX_SKEW:
        raise SigV4Error(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - MAX_SKEW).strftime(_DATE_FORMAT)} ({now.strftime(_DATE_FORMAT)} - 15 min.)",
        )
    secret = secret_for(match["key"])
    if secret is None:
        raise SigV4Error("UnrecognizedClientException", "The security token included in the request is invalid.")

    signed = match["signed"].split(";")
    url = f"http://{host}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, headers={h: headers.get(h, "") for h in signed}, data=body)
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(match["key"], secret), service, match["region"])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if match["service"] != service or match["date"] != amz_date[:8] or not hmac.compare_digest(expected, match["sig"]):
        raise SigV4Error(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your "
            "AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
    return Signer(access_key_id=match["key"], region=match["region"])
