"""Two applies at once from two clones of one config repository, round after round, with faults.

Shared by ``tests/concurrency/test_two_applies.py`` (children forked from a zygote) and
``benchmarks/bench_two_applies.py`` (a fresh process per apply). Each round:

1. the origin gets a commit: a new template, a changed one, every fourth round one removed (prune);
2. both clones pull, and faults are switched on at the provider (every kind at ``rate``);
3. both clones run ``smsops apply`` at the same moment, while a thread reads the published
   document from the S3 target again and again: each read must parse, be a document smsops wrote,
   and name only codes that exist and are approved at the provider;
4. faults off; follow-up applies from one clone converge (see ``TwoApplies.converge``);
5. counted: duplicates at the provider (two templates with one identity) after the concurrent
   applies ("created"), after the first follow-up ("after the next apply") and after the last
   ("left"); lost changes: a template in the config that the published document does not name
   with its current content, approved, or one removed from the config that it still names.

Both clones give up at once on a lease the other holds, except every third round, when one of them
waits for it (alternately): an apply that gives up exits 1 naming the holder, which is checked here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reconciler.formats import EXPORT_FORMAT_VERSION
from reconciler.providers.base import ReviewStatus
from reconciler.publish.document import published_map
from reconciler.reconcile.rollout import OWNER
from reconciler.sandbox.alibaba.biz import template_tags
from reconciler.sandbox.store.account import SandboxAccount
from reconciler.sandbox.store.behaviour import FAULT_KINDS
from tests.configrepo import SANDBOX_KEY, ConfigRepo

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "smsops-two-applies"
PREFIX = "smsops"
DOCUMENT_KEY = f"{PREFIX}/prod.json"
GOOD = "+8613812345678"
TEST_SEND = {"recipients": {"sops": "../secrets/creds.enc.yaml", "key": "test_recipients"}, "deliveryTimeout": "30s"}
RUNNERS = ("runner-a", "runner-b")
LEASE_WAIT_S = 60.0  # the waiting clone's patience; the other gives up at once
# The environment of every apply (besides the AWS one reaching moto): the test key, fast retries,
# and no client-side pacing (the emulator account limits nothing).
APPLY_ENV = {
    "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY),
    "SOPS_DISABLE_VERSION_CHECK": "1",
    "SMSOPS_RETRY_BASE_DELAY": "0.01",
    "SMSOPS_API_RATES": "alibaba:*=1000/50",
}


@dataclass
class Finished:
    code: int
    out: str
    err: str


class Launcher(Protocol):
    """Runs `smsops` jobs (see ``tests.concurrency.zygote``), all started together; waits for all."""

    def run(self, jobs: Sequence[dict[str, Any]]) -> list[int]: ...


class ZygoteLauncher:
    """Children forked from one warmed-up ``python -m tests.concurrency.zygote``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.concurrency.zygote"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, jobs: Sequence[dict[str, Any]]) -> list[int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"jobs": list(jobs)}) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the zygote ended (exit {self.process.poll()})"
        return [int(code) for code in json.loads(answer)["codes"]]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


