"""The apply lease on each durable target (file, SSM and S3 through moto's server): one holder at
a time, a crashed holder's lease taken over once expired, the holder named to whoever waits.
Time is a parameter: a fake clock whose ``sleep`` advances it, so no test waits for real."""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.errors import SmsopsError
from reconciler.publish.lease import Holder, acquire, channel_leases, default_owner, lease
from reconciler.publish.store import Store
from tests.publish.test_store import KINDS, ignoring_store, make_store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class FakeTime:
    now: datetime = T0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, moto: str, tmp_path: Path) -> Store:
    return make_store(kind, tmp_path, moto)


def held_by(store: Store) -> Holder | None:
    found = store.read("lock")
    return None if found is None else Holder.parse(found.text)


def test_the_lease_is_held_then_released(store: Store) -> None:
    time = FakeTime()
    with lease(store, channel="prod", owner="ana@ci pid 1", clock=time.clock, sleep=time.sleep) as held:
        assert held_by(store) == Holder("ana@ci pid 1", T0, T0 + timedelta(minutes=30))
        assert held.expires == T0 + timedelta(minutes=30)
        document = json.loads(store.read("lock").text)  # type: ignore[union-attr]
        assert document == {
            "owner": "ana@ci pid 1",
            "acquired": "2026-12-01T09:00:00Z",
            "expires": "2026-12-01T09:30:00Z",
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
    assert store.read("lock") is None


def test_racing_applies_leave_exactly_one_holder(kind: str, moto: str, tmp_path: Path) -> None:
    """Eight applies on eight threads, each with its own client, try at the same instant."""
    racers = 8
    start = threading.Barrier(racers)
    won: list[str] = []
    lost: list[str] = []

    stores = [make_store(kind, tmp_path, moto) for _ in range(racers)]  # each builds its own client

    def run(n: int) -> None:
        store = stores[n]
        start.wait(timeout=30)
        try:
            acquire(store, channel="prod", owner=f"racer {n}", ttl=timedelta(minutes=30), wait=0.0, poll=0.1,
                    clock=lambda: datetime.now(UTC), sleep=lambda _: None, notify=lambda _: None)  # fmt: skip
            won.append(f"racer {n}")
        except SmsopsError as error:
            lost.append(error.message)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1, (won, lost)
    assert len(lost) == racers - 1
    holder = held_by(make_store(kind, tmp_path, moto))
    assert holder is not None and holder.owner == won[0]
    assert all(message.startswith(f"channel prod is locked by {won[0]}'s apply until ") for message in lost)


def test_a_held_lease_makes_the_next_apply_wait_then_fail_naming_the_holder(store: Store) -> None:
    time = FakeTime()
    notes: list[str] = []
    second = lease(
        store,
        channel="prod",
        owner="bo@ci pid 2",
        wait=60,
        poll=5,
        clock=time.clock,
        sleep=time.sleep,
        notify=notes.append,
    )
    with lease(store, channel="prod", owner="ana@ci pid 1 run 77", clock=time.clock, sleep=time.sleep):
        with pytest.raises(SmsopsError) as caught, second:
            pytest.fail("two holders")
        where = store.location("lock")
        assert str(caught.value) == (
            f"channel prod is locked by ana@ci pid 1 run 77's apply until 2026-12-01T09:30:00Z (lease in {where})\n"
            "  hint: wait for that apply to finish and run again; if it crashed, its lease expires at "
            f"2026-12-01T09:30:00Z, or delete {where} once sure no apply is running"
        )
        assert notes == [
            f"waiting for ana@ci pid 1 run 77's apply on channel prod (lease until 2026-12-01T09:30:00Z, in {where})"
        ]
        assert time.slept == [5.0] * 12  # polled for the whole wait, never longer
        assert held_by(store).owner == "ana@ci pid 1 run 77"  # type: ignore[union-attr]
    assert store.read("lock") is None


def test_a_waiting_apply_gets_the_lease_once_the_holder_releases(store: Store) -> None:
    time = FakeTime()
    first = lease(store, channel="prod", owner="ana", clock=time.clock, sleep=time.sleep)
    first.__enter__()

    def sleep(seconds: float) -> None:
        time.sleep(seconds)
        first.__exit__(None, None, None)  # the other apply finishes while we wait

    with lease(store, channel="prod", owner="bo", poll=2, clock=time.clock, sleep=sleep) as held:
        assert held.owner == "bo" and held_by(store).owner == "bo"  # type: ignore[union-attr]
    assert time.slept == [2.0]


def test_an_expired_lease_is_taken_over_and_its_holder_cannot_renew_or_release_ours(store: Store) -> None:
    time = FakeTime()
    notes: list[str] = []
    crashed = lease(store, channel="prod", owner="ana", ttl=timedelta(minutes=10), clock=time.clock, sleep=time.sleep)
    old = crashed.__enter__()
    time.now += timedelta(minutes=11)
    with lease(store, channel="prod", owner="bo", clock=time.clock, sleep=time.sleep, notify=notes.append) as held:
        where = store.location("lock")
        assert notes == [f"taking over ana's expired lease (expired 2026-12-01T09:10:00Z) on channel prod in {where}"]
        assert held.owner == "bo"
        assert held_by(store) == Holder("bo", T0 + timedelta(minutes=11), T0 + timedelta(minutes=41))
        with pytest.raises(SmsopsError, match=r"no longer ours: bo holds it until 2026-12-01T09:41:00Z"):
            old.renew()
        assert old.release() is False  # only our own lease is ever deleted
        crashed.__exit__(None, None, None)
        assert held_by(store).owner == "bo"  # type: ignore[union-attr]
        assert time.slept == []
    assert store.read("lock") is None


def test_renew_extends_the_lease(store: Store) -> None:
    time = FakeTime()
    with lease(
        store, channel="prod", owner="ana", ttl=timedelta(minutes=10), clock=time.clock, sleep=time.sleep
    ) as held:
        time.now += timedelta(minutes=8)
        assert held.renew() == T0 + timedelta(minutes=18)
        assert held_by(store) == Holder("ana", T0, T0 + timedelta(minutes=18))
        time.now += timedelta(minutes=8)
        held.renew()  # with the token of the renewed document
        assert held_by(store).expires == T0 + timedelta(minutes=26)  # type: ignore[union-attr]
        time.now += timedelta(minutes=9)  # not expired: another apply still waits
        other = lease(store, channel="prod", owner="bo", wait=0, clock=time.clock, sleep=time.sleep)
        with pytest.raises(SmsopsError, match="locked by ana's apply until 2026-12-01T09:26:00Z"), other:
            pass
    assert store.read("lock") is None


def test_an_unreadable_lock_is_taken_over(store: Store) -> None:
    store.write("lock", "not json")
    notes: list[str] = []
    time = FakeTime()
    with lease(store, channel="prod", owner="bo", clock=time.clock, sleep=time.sleep, notify=notes.append):
        assert held_by(store).owner == "bo"  # type: ignore[union-attr]
    assert notes == [f"taking over an unreadable lock on channel prod in {store.location('lock')}"]


def test_release_never_hides_the_error_that_ended_the_block(store: Store) -> None:
    time = FakeTime()
    held = lease(store, channel="prod", owner="ana", clock=time.clock, sleep=time.sleep)
    with pytest.raises(RuntimeError, match="apply failed"), held:
        raise RuntimeError("apply failed")
    assert store.read("lock") is None


def test_default_owner_names_the_actor_host_process_and_run() -> None:
    host = socket.gethostname()
    assert default_owner({"GITHUB_ACTOR": "octo", "GITHUB_RUN_ID": "4242", "USER": "runner"}) == (
        f"octo@{host} pid {os.getpid()} run 4242"
    )
    assert default_owner({"USER": "ana"}) == f"ana@{host} pid {os.getpid()}"
    assert default_owner({}) == f"someone@{host} pid {os.getpid()}"


def test_channel_leases_take_every_channel_in_order_and_release_all(moto: str, tmp_path: Path) -> None:
    time = FakeTime()
    notes: list[str] = []
    stores = {"b": make_store("file", tmp_path / "b", moto), "a": make_store("ssm", tmp_path, moto)}
    with channel_leases(stores, owner="ana", clock=time.clock, sleep=time.sleep, notify=notes.append) as held:
        assert list(held) == ["a", "b"]
        assert [held_by(stores[name]).owner for name in held] == ["ana", "ana"]  # type: ignore[union-attr]
    assert [stores[name].read("lock") for name in "ab"] == [None, None]
    # b is held elsewhere: a, taken first, is released again when b cannot be had
    with lease(stores["b"], channel="b", owner="bo", clock=time.clock, sleep=time.sleep):
        attempt = channel_leases(stores, owner="ana", wait=0, clock=time.clock, sleep=time.sleep)
        with pytest.raises(SmsopsError, match="channel b is locked by bo's apply"), attempt:
            pass
        assert stores["a"].read("lock") is None
    assert notes == []


def test_a_holder_killed_on_this_host_is_taken_over_at_once(store: Store) -> None:
    """A real process takes the lease and is killed (SIGKILL: no release); the next apply on the same
    host sees that the process is gone and takes over without waiting for the expiry."""
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        document = Holder(
            f"ci pid {holder.pid}", T0, T0 + timedelta(minutes=30), host=socket.gethostname(), pid=holder.pid
        )
        assert store.create("lock", document.document())
        time, notes = FakeTime(), []
        with pytest.raises(SmsopsError, match=f"locked by ci pid {holder.pid}"):  # alive: it waits, then gives up
            acquire(
                store,
                channel="prod",
                owner="bo",
                ttl=timedelta(minutes=30),
                wait=30,
                poll=10,
                clock=time.clock,
                sleep=time.sleep,
                notify=notes.append,
            )
    finally:
        holder.kill()
        holder.wait()
    time, notes = FakeTime(), []
    with lease(store, channel="prod", owner="bo", clock=time.clock, sleep=time.sleep, notify=notes.append):
        assert held_by(store) == Holder("bo", T0, T0 + timedelta(minutes=30))
    assert time.slept == []
    assert notes[0].startswith(
        f"taking over ci pid {holder.pid}'s lease (its process {holder.pid} on this host is gone)"
    )


def test_a_holder_on_another_host_is_not_judged_by_local_processes(store: Store) -> None:
    document = Holder("ci pid 1", T0, T0 + timedelta(minutes=30), host="another-runner", pid=999_999_999)
    assert store.create("lock", document.document())
    time = FakeTime()
    with pytest.raises(SmsopsError):
        acquire(
            store,
            channel="prod",
            owner="bo",
            ttl=timedelta(minutes=30),
            wait=30,
            poll=10,
            clock=time.clock,
            sleep=time.sleep,
            notify=lambda _: None,
        )
    assert held_by(store) == Holder("ci pid 1", T0, T0 + timedelta(minutes=30))


def test_a_store_that_ignores_conditional_writes_gives_no_lease(moto: str) -> None:
    """The channel is refused its lease (and so blocked, before any change at the provider)."""
    store = ignoring_store(moto, "ignoring-lease")
    time = FakeTime()
    refused: dict[str, SmsopsError] = {}
    with channel_leases({"prod": store}, owner="ci", refused=refused, clock=time.clock, sleep=time.sleep) as held:
        assert held == {}
    assert "ignores conditional writes" in refused["prod"].message
    assert store.read("lock") is None
