"""Fixtures of the two-applies tests: the sandbox's clock on wall time, and the zygote that forks
the smsops runs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from reconciler.sandbox.store.account import ManualClock
from tests.concurrency.rounds import APPLY_ENV, ROOT, ZygoteLauncher


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock(time.time())  # delivery reports are due by the wall clock the gate waits on


@pytest.fixture
def launcher(moto: str) -> Iterator[ZygoteLauncher]:
    zygote = ZygoteLauncher({**os.environ, **APPLY_ENV, "PYTHONPATH": str(ROOT)})
    try:
        yield zygote
    finally:
        zygote.close()
