"""Where a channel's published document goes: a file (atomic replace) and, with
``publish.ssmPrefix``, an SSM parameter (``reconciler.providers.aws.ssm``). Rollout marks of
providers without tags live beside it (``reconciler.reconcile.rollout``), so this module imports
nothing from ``reconcile``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reconciler.config.load import LoadedConfig, Located
from reconciler.config.models import Channel
from reconciler.errors import ConfigError
from reconciler.providers.traits import traits


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


def write_file(path: Path, text: str) -> bool:
    """Atomic replace (a reader never sees half a file); False when the file already holds ``text``."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def ssm_region(channel: Channel, environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """A channel whose region is an AWS region (a trait) publishes there; other providers' regions
    (cn-hangzhou, ap-guangzhou) are not AWS regions, so those use the AWS environment's region."""
    if traits(channel.spec.provider).aws_region and (own := channel.spec.effective_region()):
        return own
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError(
            f"channel {channel.name}: publish.ssmPrefix is set but no AWS region is known for a "
            f"{channel.spec.provider.value} channel",
            hint="set AWS_REGION (or AWS_DEFAULT_REGION) in the environment that runs export",
        )
    return region
