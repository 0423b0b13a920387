"""A channel's durable target: one place holding its published runtime config, its rollout marks
and its apply lease, by key (``KEYS``). ``spec.publish`` says which place:

- ``file`` (or nothing: ``<config dir>/.smsops/published/<channel>.json``): files side by side,
  durable only if the pipeline keeps them (``reconciler.publish.targets.file``);
- ``ssmPrefix``: SSM parameters ``<prefix>/config|marks|lock`` (``reconciler.providers.aws.ssm``);
- ``s3``: objects ``<prefix>/<channel>.json|.marks.json|.lock`` in a bucket of AWS S3 or of an
  S3-compatible store (``reconciler.providers.aws.s3``).

The durable target is the source of truth. ``publish_channel`` also leaves a runner-local copy of
the config of an SSM or S3 channel at the default file path, for people and tools that read a file;
nothing in smsops reads that copy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NoReturn

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import ConfigError, SmsopsError
from reconciler.providers.aws.s3 import S3Store
from reconciler.providers.aws.ssm import SsmStore
from reconciler.publish.targets import aws_region, file_target, ssm_region
from reconciler.publish.targets.base import CONFIG, KEYS, LOCK, MARKS, Store, Stored, StoreKey, TargetUnreachable
from reconciler.publish.targets.file import FileStore

__all__ = [
    "CONFIG",
    "KEYS",
    "LOCK",
    "MARKS",
    "Store",
    "StoreKey",
    "Stored",
    "TargetUnreachable",
    "channel_store",
    "local_copy",
]


def channel_store(
    config: LoadedConfig,
    located: Located[Channel],
    environ: Mapping[str, str] = os.environ,
    *,
    clients: Mapping[str, Any] | None = None,
) -> Store:
    """The channel's target. ``clients`` may hold boto3 clients by service name (``ssm``, ``s3``)
    to use instead of ones built from the AWS credential chain. Nothing is contacted here, and
    nothing is raised: a target its settings cannot make (no AWS region known) is ``Unbuildable``,
    which blocks this channel on first use as an unreachable target does."""
    clients = clients or {}
    channel = located.resource
    publish = channel.spec.publish
    if publish is not None and publish.ssm_prefix:
        try:
            region = ssm_region(channel, environ)
        except ConfigError as error:
            return Unbuildable(f"ssm:{publish.ssm_prefix.rstrip('/')}", error)
        return SsmStore(publish.ssm_prefix, region=region, client=clients.get("ssm"))
    if publish is not None and publish.s3 is not None:
        s3 = publish.s3
        try:
            region = s3.region or _s3_region(channel, environ, endpoint=s3.endpoint)
        except ConfigError as error:
            return Unbuildable(f"s3://{s3.bucket}/{s3.prefix.strip('/')}".rstrip("/"), error)
        addressing = None if s3.addressing_style == "auto" else s3.addressing_style
        return S3Store(
            s3.bucket,
            s3.prefix,
            channel.name,
            region=region,
            endpoint=s3.endpoint,
            addressing=addressing,
            client=clients.get("s3"),
        )
    return FileStore(file_target(config, located))


class Unbuildable:
    """A target that could not be made: every use raises ``TargetUnreachable`` with why and what
    to do. Failing on use rather than here keeps channels independent: the commands already block
    a channel whose target cannot be reached, and go on with the others."""

    def __init__(self, where: str, why: SmsopsError) -> None:
        self.where = where
        self._why = why

    def location(self, key: StoreKey) -> str:
        return f"{self.where} ({key})"

    def _fail(self) -> NoReturn:
        # What to do goes in the message: plan, status and export show an unreachable target's
        # message under their own hint about reaching it, which is not this one.
        what_to_do = f"; {self._why.hint}" if self._why.hint else ""
        raise TargetUnreachable(f"{self._why.message}{what_to_do}")

    def read(self, key: StoreKey) -> Stored | None:
        self._fail()

    def write(self, key: StoreKey, text: str) -> bool:
        self._fail()

    def create(self, key: StoreKey, text: str) -> bool:
        self._fail()

    def replace(self, key: StoreKey, text: str, token: str) -> bool:
        self._fail()

    def delete(self, key: StoreKey, token: str | None = None) -> bool:
        self._fail()

    def check(self) -> None:
        self._fail()


def _s3_region(channel: Channel, environ: Mapping[str, str], *, endpoint: str | None) -> str:
    """As for SSM; a store behind ``endpoint`` with no region known gets us-east-1, which
    S3-compatible stores that ignore the region accept (OSS and COS want theirs: set s3.region)."""
    try:
        return aws_region(channel, environ, setting="publish.s3")
    except ConfigError:
        if endpoint:
            return "us-east-1"
        raise


def local_copy(config: LoadedConfig, located: Located[Channel]) -> Store | None:
    """Where an SSM or S3 channel leaves a runner-local copy of its config (the default file path);
    None for a file channel, whose target is that file."""
    publish = located.resource.spec.publish
    if publish is None or publish.file is not None:
        return None
    return FileStore(file_target(config, located))
