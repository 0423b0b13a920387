"""Which files under the config dir are config, and reading them without trusting what they are.

A config repository arrives through pull requests, so a ``*.yaml`` may be a FIFO (reading it would
block forever), a link to ``/dev/zero`` (reading it would never end), a link loop, or simply huge.
Invariants: only regular files are opened, and never more than ``MAX_FILE_BYTES + 1`` bytes are
read; a FIFO is never opened at all (``stat`` first, and ``O_NONBLOCK`` in case it is swapped in
between); a directory link is never followed (a loop cannot hang the walk, and no file of another
tree joins the config silently: each one is a diagnostic instead). Nothing here raises for bad input.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import Diagnostic, Severity

# A real config file is a few kB; 5,000 templates in one file are ~2.5 MB.
MAX_FILE_BYTES = 8 * 1024 * 1024

_READ = "SMS005"


@dataclass(frozen=True)
class Found:
    """Config files (relative to the root, in load order) and the entries that are not followed."""

    files: list[str]
    skipped: list[tuple[str, str, Severity]]  # relative path, why, severity


def is_config_name(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) and name != ".sops.yaml"


def find_config_files(root: Path) -> Found:
    """Every ``*.yaml``/``*.yml`` under ``root`` (hidden directories skipped), sorted by path parts."""
    files: list[str] = []
    skipped: list[tuple[str, str, Severity]] = []
    pending = [""]
    while pending:
        relative = pending.pop()
        try:
            entries = list(os.scandir(root / relative if relative else root))
        except OSError as error:
            skipped.append((relative, f"cannot list directory: {error.strerror or error}", Severity.ERROR))
            continue
        for entry in entries:
            path = os.path.join(relative, entry.name) if relative else entry.name
            try:
                linked_dir = entry.is_symlink() and entry.is_dir()
                plain_dir = not linked_dir and entry.is_dir(follow_symlinks=False)
            except OSError:  # a link loop: is_dir follows it
                linked_dir = plain_dir = False
            if plain_dir:
                if not entry.name.startswith("."):
                    pending.append(path)
            elif linked_dir:
                if not entry.name.startswith("."):
                    skipped.append(_link(root, path))
            elif is_config_name(entry.name):
                files.append(path)
    return Found(sorted(files, key=lambda name: name.split(os.sep)), skipped)


def _inside(root: Path, path: Path) -> bool:
    return path == root or root in path.parents


def _link(root: Path, relative: str) -> tuple[str, str, Severity]:
    """Why a directory link is not followed: a loop or a link out of the tree is an error, any other
    link a warning (its files are not loaded)."""
    real_root = Path(os.path.realpath(root))
    target = Path(os.path.realpath(root / relative))
    holder = Path(os.path.realpath(os.path.join(root, os.path.dirname(relative))))
    if _inside(target, holder):
        return relative, "symbolic link loop: this directory link points at a directory above it", Severity.ERROR
    if not _inside(real_root, target):
        return relative, "directory link to outside the config directory; not followed", Severity.ERROR
    return relative, "directory link not followed: the files under it are not loaded", Severity.WARNING


def skipped_diagnostics(shown_root: str, found: Found) -> list[Diagnostic]:
    hint = "replace the link by the files themselves (or remove it)"
    return [
        Diagnostic(os.path.normpath(os.path.join(shown_root, path)), 1, 1, _READ, why, hint, severity)
        for path, why, severity in found.skipped
    ]


def read_regular(path: Path, file: str) -> tuple[bytes | None, Diagnostic | None]:
    """The bytes of ``path`` if it is a regular file of at most ``MAX_FILE_BYTES``; else why not."""
    raw, why = read_bounded(path, MAX_FILE_BYTES)
    if why is TOO_LARGE:
        message = f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not read"
        return None, Diagnostic(file, 1, 1, _READ, message, "split it into several files (one per resource)")
    return raw, _unreadable(file, why) if why is not None else None


# ``read_bounded``'s reason for a file over its limit (callers word it for what the file is).
TOO_LARGE = "larger than the limit"


def read_bounded(path: Path, limit: int) -> tuple[bytes | None, str | None]:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes; else None and why
    not, in words that complete "PATH: ..." ("file not found", "not a regular file (a named pipe)",
    "symbolic link loop", ``TOO_LARGE``). At most ``limit + 1`` bytes are read."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return None, f"not a regular file ({_kind(info.st_mode)})"
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):  # swapped since the stat
                return None, "not a regular file"
            raw = stream.read(limit + 1)
    except OSError as error:
        return None, _reason(path, error)
    return (None, TOO_LARGE) if len(raw) > limit else (raw, None)


def _unreadable(file: str, reason: str) -> Diagnostic:
    return Diagnostic(file, 1, 1, _READ, f"cannot read file: {reason}", "check the path and permissions")


def _reason(path: Path, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symbolic link loop"
    if isinstance(error, FileNotFoundError):
        return "broken symbolic link" if path.is_symlink() else "file not found"
    if error.errno == errno.ENAMETOOLONG:
        return "path too long"
    return error.strerror or str(error)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "it is a directory"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"
