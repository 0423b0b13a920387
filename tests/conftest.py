"""Shared fixtures. Tests run the real CLI in-process through ``reconciler.cli.main``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.sandbox.testing import (  # noqa: F401
    aws_sandbox,
    sandbox_clock,
    sandbox_factory,
    sms_sandbox,
    tencent_sandbox,
)

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SOPS_DISABLE_VERSION_CHECK", "1")


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``smsops ARGS`` in-process; returns (exit_code, stdout, stderr)."""
    from reconciler.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


# The files whose tests take longest (real waits, whole pipelines in subprocesses) are collected
# first: with `--dist loadfile --no-loadscope-reorder` (make test) each worker starts on one of them,
# instead of one starting last and running alone at the end. A file's items stay together, in order.
LONGEST_FIRST = (
    "test_workflows.py",
    "test_docs_commands.py",
    "commands/test_demo.py",
    "reconcile/test_reliability.py",
    "publish/test_export.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        tests = ROOT / "tests"
        path = item.path.relative_to(tests).as_posix() if item.path.is_relative_to(tests) else ""
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
