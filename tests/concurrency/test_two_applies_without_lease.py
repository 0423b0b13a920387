"""Two applies at once without the lease (as with a store that ignores conditional writes): both
plan the same creates, so copies are registered, and the convergent clean-up alone retires them;
nothing is lost and the published document stays valid (``tests.concurrency.test_two_applies``).
A file of its own, so that xdist runs it beside the longer test with the lease."""

from __future__ import annotations

from pathlib import Path

from reconciler.sandbox.testing import SandboxHandle
from tests.concurrency.rounds import ZygoteLauncher
from tests.concurrency.test_two_applies import rounds


def test_without_the_lease_the_clean_up_alone_retires_what_was_registered_twice(
    tmp_path: Path, sms_sandbox: SandboxHandle, moto: str, launcher: ZygoteLauncher
) -> None:
    two = rounds(tmp_path, sms_sandbox, moto, launcher, 8, lease=False)
    # both plan the same creates at the same moment: copies are made, and retired by the next apply,
    # or the one after where the copies came before the channel's first publish (``converge``)
    assert two.figures.duplicates_created > 0
    assert two.figures.lease_refusals == 0