class FreshLauncher:
    """A new interpreter per job (what a CI runner pays)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, jobs: Sequence[dict[str, Any]]) -> list[int]:
        command = [sys.executable, "-m", "tests.concurrency.zygote"]
        started = [subprocess.Popen([*command, json.dumps(job)], cwd=ROOT, env=self.env) for job in jobs]
        return [process.wait() for process in started]

    def close(self) -> None:
        return None


@dataclass
class Figures:
    rounds: int = 0
    applies: int = 0
    exit_codes: Counter[int] = field(default_factory=Counter)
    lease_refusals: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    duplicates_created: int = 0
    duplicates_after_next: int = 0  # after the first follow-up apply
    duplicates_left: int = 0  # after the last: copies the channel can prove its own (owner mark)
    unproven_left: int = 0  # copies whose owner mark was never written (a fault after the create): kept
    follow_ups: int = 0
    lost: int = 0
    doc_checks: int = 0
    invalid: int = 0
    problems: list[str] = field(default_factory=list)  # what made a figure non-zero, for the assert message
    seconds: Counter[str] = field(default_factory=Counter)  # wall time by phase: commit, applies, follow-ups

    def lines(self) -> list[str]:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.exit_codes.items()))
        faults = ", ".join(f"{kind} {self.faults[kind]}" for kind in FAULT_KINDS)
        return [
            f"rounds {self.rounds}, applies {self.applies} (exit codes of the concurrent ones: {codes}; "
            f"{self.lease_refusals} gave up on the other's lease, naming it)",
            f"faults injected: {faults} ({sum(self.faults.values())} in all)",
            f"duplicates created {self.duplicates_created}, left after the next apply {self.duplicates_after_next}, "
            f"after the follow-ups {self.duplicates_left} ({self.follow_ups} follow-up applies; "
            f"{self.unproven_left} unmarked copies kept, never deleted unproven)",
            f"lost changes {self.lost}",
            f"published document read {self.doc_checks} times during the applies, invalid {self.invalid}",
            "seconds: " + ", ".join(f"{phase} {s:.1f}" for phase, s in self.seconds.items()),
        ]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def content(name: str, revision: int) -> str:
    return f"Order {{{{ order }}}} of {name} is ready (r{revision})"


def duplicates(account: SandboxAccount) -> int:
    """Templates beyond the first with the same provider-side name (name and fingerprint)."""
    return sum(n - 1 for n in Counter(t.name for t in account.templates()).values())


def owned_duplicates(account: SandboxAccount) -> tuple[int, int]:
    """Copies beyond the first that carry the owner mark (the clean-up's to retire), and copies
    without it: an apply that failed between the create and the mark leaves one, which no channel
    can prove its own, so it is kept, never deleted on a guess (``reconciler.reconcile.owner``)."""
    templates = account.templates()
    tags = template_tags(account, [t.code for t in templates])
    marked: Counter[str] = Counter()
    unmarked: Counter[str] = Counter()
    for template in templates:
        owned = any(key == OWNER for key, _ in tags.get(template.code, ()))
        (marked if owned else unmarked)[template.name] += 1
    names = set(marked) | set(unmarked)
    owned_left = sum(max(marked[n] - 1, 0) for n in names)
    unproven = sum(unmarked[n] if marked[n] else max(unmarked[n] - 1, 0) for n in names)
    return owned_left, unproven


class DocumentReader:
    """Reads the published document in a loop on a thread while applies run (see ``check``)."""

    def __init__(self, s3: Any, account: SandboxAccount, figures: Figures) -> None:
        self.s3, self.account, self.figures = s3, account, figures
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> DocumentReader:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        while not self.stop.wait(0.02):
            self.read_once()

    def read_once(self) -> None:
        try:
            text = self.s3.get_object(Bucket=BUCKET, Key=DOCUMENT_KEY)["Body"].read().decode()
        except self.s3.exceptions.NoSuchKey:
            return  # nothing published yet (the first round, before any promotion)
        self.figures.doc_checks += 1
        why = check(text, self.account)
        if why:
            self.figures.invalid += 1
            self.figures.problems.append(f"invalid published document: {why}")


def check(text: str, account: SandboxAccount) -> str:
    """Why the document is not one an application can use ("" when it is): it parses, is of this
    format, smsops' own reader takes it, and every live code it names exists and is approved."""
    try:
        data = json.loads(text)
        named = published_map(text, DOCUMENT_KEY)
    except Exception as error:  # any failure to read it is the finding
        return f"{type(error).__name__}: {error}"
    if data.get("format_version") != EXPORT_FORMAT_VERSION:
        return f"format_version {data.get('format_version')!r}"
    for name, code in named.items():
        found = account.template(code)
        if found is None or found.status is not ReviewStatus.APPROVED:
            return f"{name} -> {code}, which is {found.status.value if found else 'not at the provider'}"
    return ""


class TwoApplies:
    """The repositories, the provider account and the rounds (see the module docstring)."""

    def __init__(
        self,
        work: Path,
        *,
        account: SandboxAccount,
        url: str,
        keys: tuple[str, str],
        s3: Any,
        launcher: Launcher,
        lease: bool = True,
    ) -> None:
        self.work, self.account, self.s3, self.launcher = work, account, s3, launcher
        self.lease = lease  # False: the applies do not take the lease (see ``tests.concurrency.zygote``)
        self.figures = Figures()
        self.revisions: dict[str, int] = {}  # template in the config -> its revision
        self.removed: set[str] = set()
        self.outputs: list[Finished] = []
        account.configure(delivery_delay_s=0, review_delay_s=0, number_limits={})
        if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.origin = ConfigRepo(work / "origin")
        self.origin.secrets(*keys, recipients=[GOOD])
        publish = {"s3": {"bucket": BUCKET, "prefix": PREFIX, "region": "eu-west-1"}}
        rollout = {"prune": True, "gracePeriod": "2s"}
        self.origin.channel("prod", "alibaba", url, testSend=TEST_SEND, rollout=rollout, publish=publish)
        for name in ("t00", "t01"):
            self.write(name, 0)
        (self.origin.root / ".gitignore").write_text(".smsops/\n")
        git(self.origin.root, "init", "-q", "-b", "main")
        git(self.origin.root, "config", "user.email", "ci@example.org")
        git(self.origin.root, "config", "user.name", "CI")
        self.commit("initial config")
        self.clones = [work / name for name in RUNNERS]
        for clone in self.clones:
            git(work, "clone", "-q", str(self.origin.root), clone.name)

    def write(self, name: str, revision: int) -> None:
        self.origin.template(name, content(name, revision), order="A-1")
        self.revisions[name] = revision

    def commit(self, message: str) -> None:
        git(self.origin.root, "add", "-A")
        git(self.origin.root, "commit", "-q", "-m", message)

    def change(self, round_: int) -> None:
        """Round ``round_``'s commit: add one template, change one, and every fourth round remove one."""
        self.write(f"t{round_ + 1:02d}", round_)
        names = sorted(self.revisions)
        self.write(names[round_ % len(names)], round_)
        if round_ % 4 == 0:
            gone = sorted(self.revisions)[0]
            self.origin.remove_template(gone)
            del self.revisions[gone]
            self.removed.add(gone)
        self.commit(f"round {round_}")

    def job(self, clone: int, name: str, *argv: str, lease_wait: float = LEASE_WAIT_S) -> dict[str, Any]:
        where = self.work / "out"
        where.mkdir(exist_ok=True)
        return {
            "argv": list(argv),
            "env": {"GITHUB_ACTOR": RUNNERS[clone]},
            "lease_wait": lease_wait,
            "lease": self.lease,
            "out": str(where / f"{name}.out"),
            "err": str(where / f"{name}.err"),
        }

    def launch(self, jobs: list[dict[str, Any]]) -> list[Finished]:
        codes = self.launcher.run(jobs)
        self.figures.applies += len(jobs)
        done = [
            Finished(code, Path(j["out"]).read_text(), Path(j["err"]).read_text())
            for j, code in zip(jobs, codes, strict=True)
        ]
        self.outputs.extend(done)
        return done

    def apply(self, clone: int, name: str, lease_wait: float = LEASE_WAIT_S) -> dict[str, Any]:
        argv = ("apply", str(self.clones[clone]), "--auto-approve", "--output", "json")
        return self.job(clone, name, *argv, lease_wait=lease_wait)

    def faults(self, rate: float) -> None:
        spec: dict[str, dict[str, Any]] = {kind: {"rate": rate, "seed": 7 + i} for i, kind in enumerate(FAULT_KINDS)}
        spec["latency"]["latency_s"] = 0.01
        spec["throttle"]["retry_after_ms"] = 10
        self.account.configure(faults=spec)

    def round(self, round_: int, rate: float) -> None:
        started = time.perf_counter()
        self.change(round_)
        for clone in self.clones:
            git(clone, "pull", "-q", "--ff-only")
        self.figures.seconds["commit and pull"] += time.perf_counter() - started
        waiter = round_ // 3 % 2 if round_ % 3 == 0 else None  # this clone waits for the other's lease
        jobs = [self.apply(c, f"r{round_:02d}-{RUNNERS[c]}", LEASE_WAIT_S if c == waiter else 0.0) for c in (0, 1)]
        if not self.lease:  # both plan before either applies (the lease would have kept them apart)
            meet = self.work / "meet" / str(round_)
            meet.mkdir(parents=True)
            for job in jobs:
                job.update(meet=str(meet), parties=len(jobs))
        before = self.account.counters()
        self.faults(rate)
        started = time.perf_counter()
        with DocumentReader(self.s3, self.account, self.figures):
            finished = self.launch(jobs)
        self.figures.seconds["applies at once"] += time.perf_counter() - started
        self.faults(0.0)
        after = self.account.counters()
        for kind in FAULT_KINDS:
            self.figures.faults[kind] += after.get(f"fault:{kind}", 0) - before.get(f"fault:{kind}", 0)
        for clone, done in enumerate(finished):
            self.figures.exit_codes[done.code] += 1
            if done.code == 1 and "is locked by" in done.err:
                self.figures.lease_refusals += 1
                other = RUNNERS[1 - clone]
                if f"is locked by {other}@" not in done.err:
                    self.figures.problems.append(f"round {round_}: the lease message names no holder: {done.err}")
        self.figures.duplicates_created += duplicates(self.account)
        started = time.perf_counter()
        self.converge(round_)
        self.figures.seconds["follow-ups"] += time.perf_counter() - started
        self.figures.rounds += 1

    def converge(self, round_: int) -> None:
        """Follow-up applies without faults from one clone, until one creates nothing and leaves no
        duplicate (at most three). A copy registered before the channel's first publish needs two: the
        first publishes, and only with a published document is a copy known never to have been in it."""
        clone = round_ % 2
        for attempt in range(3):
            done = self.launch([self.apply(clone, f"r{round_:02d}-follow-up-{attempt}")])[0]
            self.figures.follow_ups += 1
            report = json.loads(done.out) if done.out.strip() else {}
            created = [r for r in report.get("results", ()) if r["action"] == "create"]
            left, unproven = owned_duplicates(self.account)
            if attempt == 0:
                self.figures.duplicates_after_next += left + unproven
            if done.code == 0 and not created and not left:
                break
        self.figures.duplicates_left += left
        self.figures.unproven_left += unproven
        if left:
            self.figures.problems.append(f"round {round_}: {left} duplicates left")
        self.count_lost(round_)

    def count_lost(self, round_: int) -> None:
        text = self.s3.get_object(Bucket=BUCKET, Key=DOCUMENT_KEY)["Body"].read().decode()
        entries = json.loads(text)["channel"]["templates"]
        lost = []
        for name, revision in self.revisions.items():
            entry = entries.get(name) or {}
            found = self.account.template(entry.get("code") or "")
            current = found is not None and f"(r{revision})" in found.content
            if not (entry.get("live") and current and found.status is ReviewStatus.APPROVED):
                lost.append(f"{name} (r{revision}) published as {entry or 'nothing'}")
        lost += [f"{name} removed but still published" for name in self.removed if name in entries]
        self.figures.lost += len(lost)
        self.figures.problems += [f"round {round_}: lost {what}" for what in lost]

    def plan_actions(self, clone: int) -> list[str]:
        """The actions a plan from ``clone`` proposes now, noops left out."""
        job = self.job(clone, "final-plan", "plan", str(self.clones[clone]), "--output", "json")
        self.launcher.run([job])
        plan = json.loads(Path(job["out"]).read_text())
        return sorted(c["action"] for ch in plan["channels"] for c in ch["changes"] if c["action"] != "noop")
