"""The cyclic garbage collector around allocation bursts of long-lived objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """For a burst of allocations that live on (a loaded and linted config): each burst triggers
    collections that rescan the whole growing heap and cost more than the work itself (validating
    5,000 templates: 3.6 s -> 1.25 s, ``benchmarks/bench_validate.py``). Pausing frees nothing late:
    such objects are not garbage.

    On the way out everything allocated meanwhile (still in the youngest generation) is moved to
    the oldest one: otherwise the first collection after ``gc.enable`` scans it all at once (and
    the next generation's does again). freeze + unfreeze is that move, two list splices."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
