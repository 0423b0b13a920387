"""One job in a forked worker while this process does another: the two cores, for start-up.

Python runs one thread at a time, and a command that talks to providers starts with two jobs that
both want the CPU and need nothing from each other: checking the config (parse, schema, lint) and
importing the provider SDKs (the Alibaba SDK alone takes about half a second, aiohttp mostly).
``in_worker`` runs the first in a forked child while this process does the second; the child's
answer comes back pickled through a pipe, so nothing is written anywhere.

Fork copies only the calling thread, so with other threads running (an in-process emulator, say)
both jobs run here, one after the other, as they do where there is no fork. If the worker fails
in any way its job is run here too, so a real error surfaces from this process as it always did.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def in_worker(job: Callable[[], T], meanwhile: Callable[[], object]) -> T:
    """``job()`` (picklable: a module-level function or a partial of one), computed in a forked
    worker while ``meanwhile()`` runs here."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        meanwhile()
        return job()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        try:
            future = pool.submit(job)
        except Exception:  # the worker could not be started: do it all here
            meanwhile()
            return job()
        meanwhile()
        try:
            return future.result()
        except Exception:  # the worker died, or its answer could not be sent: its job is done here
            pass
    return job()
