"""Test sends run in the background, so the page shows the delivery proof as it arrives.

"Send Test SMS" starts a ``SendJob`` in a thread of its own and answers at once with the job's page;
the page shows what the gate has reported so far and, once it is done, the ``GateResult``. Reloading
the page (or asking for its JSON) never sends again. Invariant: a job holds nothing a page may not
show: the gate's reports and results carry masked numbers only, and a problem is redacted before it
is kept. The console keeps the last ``KEPT`` jobs, in memory only.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import SmsopsError
from reconciler.secrets.redact import redact
from reconciler.verify.results import GateProgress, GateResult, SendResult

KEPT = 20
Run = Callable[[Callable[[GateProgress], None]], GateResult]


@dataclass
class SendJob:
    """One "Send Test SMS": what the gate reported so far, then its result or why it could not run."""

    id: str
    channel: str
    total: int = 0  # sends the gate makes (0 until it says)
    finished: int = 0  # of those, the ones with a final outcome
    log: list[str] = field(default_factory=list)  # the gate's reports, a repeated one kept once
    result: GateResult | None = None
    problem: str = ""
    finished_event: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def done(self) -> bool:
        return self.finished_event.is_set()

    def report(self, event: GateProgress) -> None:
        with self._lock:
            self.total, self.finished = event.total, event.finished
            if event.message != "done" and (not self.log or self.log[-1] != event.message):
                self.log.append(event.message)

    def finish(self, result: GateResult | None = None, problem: str = "") -> None:
        with self._lock:
            self.result, self.problem = result, problem
        self.finished_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the job is done (for callers that must not poll)."""
        return self.finished_event.wait(timeout)

    def answer(self) -> dict[str, Any]:
        """The job as the page's script reads it."""
        with self._lock:
            result = self.result
            return {
                "done": self.done,
                "total": self.total,
                "finished": self.finished,
                "log": list(self.log),
                "status": result.status if result else "",
                "summary": result.summary() if result else "",
                "results": [_row(r) for r in (result.results if result else ())],
                "problem": self.problem,
            }


def _row(result: SendResult) -> dict[str, str]:
    return {
        "template": result.template,
        "code": result.code,
        "to": result.recipient,  # masked
        "outcome": result.outcome.value,
        "proof": result.proof.value,
        "detail": result.detail,
    }


class SendJobs:
    """The console's test sends, by id; at most one running per channel."""

    def __init__(self, kept: int = KEPT) -> None:
        self._jobs: OrderedDict[str, SendJob] = OrderedDict()
        self._kept = kept
        self._lock = threading.Lock()

    def get(self, job_id: str) -> SendJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, channel: str, run: Run) -> SendJob:
        """A new job running ``run`` (which reports progress to the callable it is given), or the
        channel's job still running: a second click does not send twice."""
        with self._lock:
            running = next((j for j in self._jobs.values() if j.channel == channel and not j.done), None)
            if running is not None:
                return running
            job = SendJob(id=secrets.token_urlsafe(8), channel=channel)
            self._jobs[job.id] = job
            while len(self._jobs) > self._kept:
                self._jobs.popitem(last=False)
        threading.Thread(target=_run, args=(job, run), name=f"test-send-{channel}", daemon=True).start()
        return job


def _run(job: SendJob, run: Run) -> None:
    try:
        job.finish(result=run(job.report))
    except SmsopsError as error:
        job.finish(problem=redact(f"{error.message} ({error.hint})" if error.hint else error.message))
    except Exception as error:  # a thread has no CLI catch-all: say it on the page, redacted, in one line
        job.finish(problem=redact(f"internal error: {type(error).__name__}: {error}"))
