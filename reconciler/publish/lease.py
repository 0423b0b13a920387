"""The apply lease: one apply per channel at a time, across machines, held in the channel's durable
target (``reconciler.publish.store``, key ``lock``) beside the config it guards.

The lock document is JSON: ``owner`` (who and where: ``default_owner``), ``acquired`` and
``expires`` (ISO 8601, UTC). Taking it is a conditional create, which exactly one of several
racing applies wins (S3 ``If-None-Match``, SSM put without overwrite, a file link). The others
wait for it to go, polling, and give up after ``wait`` seconds naming the holder. A holder that
crashed leaves a lease that expires: the next apply deletes it only if it is still that same
document (the token), then creates its own, so two applies cannot both take over. The document also
names the holder's ``host`` and ``pid``: an apply on the same host takes over at once from a holder
whose process is gone (killed, out of memory), rather than waiting for the lease to expire.

Expiry is compared with the local clock of each machine: CI runners keep time by NTP, and the
default ``ttl`` (30 minutes) is far above any skew. A long apply calls ``Lease.renew``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler.errors import SmsopsError
from reconciler.publish.store import LOCK, Store
from reconciler.publish.targets.base import same_document

UtcClock = Callable[[], datetime]
Notify = Callable[[str], None]

# How long an apply waits for another apply's lease, and how often it looks again: the real values,
# read when a lease is taken, which tests replace (as commands/apply.py's GATE_* constants).
WAIT_S = 600.0
POLL_S = 5.0


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def default_owner(environ: Mapping[str, str] = os.environ) -> str:
    """``<actor>@<host> pid <n>``, plus ``run <GITHUB_RUN_ID>`` in GitHub Actions: enough for a
    person waiting on the lease to find the run that holds it."""
    actor = environ.get("GITHUB_ACTOR") or environ.get("USER") or environ.get("USERNAME") or "someone"
    owner = f"{actor}@{socket.gethostname()} pid {os.getpid()}"
    run = environ.get("GITHUB_RUN_ID")
    return f"{owner} run {run}" if run else owner


@dataclass(frozen=True)
class Holder:
    """What a lock document says."""

    owner: str
    acquired: datetime
    expires: datetime
    # where the holding process runs (absent from documents of older smsops: 0 = unknown)
    host: str = field(default="", compare=False)
    pid: int = field(default=0, compare=False)

    def document(self) -> str:
        data: dict[str, object] = {"owner": self.owner, "acquired": _iso(self.acquired), "expires": _iso(self.expires)}
        if self.pid:
            data |= {"host": self.host, "pid": self.pid}
        return json.dumps(data, sort_keys=True, indent=2) + "\n"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """None for anything smsops did not write (it is treated as an expired lease)."""
        try:
            data = json.loads(text)
            found = cls(
                str(data["owner"]),
                _moment(data["acquired"]),
                _moment(data["expires"]),
                host=str(data.get("host", "")),
                pid=int(data.get("pid", 0)),
            )
        except (ValueError, KeyError, TypeError):
            return None
        return found

    def gone(self, alive: Callable[[str, int], bool]) -> bool:
        """The holder ran on this host and its process no longer runs."""
        return bool(self.pid) and not alive(self.host, self.pid)


def running_here(host: str, pid: int) -> bool:
    """Whether process ``pid`` of ``host`` may still run: True unless ``host`` is this host and the
    process does not exist or is a zombie (killed, waiting to be reaped)."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc here: the signal said it exists
    return stat.rpartition(")")[2].split()[0] != "Z"


