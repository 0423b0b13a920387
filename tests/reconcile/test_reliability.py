"""Reliability (issue 5 #8): under injected faults of every kind, and when apply is killed at random
points, re-running `smsops apply --auto-approve` converges to exactly one provider template per
(name, version): nothing duplicated, nothing lost.

Real seams throughout: SOPS files for the credentials, the official Alibaba SDK, the emulator over
loopback with its fault injection; the kill test runs apply as a separate process and SIGKILLs it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.testing import SandboxHandle
from tests.configrepo import SANDBOX_KEY, ConfigRepo

FAULT_RATE = 0.2
FAULTS = {
    "latency": {"rate": FAULT_RATE, "latency_s": 0.01, "seed": 11},
    "throttle": {"rate": FAULT_RATE, "retry_after_ms": 10, "seed": 12},
    "server_error": {"rate": FAULT_RATE, "seed": 13},
    "reset": {"rate": FAULT_RATE, "seed": 14},
    "lost_response": {"rate": FAULT_RATE, "seed": 15},
}
# The emulator account limits no operation: let the client go as fast as it answers.
UNLIMITED = "alibaba:*=1000/50"


def build_repo(root: Path, handle: SandboxHandle, count: int) -> ConfigRepo:
    repo = ConfigRepo(root)
    repo.secrets(*handle.credentials)
    repo.channel("prod", "alibaba", handle.url(), maxSegments=4)
    for index in range(count):
        repo.template(f"notice-{index:03d}", f"Parcel {{{{ parcel }}}} reached hub {index}", parcel="P-1")
    return repo


def census(handle: SandboxHandle) -> tuple[Counter[str], set[str]]:
    """Provider templates per provider-side name (name + version) and the logical names present."""
    names = Counter(t.name for t in handle.account.templates())
    return names, {name.split("~")[0] for name in names}


def assert_converged(handle: SandboxHandle, count: int) -> None:
    names, logical = census(handle)
    duplicates = {name: n for name, n in names.items() if n > 1}
    assert duplicates == {}, f"duplicated templates: {duplicates}"
    assert logical == {f"notice-{i:03d}" for i in range(count)}, f"lost: {count - len(logical)}"
    assert len(names) == count


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setenv("SMSOPS_API_RATES", UNLIMITED)
    monkeypatch.setenv("SMSOPS_RETRY_BASE_DELAY", "0")  # the emulator answers in milliseconds: retry at once
    return {**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"}


def test_apply_converges_under_faults_of_every_kind(
    tmp_path: Path, sms_sandbox: SandboxHandle, env: dict[str, str], run_cli: Any
) -> None:
    count, max_runs = 40, 8
    repo = build_repo(tmp_path / "cfg", sms_sandbox, count)
    sms_sandbox.account.configure(faults=FAULTS)
    runs = 0
    while runs < max_runs:
        runs += 1
        code, out, err = run_cli("apply", str(repo.root), "--auto-approve", "--output", "json")
        assert "Traceback" not in out + err
        names, logical = census(sms_sandbox)
        assert max(names.values(), default=0) <= 1, f"run {runs} duplicated a template: {names.most_common(3)}"
        # Exit 0 means done: a run that could not observe the channel must not claim success.
        assert code != 0 or len(logical) == count, f"run {runs} exited 0 with {count - len(logical)} missing"
        if code == 0 and len(logical) == count:
            break
    assert_converged(sms_sandbox, count)
    counters = sms_sandbox.account.counters()
    # Every kind of fault really fired along the way, including answers lost after the change.
    assert all(counters.get(f"fault:{kind}", 0) > 0 for kind in FAULTS), counters
    # Converged: a fault-free plan has nothing left to create.
    sms_sandbox.account.configure(faults={kind: {"rate": 0} for kind in FAULTS})
    code, out, _ = run_cli("plan", str(repo.root), "--detailed-exitcode", "--output", "json")
    assert code == 0, out


def test_apply_killed_at_random_points_converges_when_rerun(
    tmp_path: Path, sms_sandbox: SandboxHandle, env: dict[str, str]
) -> None:
    count = 30
    repo = build_repo(tmp_path / "cfg", sms_sandbox, count)
    # Some lost answers as well, so a kill can land between a create and the re-observation.
    sms_sandbox.account.configure(faults={"lost_response": {"rate": 0.1, "seed": 21}})
    command = [sys.executable, "-m", "reconciler", "apply", str(repo.root), "--auto-approve", "--output", "json"]
    # Creates at 10/s, so there is time to land a kill between any two of them.
    slow = {**env, "SMSOPS_API_RATES": f"{UNLIMITED},alibaba:CreateSmsTemplate=10"}
    rng = random.Random(5)
    kills = 0
    for _ in range(4):
        # Kill after a random number of further creates, plus a random fraction of one create's time.
        target = len(sms_sandbox.account.templates()) + rng.randint(1, 6)
        process = subprocess.Popen(command, env=slow, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            if len(sms_sandbox.account.templates()) >= target:
                time.sleep(rng.uniform(0.0, 0.1))
                break
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        names, _ = census(sms_sandbox)
        assert max(names.values(), default=0) <= 1, f"a killed apply left a duplicate: {names.most_common(3)}"
    assert kills == 4, "an apply finished before it could be killed"
    for _ in range(4):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode == 0 and len(census(sms_sandbox)[1]) == count:
            break
    assert "Traceback" not in done.stdout + done.stderr
    assert_converged(sms_sandbox, count)
