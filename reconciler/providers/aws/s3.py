"""An S3-compatible publish target (``spec.publish.s3``): AWS S3, or with ``endpoint`` another
store that speaks the S3 API (Alibaba OSS, Tencent COS, MinIO), through boto3.

Objects ``<prefix>/<channel>.json`` (the runtime config the application reads),
``<prefix>/<channel>.marks.json`` and ``<prefix>/<channel>.lock``. A put replaces an object
atomically. The conditional operations are the S3 conditional-write headers: ``create`` is a put
with ``If-None-Match: *``, ``replace`` a put with ``If-Match: <ETag>``, a ``delete`` with a token
a delete with ``If-Match``; 412 (and 409, two conditional writes at once) means the condition did
not hold. A store that ignores these headers would make the lease unsafe: check that yours
supports conditional writes before two applies may run at once.

Reading an absent object needs ``s3:ListBucket`` on the bucket to be answered 404; without it S3
answers 403, which smsops must report as access denied.
"""

from __future__ import annotations

from typing import Any

from reconciler.providers.aws.storage import Client, attempt, error_code, http_status
from reconciler.publish.targets.base import CONFIG, LOCK, MARKS, Stored, StoreKey

_SUFFIX = {CONFIG: ".json", MARKS: ".marks.json", LOCK: ".lock"}
_PERMISSIONS = "s3:GetObject, s3:PutObject and s3:DeleteObject on the objects and s3:ListBucket on the bucket"


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
        return self._put(key, text, IfNoneMatch="*")

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
