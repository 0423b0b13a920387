"""Two applies started together from two clones, round after round, faults at 20 % of every kind at
the provider (``tests.concurrency.rounds``): 10 rounds here, 20 in ``benchmarks/bench_two_applies.py``
with a fresh process per apply. With the apply lease in the S3 target (moto's server)
one applies at a time, and no duplicate is left after the next apply; without it (as with a store
that ignores conditional writes) they register the same versions twice and the clean-up alone
converges. Either way no change is lost, and the published document is valid whenever it is read. The figures
are printed (`pytest -s` shows them)."""

from __future__ import annotations

import time
from pathlib import Path

import boto3

from reconciler.sandbox.testing import SandboxHandle
from tests.concurrency.rounds import Figures, TwoApplies, ZygoteLauncher

RATE = 0.2


def rounds(
    tmp_path: Path, sandbox: SandboxHandle, moto: str, launcher: ZygoteLauncher, n: int, lease: bool
) -> TwoApplies:
    """``n`` rounds; checks what holds with or without the lease, and prints the figures."""
    started = time.perf_counter()
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto)
    two = TwoApplies(
        tmp_path,
        account=sandbox.account,
        url=sandbox.url(),
        keys=sandbox.credentials,
        s3=s3,
        launcher=launcher,
        lease=lease,
    )
    for round_ in range(1, n + 1):
        two.round(round_, RATE)
    figures: Figures = two.figures
    print("\n".join(["", *figures.lines(), f"wall time {time.perf_counter() - started:.1f} s"]))

    for done in two.outputs:
        assert "Traceback" not in done.out + done.err, done.err
    assert figures.rounds == n and sum(figures.exit_codes.values()) == 2 * n
    assert set(figures.exit_codes) <= {0, 1}, figures.exit_codes
    assert sum(figures.faults.values()) > 0  # the faults did fire
    assert (figures.duplicates_left, figures.lost, figures.invalid) == (0, 0, 0), figures.problems
    assert figures.problems == []
    assert figures.doc_checks > 0
    # the other clone agrees that nothing is left to create, promote or publish
    assert set(two.plan_actions(1)) <= {"retire", "delete"}
    return two


def test_two_applies_at_once_take_turns_by_the_lease_and_lose_nothing(
    tmp_path: Path, sms_sandbox: SandboxHandle, moto: str, launcher: ZygoteLauncher
) -> None:
    two = rounds(tmp_path, sms_sandbox, moto, launcher, 10, lease=True)
    # one at a time: nothing registered twice; an apply that gave up named the other (checked per round)
    assert (two.figures.duplicates_created, two.figures.duplicates_after_next) == (0, 0)
