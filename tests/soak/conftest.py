"""The soak tests' clock, and their figures in the terminal summary (and in a file under each
test's tmp_path, which also holds them when the summary is not shown, e.g. under xdist)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.sandbox.store.account import ManualClock
from reconciler.sandbox.testing import SandboxFactory
from tests.soak.rollout import Setup, set_up

FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def sandbox_clock() -> ManualClock:
    # Tencent's request signatures carry the real time: the sandbox clock starts there, then jumps.
    return ManualClock(time.time())


@pytest.fixture
def figure(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], None]:
    """Records one line of figures for the terminal summary and in ``tmp_path/figures.txt``."""

    def record(line: str) -> None:
        request.config.stash.setdefault(FIGURES, []).append(line)
        with (tmp_path / "figures.txt").open("a") as out:
            out.write(line + "\n")

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("soak figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def rollout_setup(sandbox_factory: SandboxFactory, moto: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Setup]:
    """``rollout_setup(provider, root) -> Setup``: a provider's sandbox and a config at ``root``
    publishing to moto (``tests.soak.rollout.set_up``)."""
    return lambda provider, root: set_up(provider, root, sandbox_factory, moto, monkeypatch)
