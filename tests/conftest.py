"""Shared fixtures. Tests run the real CLI in-process through ``reconciler.cli.main``."""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator
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
# A GitHub runner (ci.yml runs this suite) names who started the run here, and smsops takes it as the
# actor before GITHUB_ACTOR: the tests that set an actor set GITHUB_ACTOR.
os.environ.pop("GITHUB_TRIGGERING_ACTOR", None)


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server (SSM, S3, ...) on loopback for the whole session; ``moto`` resets its state
    before each test that uses it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # the system picks a port
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh moto server state, and an AWS environment that reaches it for SSM and S3 only: fake
    credentials from the normal chain (what boto3 reads), region eu-west-1, no profile."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL_SSM": moto_endpoint,
        "AWS_ENDPOINT_URL_S3": moto_endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SMSOPS_RETRY_BASE_DELAY": "0",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    return moto_endpoint


@pytest.fixture
def closed_endpoint() -> str:
    """An http address on loopback that nothing listens on (a port bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


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
LONGEST_FIRST = (  # by their time in a full run, longest first
    "test_workflows_run.py",
    "reconcile/test_rollout_cli.py",
    "test_docs_commands.py",
    "reconcile/test_status.py",
    "reconcile/test_ownership_cli.py",
    "console/test_browser_send.py",
    "concurrency/test_two_applies.py",
    "console/test_browser_edit.py",
    "concurrency/test_two_applies_without_lease.py",
    "test_action.py",
    "verify/test_test_send.py",
    "soak/test_published_codes.py",
    "commands/test_apply_interrupted.py",
    "publish/test_export.py",
    "reconcile/test_plan_sandbox.py",
    "reconcile/test_signature_shared.py",
    "reconcile/test_reliability.py",
    "soak/test_fresh_clone.py",
    "fuzz/test_fuzz_validate.py",
    "test_readme_development.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        tests = ROOT / "tests"
        path = item.path.relative_to(tests).as_posix() if item.path.is_relative_to(tests) else ""
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
