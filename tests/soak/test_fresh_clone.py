"""Each step of a rollout from a fresh clone, as on CI runners that start empty: the config is a git
repository, every step clones it into a new directory, applies, and the directory is deleted. Only
the durable target (SSM or S3 in moto) and the provider (the sandbox) outlive a step. Then nothing
the application uses is ever withdrawn, each version is gated exactly once, and the rollout completes."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.soak.rollout import ALERT_V2, PROVIDERS, Setup, applied

COMMITTER = ("-c", "user.name=Config Author", "-c", "user.email=author@example.invalid")


def git(where: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(where), *args], check=True, capture_output=True)


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, *COMMITTER, "commit", "-q", "-m", message)


class Runners:
    """Runs each step in a new clone of ``origin`` and keeps what the target held after it."""

    def __init__(self, setup: Setup, run_cli: Any, tmp_path: Path) -> None:
        self.setup, self.run_cli, self.tmp_path = setup, run_cli, tmp_path
        self.published: list[dict[str, dict[str, Any]]] = []

    def step(self) -> str:
        number = len(self.published) + 1
        clone = self.tmp_path / f"runner-{number}"
        subprocess.run(["git", "clone", "-q", str(self.setup.repo.root), str(clone)], check=True, capture_output=True)
        report = self.tmp_path / "reports" / f"step-{number}.json"
        out = applied(self.run_cli, clone, "--report", str(report))
        # What apply left in the clone (.smsops/: locks, the local copy of the published config) is
        # smsops' own state: the report does not call the clone dirty.
        assert (clone / ".smsops").is_dir()
        assert json.loads(report.read_text())["dirty"] is False, f"step {number}"
        shutil.rmtree(clone)
        self.published.append(self.setup.target.templates())
        return out


def withdrawals(published: list[dict[str, dict[str, Any]]]) -> list[str]:
    """Where a step's document stopped naming a live template, or went back to an older code."""
    found = []
    retired: dict[str, set[str]] = {}
    for number, (before, after) in enumerate(itertools.pairwise(published), start=2):
        for name, entry in before.items():
            if not entry["live"]:
                continue
            now = after.get(name)
            if now is None or not now["live"]:
                found.append(f"step {number}: {name} no longer live")
            elif now.get("code") != entry.get("code"):
                retired.setdefault(name, set()).add(str(entry.get("code")))
                if now.get("code") in retired[name]:
                    found.append(f"step {number}: {name} back to {now.get('code')}")
    return found


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_step_from_a_fresh_clone_withdraws_nothing_gates_once_and_completes(
    provider: str, tmp_path: Path, rollout_setup: Callable[..., Setup], run_cli: Any, figure: Callable[[str], None]
) -> None:
    setup = rollout_setup(provider, tmp_path / "origin")
    origin = setup.repo.root
    git(origin, "init", "-q")
    commit(origin, "two templates")
    runners = Runners(setup, run_cli, tmp_path)
    registers = provider != "aws"  # AWS has no template registry: nothing to review, gate or retire

    runners.step()  # create (AWS: publish)
    setup.review()
    runners.step()  # gate, promote, publish
    runners.step()  # nothing left to do: a runner without local state promotes nothing again
    v1 = runners.published[-1]
    assert sorted(v1) == ["alert", "notice"] and all(entry["live"] for entry in v1.values())

    setup.repo.template("alert", ALERT_V2, service="db")
    commit(origin, "alert: new wording")
    runners.step()  # create the new version; the old one stays published
    setup.review()
    runners.step()  # gate, promote, publish
    runners.step()  # within the grace period: nothing goes
    if registers:
        assert v1["alert"]["code"] in setup.codes("alert")
    setup.grace()
    runners.step()  # retire the old version
    runners.step()  # nothing left to do

    final = runners.published[-1]
    assert "has stopped answering" in final["alert"]["content"] and final["notice"] == v1["notice"]
    assert withdrawals(runners.published) == []
    sends = setup.sends_by_code()
    if registers:
        new = final["alert"]["code"]
        assert new != v1["alert"]["code"] and setup.codes("alert") == [new]  # the old version is gone
        gated = [v1["alert"]["code"], v1["notice"]["code"], new]
        assert sends == dict.fromkeys(gated, 1)  # each version gated exactly once, by one step
    else:
        assert sends == {}
    figure(
        f"fresh clone {provider}: {len(runners.published)} steps, {len(sends)} versions gated "
        f"({sum(sends.values())} test sends), {len(withdrawals(runners.published))} withdrawals"
    )


def test_a_withdrawal_or_a_step_back_is_seen() -> None:
    live = {"alert": {"live": True, "code": "SMS_1"}}
    newer = {"alert": {"live": True, "code": "SMS_2"}}
    assert withdrawals([live, newer, newer]) == []
    assert withdrawals([live, {"alert": {"live": False}}]) == ["step 2: alert no longer live"]
    assert withdrawals([live, {}]) == ["step 2: alert no longer live"]
    assert withdrawals([live, newer, live]) == ["step 3: alert back to SMS_1"]
