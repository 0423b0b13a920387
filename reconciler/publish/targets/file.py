"""A file target: the channel's documents as files side by side in one directory.

``config`` is the ``publish.file`` path (or ``<config dir>/.smsops/published/<channel>.json``),
``marks`` is ``<stem>.marks.json`` and ``lock`` is ``<stem>.lock`` beside it. Durable only if the
pipeline keeps that directory between runs: an ephemeral CI runner starts without it.

Every write goes through a temporary file in the same directory, then ``os.replace`` (a reader
sees the old or the new file) or ``os.link`` for ``create`` (fails when the name exists, and the
file appears complete). ``replace`` and ``delete`` compare and act under an exclusive ``flock``
on the directory, which every writer of the directory takes, so two processes on one machine
cannot interleave.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reconciler.publish.targets.base import CONFIG, LOCK, MARKS, Stored, StoreKey, TargetUnreachable, digest

_SUFFIX = {MARKS: ".marks.json", LOCK: ".lock"}


def write_file(path: Path, text: str) -> bool:
    """Atomic replace (a reader never sees half a file); False when the file already holds ``text``."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, text)
    return True


def _replace(path: Path, text: str) -> None:
    temporary = _temporary(path, text)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _temporary(path: Path, text: str) -> Path:
    """``text`` in a new file beside ``path``, flushed, so a rename or link publishes it whole."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _reason(path: Path, error: OSError) -> tuple[str, str]:
    """What went wrong with ``path``, and what to do, from the error number (never the raw text)."""
    if isinstance(error, PermissionError):
        return "permission denied", f"let the user running smsops read and write {path.parent}"
    if isinstance(error, IsADirectoryError):
        return "it is a directory", "point spec.publish.file at a file, not a directory"
    if isinstance(error, NotADirectoryError | FileExistsError):  # mkdir of a path that is a file
        return "a file is where a directory should be", "point spec.publish.file below a directory"
    if error.errno == errno.EROFS:
        return "read-only file system", "publish to a writable directory, or to SSM or S3"
    return error.strerror or type(error).__name__, f"check that {path.parent} exists and is writable"


class FileStore:
    """The documents of one channel in files beside ``config`` (see the module docstring)."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.where = f"file {config}"

    def path(self, key: StoreKey) -> Path:
        if key == CONFIG:
            return self.config
        return self.config.with_name(f"{self.config.stem}{_SUFFIX[key]}")

    def location(self, key: StoreKey) -> str:
        return str(self.path(key))

    @contextlib.contextmanager
    def _errors(self, path: Path) -> Iterator[None]:
        try:
            yield
        except OSError as error:
            reason, hint = _reason(path, error)
            raise TargetUnreachable(f"cannot use the publish target {path}: {reason}", hint=hint) from None

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """The directory's exclusive lock, for a compare and the change that depends on it."""
        directory = self.config.parent
        with self._errors(directory):
            directory.mkdir(parents=True, exist_ok=True)
            handle = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # closing releases the lock

    def read(self, key: StoreKey) -> Stored | None:
        path = self.path(key)
        with self._errors(path):
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return None
            except UnicodeDecodeError:
                raise TargetUnreachable(
                    f"{path} is not UTF-8 text: not a document smsops wrote",
                    hint="restore it from its previous version, or delete it",
                ) from None
        return Stored(text, digest(text))

    def write(self, key: StoreKey, text: str) -> bool:
        path = self.path(key)
        with self._guard(), self._errors(path):
            return write_file(path, text)

    def create(self, key: StoreKey, text: str) -> bool:
        path = self.path(key)
        with self._guard(), self._errors(path):
            temporary = _temporary(path, text)
            try:
                os.link(temporary, path)
            except FileExistsError:
                return False
            finally:
                temporary.unlink(missing_ok=True)
        return True

    def replace(self, key: StoreKey, text: str, token: str) -> bool:
        path = self.path(key)
        with self._guard():
            current = self.read(key)
            if current is None or current.token != token:
                return False
            with self._errors(path):
                _replace(path, text)
        return True

    def delete(self, key: StoreKey, token: str | None = None) -> bool:
        path = self.path(key)
        with self._guard():
            current = self.read(key)
            if current is None or (token is not None and current.token != token):
                return False
            with self._errors(path):
                path.unlink(missing_ok=True)
        return True

    def check(self) -> None:
        """The directory can be created and written, and the config path is not a directory."""
        with self._errors(self.config):
            if self.config.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a directory")
        directory = self.config.parent
        with self._errors(directory):
            directory.mkdir(parents=True, exist_ok=True)
            _temporary(self.config, "").unlink()
