"""Two applies started together from two clones, 20 rounds, faults at 20 % of every kind at the
provider (``tests.concurrency.rounds``): the apply lease in the S3 target (moto's server) lets one
apply at a time; no duplicate is left after the next apply, no change is lost, and the published
document is valid whenever it is read. The figures are printed (`pytest -s` shows them)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from reconciler.sandbox.store.account import ManualClock
from reconciler.sandbox.testing import SandboxHandle
from tests.concurrency.rounds import APPLY_ENV, ROOT, TwoApplies, ZygoteLauncher

ROUNDS = 20
RATE = 0.2


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


def test_two_applies_at_once_with_faults_converge_without_duplicates_or_lost_changes(
    tmp_path: Path, sms_sandbox: SandboxHandle, moto: str, launcher: ZygoteLauncher
) -> None:
    started = time.perf_counter()
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto)
    two = TwoApplies(
        tmp_path,
        account=sms_sandbox.account,
        url=sms_sandbox.url(),
        keys=sms_sandbox.credentials,
        s3=s3,
        launcher=launcher,
    )
    for round_ in range(1, ROUNDS + 1):
        two.round(round_, RATE)
    figures = two.figures
    print("\n".join(["", *figures.lines(), f"wall time {time.perf_counter() - started:.1f} s"]))

    for done in two.outputs:
        assert "Traceback" not in done.out + done.err, done.err
    assert figures.rounds == ROUNDS and sum(figures.exit_codes.values()) == 2 * ROUNDS
    assert set(figures.exit_codes) <= {0, 1}, figures.exit_codes
    assert sum(figures.faults.values()) > 0  # the faults did fire
    assert (figures.duplicates_left, figures.lost, figures.invalid) == (0, 0, 0), figures.problems
    assert figures.problems == []
    assert figures.doc_checks > 0
    # the other clone agrees that nothing is left to create, promote or publish
    assert set(two.plan_actions(1)) <= {"retire", "delete"}
