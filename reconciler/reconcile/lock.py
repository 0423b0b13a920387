"""Per-channel apply locks on this machine (CI serialises across machines with concurrency groups)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from reconciler.errors import SmsopsError


@contextlib.contextmanager
def channel_locks(
    lock_dir: Path,
    channels: Sequence[str],
    *,
    timeout: float = 600.0,
    notify: Callable[[str], None] = lambda _: None,
    poll: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold an exclusive lock per channel, taken in sorted order so two applies cannot deadlock."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    handles: list[int] = []
    try:
        for name in sorted(set(channels)):
            fd = os.open(lock_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            handles.append(fd)
            deadline = clock() + timeout
            announced = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not announced:
                        notify(f"waiting for another apply on channel {name} to finish (lock {lock_dir / name}.lock)")
                        announced = True
                    if clock() > deadline:
                        raise SmsopsError(
                            f"channel {name} is locked by another apply for over {timeout:.0f}s",
                            hint="wait for the other apply to finish, or check for a stuck smsops process",
                        ) from None
                    sleep(poll)
        yield
    finally:
        for fd in handles:
            os.close(fd)  # closing releases the flock