def _moment(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Lease:
    """A held lease. ``renew`` pushes the expiry ``ttl`` further; leaving ``lease()`` releases it."""

    def __init__(self, store: Store, channel: str, holder: Holder, token: str, ttl: timedelta, clock: UtcClock) -> None:
        self.store = store
        self.channel = channel
        self.holder = holder
        self.ttl = ttl
        self._token = token
        self._clock = clock

    @property
    def owner(self) -> str:
        return self.holder.owner

    @property
    def expires(self) -> datetime:
        return self.holder.expires

    @property
    def location(self) -> str:
        return self.store.location(LOCK)

    def renew(self) -> datetime:
        """Extend the lease to ``ttl`` from now. Refuses (``SmsopsError``) when the lock document
        is no longer ours: our lease expired and another apply took it over."""
        renewed = Holder(
            self.holder.owner,
            self.holder.acquired,
            self._clock() + self.ttl,
            host=self.holder.host,
            pid=self.holder.pid,
        )
        text = renewed.document()
        found = self.store.read(LOCK) if self.store.replace(LOCK, text, self._token) else None
        if found is None or not same_document(found.text, text):
            now = self.store.read(LOCK)
            other = Holder.parse(now.text) if now is not None else None
            taken = f"{other.owner} holds it until {_iso(other.expires)}" if other else "it is gone"
            raise SmsopsError(
                f"channel {self.channel}: the apply lease in {self.location} is no longer ours: {taken}",
                hint="our lease expired before it was renewed; stop this apply and run it again "
                "(raise the lease time if applies take that long)",
            )
        self.holder = renewed
        self._token = found.token
        return renewed.expires

    def release(self) -> bool:
        """Delete the lock document if it is still ours; False when it was not (taken over)."""
        return self.store.delete(LOCK, self._token)


@contextmanager
def lease(
    store: Store,
    *,
    channel: str,
    owner: str,
    ttl: timedelta = timedelta(minutes=30),
    wait: float | None = None,
    poll: float | None = None,
    clock: UtcClock = _now,
    sleep: Callable[[float], None] = time.sleep,
    notify: Notify = lambda _: None,
    alive: Callable[[str, int], bool] = running_here,
) -> Iterator[Lease]:
    """Hold the channel's lease for the ``with`` block (see the module docstring). ``wait`` and
    ``poll`` default to ``WAIT_S`` and ``POLL_S``."""
    wait = WAIT_S if wait is None else wait
    poll = POLL_S if poll is None else poll
    held = acquire(
        store,
        channel=channel,
        owner=owner,
        ttl=ttl,
        wait=wait,
        poll=poll,
        clock=clock,
        sleep=sleep,
        notify=notify,
        alive=alive,
    )
    try:
        yield held
    finally:
        _release(held, notify)


@contextmanager
def channel_leases(
    stores: Mapping[str, Store],
    *,
    owner: str,
    refused: dict[str, SmsopsError] | None = None,
    **terms: Any,
) -> Iterator[dict[str, Lease]]:
    """The lease of every channel in ``stores`` (channel name -> its target), taken in sorted order
    so two applies of overlapping channels cannot wait on each other forever; all released on exit,
    also when taking one of them fails. With ``refused``, a channel whose lease cannot be had (its
    target cannot be reached, another apply keeps it) goes there with why, and the others are held:
    channels are independent. ``terms`` are ``lease``'s keyword arguments (ttl, wait, ...)."""
    with ExitStack() as held:
        taken: dict[str, Lease] = {}
        for name in sorted(stores):
            try:
                taken[name] = held.enter_context(lease(stores[name], channel=name, owner=owner, **terms))
            except SmsopsError as error:
                if refused is None:
                    raise
                refused[name] = error
        yield taken


def acquire(
    store: Store,
    *,
    channel: str,
    owner: str,
    ttl: timedelta,
    wait: float,
    poll: float,
    clock: UtcClock,
    sleep: Callable[[float], None],
    notify: Notify,
    alive: Callable[[str, int], bool] = running_here,
) -> Lease:
    """Take the lease, waiting up to ``wait`` seconds for another holder, taking over an expired one."""
    deadline = clock() + timedelta(seconds=wait)
    announced = False
    while True:
        now = clock()
        mine = Holder(owner, now, now + ttl, host=socket.gethostname(), pid=os.getpid())
        store.create(LOCK, mine.document())  # one racer's create succeeds; the read says whose
        found = store.read(LOCK)
        if found is None:
            continue  # released between our create and our read: try again
        if same_document(found.text, mine.document()):
            return Lease(store, channel, mine, found.token, ttl, clock)
        holder = Holder.parse(found.text)
        if holder is None or holder.expires <= now or holder.gone(alive):
            whose = "an unreadable lock"
            if holder is not None and holder.expires <= now:
                whose = f"{holder.owner}'s expired lease (expired {_iso(holder.expires)})"
            elif holder is not None:
                whose = f"{holder.owner}'s lease (its process {holder.pid} on this host is gone)"
            notify(f"taking over {whose} on channel {channel} in {store.location(LOCK)}")
            store.delete(LOCK, found.token)  # only if still that document: one of several racers wins
            continue
        if not announced:
            notify(
                f"waiting for {holder.owner}'s apply on channel {channel} "
                f"(lease until {_iso(holder.expires)}, in {store.location(LOCK)})"
            )
            announced = True
        remaining = (deadline - now).total_seconds()
        if remaining <= 0:
            raise SmsopsError(
                f"channel {channel} is locked by {holder.owner}'s apply until {_iso(holder.expires)} "
                f"(lease in {store.location(LOCK)})",
                hint=f"wait for that apply to finish and run again; if it crashed, its lease expires at "
                f"{_iso(holder.expires)}, or delete {store.location(LOCK)} once sure no apply is running",
            )
        sleep(min(poll, remaining))


def _release(held: Lease, notify: Notify) -> None:
    """Never raises: an error here would hide the one that ended the ``with`` block, and a lease
    that is not deleted expires anyway."""
    try:
        if not held.release():
            notify(f"the apply lease on channel {held.channel} was no longer ours at release ({held.location})")
    except SmsopsError as error:
        notify(
            f"could not release the apply lease on channel {held.channel}: {error.message}; "
            f"it expires at {_iso(held.expires)}"
        )
