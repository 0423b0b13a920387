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
