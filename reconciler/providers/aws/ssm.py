"""An SSM Parameter Store publish target (``spec.publish.ssmPrefix``) of any channel: an AWS
service, so its client and its errors live with the AWS provider.

Parameters ``<prefix>/config`` (the runtime config the application reads), ``<prefix>/marks`` and
``<prefix>/lock``, each a ``String``. JSON is stored compact (sorted keys, no spaces) so more fits:
the Standard tier up to 4 KB, the Advanced tier up to 8 KB, and a clear error beyond.

SSM has no conditional write but "create only if absent" (``PutParameter`` without
``Overwrite``). So ``replace`` and a ``delete`` with a token read the version, compare, then
write: another writer acting in the few milliseconds between the two calls is not detected.
The lease only replaces its own unexpired lock, so that window matters only to a holder whose
lease expired while it was renewing. A token is the parameter's version and a digest of its
value, since versions start again at 1 after a delete.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.errors import SmsopsError
from reconciler.providers.aws.storage import Client, attempt, error_code
from reconciler.publish.targets.base import CONFIG, KEYS, Stored, StoreKey, digest

SSM_STANDARD_LIMIT = 4096  # bytes; the Advanced tier takes up to 8 KB
SSM_ADVANCED_LIMIT = 8192
_PERMISSIONS = "ssm:GetParameter, ssm:PutParameter and ssm:DeleteParameter"


def compact(text: str) -> str:
    """JSON without spaces and with sorted keys; any other text unchanged."""
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return text


class SsmStore:
    """One channel's documents under an SSM prefix (see the module docstring)."""

    def __init__(self, prefix: str, *, region: str, client: Any = None) -> None:
        self.prefix = prefix.rstrip("/")
        self.region = region
        self.where = f"ssm:{self.prefix} ({region})"
        self._client = Client("ssm", region=region, client=client)

    def name(self, key: StoreKey) -> str:
        if key not in KEYS:
            raise ValueError(f"unknown key {key!r}")
        return f"{self.prefix}/{key}"

    def location(self, key: StoreKey) -> str:
        return f"ssm:{self.name(key)} ({self.region})"

    def _call(self, key: StoreKey, operation: str, fn: Any, *, repeatable: bool, missing: Any = None) -> Any:
        """``fn(client, name)``; a missing parameter or an existing one (for a create) gives ``missing``."""
        name = self.name(key)
        return attempt(
            lambda: fn(self._client.get(), name),
            where=self.location(key),
            operation=operation,
            permissions=f"{_PERMISSIONS} on {self.prefix}/*",
            repeatable=repeatable,
            answer=lambda error: error_code(error) in ("ParameterNotFound", "ParameterAlreadyExists"),
            then=missing,
        )

    def read(self, key: StoreKey) -> Stored | None:
        def get(client: Any, name: str) -> Stored:
            parameter = client.get_parameter(Name=name)["Parameter"]
            value = str(parameter["Value"])
            return Stored(value, f"{parameter['Version']}/{digest(value)}")

        found: Stored | None = self._call(key, "ssm:GetParameter", get, repeatable=True)
        return found

    def _put(self, key: StoreKey, text: str, *, overwrite: bool) -> bool:
        value = compact(text)
        size = len(value.encode())
        if size > SSM_ADVANCED_LIMIT:
            what = "the channel's config" if key == CONFIG else f"the {key} document"
            raise SmsopsError(
                f"{self.name(key)}: {what} is {size} bytes, more than SSM's {SSM_ADVANCED_LIMIT}-byte limit",
                hint="publish this channel to S3 or a file instead (spec.publish.s3 or spec.publish.file)",
            )
        tier = "Standard" if size <= SSM_STANDARD_LIMIT else "Advanced"

        def put(client: Any, name: str) -> bool:
            client.put_parameter(Name=name, Value=value, Type="String", Overwrite=overwrite, Tier=tier)
            return True

        return bool(self._call(key, "ssm:PutParameter", put, repeatable=overwrite, missing=False))

    def write(self, key: StoreKey, text: str) -> bool:
        current = self.read(key)
        if current is not None and current.text == compact(text):
            return False
        return self._put(key, text, overwrite=True)

    def create(self, key: StoreKey, text: str) -> bool:
        return self._put(key, text, overwrite=False)

    def replace(self, key: StoreKey, text: str, token: str) -> bool:
        current = self.read(key)
        if current is None or current.token != token:
            return False
        return self._put(key, text, overwrite=True)

    def delete(self, key: StoreKey, token: str | None = None) -> bool:
        if token is not None:
            current = self.read(key)
            if current is None or current.token != token:
                return False

        def remove(client: Any, name: str) -> bool:
            client.delete_parameter(Name=name)
            return True

        return bool(self._call(key, "ssm:DeleteParameter", remove, repeatable=token is None, missing=False))

    def check(self) -> None:
        """Reach SSM with the credentials and read the config (absent is fine). SSM cannot test a
        write without making one: the lease, taken before any change, is the first write."""
        self.read(CONFIG)
