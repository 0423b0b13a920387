"""Paths a channel reads or writes: inside the config directory unless the channel says otherwise.

A config repository arrives through pull requests. Without this rule a channel could point
``credentials.sops`` at any SOPS file the CI runner can read (``../../other-team/prod.enc.yaml``,
an absolute path, a symlink out of the tree) or ``publish.file`` at any file it can write. Paths
are compared after resolving symbolic links. ``spec.allowOutside: true`` allows it, loudly: each
such path is still a warning. Whatever the setting, ``publish.file`` must be a regular file (or
not exist yet): a directory, a device or ``/proc/self/mem`` is refused here, before anything runs.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from reconciler.config.lint.catalogue import Reporter
from reconciler.config.models import ChannelSpec


def _paths(spec: ChannelSpec) -> list[tuple[tuple[str, ...], str]]:
    """(field, path as written) of every path the channel names."""
    found: list[tuple[tuple[str, ...], str]] = []
    if spec.credentials is not None:
        found.append((("spec", "credentials", "sops"), spec.credentials.sops))
    if spec.test_send is not None:
        found.append((("spec", "testSend", "recipients", "sops"), spec.test_send.recipients.sops))
    if spec.publish is not None and spec.publish.file is not None:
        found.append((("spec", "publish", "file"), spec.publish.file))
    return found


OUTSIDE = "SMS407"
_KERNEL = ("/proc", "/sys", "/dev")


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def outside(config_root: str, path: Path) -> bool:
    """Whether ``path``, links resolved, lies outside the config directory."""
    return not _inside(os.path.realpath(config_root), os.path.realpath(path))


def check_paths(config: Any, out: Reporter) -> None:
    root = os.path.realpath(config.root)
    for located in config.channels:
        spec = located.resource.spec
        for field, relative in _paths(spec):
            path = located.resolve(relative)
            where = located.at(*field)
            if not _inside(root, os.path.realpath(path)):
                allowed = spec.allow_outside
                message = f"{relative} is outside the config directory" + (" (allowOutside: true)" if allowed else "")
                out.report(OUTSIDE, where, message, warn=allowed)
            if field[-1] == "file":
                _publish_file(path, relative, where, out)


def _publish_file(path: Path, relative: str, where: tuple[str, int, int], out: Reporter) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return  # written on the first apply
    except OSError as error:
        out.report("SMS408", where, f"{relative}: cannot be checked ({error.strerror or 'error'})")
        return
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        out.report("SMS408", where, f"{relative} is {kind}")
    elif any(_inside(system, os.path.realpath(path)) for system in _KERNEL):
        # /proc/self/mem and friends say they are regular files; writing them is anything but
        out.report("SMS408", where, f"{relative} is a kernel interface, not a file")
