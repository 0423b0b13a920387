"""Where a channel's documents go: its durable publish target (``reconciler.publish.store`` picks
it: a file, an SSM Parameter Store prefix or an S3-compatible bucket) and the paths and regions
the targets are named by. Rollout marks of providers without tags live in the same target
(``reconciler.reconcile.rollout``), so this package imports nothing from ``reconcile``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import ConfigError
from reconciler.providers.traits import traits
from reconciler.publish.targets.file import write_file as write_file

Environ = Mapping[str, str]


@dataclass(frozen=True)
class Published:
    """Where one channel's document went. ``changed`` is False when the target already held it."""

    channel: str
    target: str
    changed: bool


def file_target(config: LoadedConfig, located: Located[Channel]) -> Path:
    """The configured ``publish.file`` (relative to the channel's YAML file), else
    ``<config dir>/.smsops/published/<channel>.json``."""
    publish = located.resource.spec.publish
    if publish is not None and publish.file is not None:
        return located.resolve(publish.file)
    return Path(config.root) / ".smsops" / "published" / f"{located.resource.name}.json"


def aws_region(channel: Channel, environ: Environ, *, setting: str) -> str:
    """A channel whose region is an AWS region (a trait) publishes there; other providers' regions
    (cn-hangzhou, ap-guangzhou) are not AWS regions, so those use the AWS environment's region."""
    if traits(channel.spec.provider).aws_region and (own := channel.spec.effective_region()):
        return own
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError(
            f"channel {channel.name}: {setting} is set but no AWS region is known "
            f"(the channel's provider is {channel.spec.provider.value})",
            hint="set AWS_REGION (or AWS_DEFAULT_REGION) in the environment that runs smsops",
        )
    return region


def ssm_region(channel: Channel, environ: Environ = os.environ) -> str:
    """The region of a channel's ``publish.ssmPrefix`` parameters (see ``aws_region``)."""
    return aws_region(channel, environ, setting="publish.ssmPrefix")
