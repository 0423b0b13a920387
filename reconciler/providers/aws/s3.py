"""An S3-compatible publish target (``spec.publish.s3``): AWS S3, or with ``endpoint`` another
store that speaks the S3 API (Alibaba OSS, Tencent COS, MinIO), through boto3.

Objects ``<prefix>/<channel>.json`` (the runtime config the application reads),
``<prefix>/<channel>.marks.json`` and ``<prefix>/<channel>.lock``. A put replaces an object
atomically. The conditional operations are the S3 conditional-write headers: ``create`` is a put
with ``If-None-Match: *``, ``replace`` a put with ``If-Match: <ETag>``, a ``delete`` with a token
a delete with ``If-Match``; 412 (and 409, two conditional writes at once) means the condition did
not hold. Alibaba OSS and Tencent COS document a header of their own for "do not overwrite"
(``x-oss-forbid-overwrite``, ``x-cos-forbid-overwrite``): to an endpoint of theirs it goes beside
``If-None-Match``. A store that honours neither would make the lease unsafe, so every ``create``
is checked at once: the same conditional put again must be refused. If it is not, the create
fails with ``ConditionsIgnored`` (the lease is not taken, the channel is blocked, nothing changes at
the provider) rather than let two applies run at once.

Reading an absent object needs ``s3:ListBucket`` on the bucket to be answered 404; without it S3
answers 403, which smsops must report as access denied.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from reconciler.providers.aws.storage import Client, attempt, error_code, http_status
from reconciler.publish.targets.base import CONFIG, LOCK, MARKS, Stored, StoreKey, TargetUnreachable

_SUFFIX = {CONFIG: ".json", MARKS: ".marks.json", LOCK: ".lock"}
_PERMISSIONS = "s3:GetObject, s3:PutObject and s3:DeleteObject on the objects and s3:ListBucket on the bucket"


# The stores whose own "do not overwrite" header is sent with If-None-Match, by endpoint domain.
_FORBID_OVERWRITE = {"aliyuncs.com": "x-oss-forbid-overwrite", "myqcloud.com": "x-cos-forbid-overwrite"}


class ConditionsIgnored(TargetUnreachable):
    """The store wrote over an object a conditional create should have left alone."""


def forbid_overwrite_header(endpoint: str | None) -> str | None:
    """The store's own "do not overwrite" header for ``endpoint``, if it documents one."""
    host = (urlsplit(endpoint).hostname or "") if endpoint else ""
    for domain, header in _FORBID_OVERWRITE.items():
        if host == domain or host.endswith("." + domain):
            return header
    return None


def _with_forbid_overwrite(header: str) -> Any:
    def add(params: dict[str, Any], **_: Any) -> None:
        headers = params.get("headers", {})
        if "If-None-Match" in headers:
            headers[header] = "true"

    return add


def _remove(client: Any, bucket: str, name: str) -> bool:
    client.delete_object(Bucket=bucket, Key=name)
    return True


def _absent(error: Exception) -> bool:
    return error_code(error) in ("NoSuchKey", "404") and http_status(error) == 404


def _refused(error: Exception) -> bool:
    """A condition that did not hold: changed (412), concurrent (409) or gone (404)."""
    return http_status(error) in (409, 412) or _absent(error)


class S3Store:
    """One channel's documents in a bucket (see the module docstring)."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        channel: str,
        *,
        region: str,
        endpoint: str | None = None,
        addressing: str | None = None,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.channel = channel
        self.endpoint = endpoint
        at = f" at {endpoint}" if endpoint else ""
        self.where = f"s3://{bucket}/{self.prefix}{at}" if self.prefix else f"s3://{bucket}{at}"
        self._client = Client("s3", region=region, endpoint=endpoint, addressing=addressing, client=client)

    def object(self, key: StoreKey) -> str:
        name = f"{self.channel}{_SUFFIX[key]}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def location(self, key: StoreKey) -> str:
        at = f" at {self.endpoint}" if self.endpoint else ""
        return f"s3://{self.bucket}/{self.object(key)}{at}"

    def _call(
        self,
        key: StoreKey,
        operation: str,
        fn: Any,
        *,
        repeatable: bool,
        answer: Any = _absent,
        then: Any = None,
    ) -> Any:
        """``fn(client, bucket, object)``; a failure ``answer`` accepts gives ``then``."""
        name = self.object(key)
        return attempt(
            lambda: fn(self._client.get(), self.bucket, name),
            where=self.location(key),
            operation=operation,
            permissions=_PERMISSIONS,
            repeatable=repeatable,
            answer=answer,
            then=then,
        )

    def read(self, key: StoreKey) -> Stored | None:
        def get(client: Any, bucket: str, name: str) -> Stored:
            answer = client.get_object(Bucket=bucket, Key=name)
            return Stored(answer["Body"].read().decode("utf-8"), str(answer["ETag"]))

        found: Stored | None = self._call(key, "s3:GetObject", get, repeatable=True)
        return found

    def _put(self, key: StoreKey, text: str, **condition: str) -> bool:
        def put(client: Any, bucket: str, name: str) -> bool:
            header = forbid_overwrite_header(self.endpoint)
            if header is not None:  # once per client (unique_id): its endpoint is this store's
                client.meta.events.register(
                    "before-call.s3.PutObject", _with_forbid_overwrite(header), unique_id="smsops-forbid-overwrite"
                )
            client.put_object(
                Bucket=bucket, Key=name, Body=text.encode("utf-8"), ContentType="application/json", **condition
            )
            return True

        # an unconditional put may be repeated; a conditional one could fail on its own earlier success
        repeatable = not condition
        return bool(self._call(key, "s3:PutObject", put, repeatable=repeatable, answer=_refused, then=False))

    def write(self, key: StoreKey, text: str) -> bool:
        current = self.read(key)
        if current is not None and current.text == text:
            return False
        return self._put(key, text)

    def create(self, key: StoreKey, text: str) -> bool:
        if not self._put(key, text, IfNoneMatch="*"):
            return False
        # The same put again must be refused now that the object exists (see the module docstring).
        if self._put(key, text, IfNoneMatch="*"):
            self._call(key, "s3:DeleteObject", _remove, repeatable=True)  # leave no lock behind
            raise ConditionsIgnored(
                f"the store at {self.location(key)} ignores conditional writes (If-None-Match): "
                "two applies could both take the lease",
                hint="publish to a store that supports S3 conditional writes (AWS S3, MinIO), to "
                "spec.publish.ssmPrefix, or to a file the pipeline keeps",
            )
        return True

    def replace(self, key: StoreKey, text: str, token: str) -> bool:
        return self._put(key, text, IfMatch=token)

    def delete(self, key: StoreKey, token: str | None = None) -> bool:
        condition = {"IfMatch": token} if token is not None else {}
        if token is None and self.read(key) is None:
            return False  # S3 deletes an absent object without complaint: say it was absent

        def remove(client: Any, bucket: str, name: str) -> bool:
            client.delete_object(Bucket=bucket, Key=name, **condition)
            return True

        return bool(self._call(key, "s3:DeleteObject", remove, repeatable=not condition, answer=_refused, then=False))

    def check(self) -> None:
        """Reach the bucket with the credentials and read the config (absent is fine). A write is
        not tried here: the lease, taken before any change, is the first write."""
        self.read(CONFIG)
