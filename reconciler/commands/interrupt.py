"""SIGTERM handled like Ctrl-C while a command changes things at a provider.

A CI runner cancelling a job sends SIGTERM (then SIGKILL after a grace period). Python's default is
to die on the spot, so an apply would leave no report of the templates it had already created.
Inside ``terminate_as_interrupt`` SIGTERM raises ``Terminated``, a ``KeyboardInterrupt``, in the
main thread: the same clean-up runs as for Ctrl-C (providers and locks are released on the way out)
and the command can say what was done before it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from reconciler.errors import EXIT_INTERRUPTED

# The shell's convention: 128 + the signal's number (SIGINT 2 -> 130, SIGTERM 15 -> 143).
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` in the main thread (elsewhere nothing changes:
    only the main thread may set signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def signal_name(interrupt: KeyboardInterrupt) -> str:
    return "SIGTERM" if isinstance(interrupt, Terminated) else "SIGINT"


def exit_code(interrupt: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(interrupt, Terminated) else EXIT_INTERRUPTED
