"""Start `smsops` runs cheaply and at the same moment: a warmed-up parent that forks them.

    python -m tests.concurrency.zygote          # serve: one JSON request a line on stdin
    python -m tests.concurrency.zygote JOB_JSON # run one job in this (fresh) process, exit its code

A request is ``{"jobs": [job, ...]}``; the zygote forks one child per job, lets them all go at once
(each waits on one byte of a shared pipe, written only when every child exists), waits for them and
answers ``{"codes": [...]}`` on one line. A job is ``{"argv": [...], "env": {...}, "lease_wait": s,
"out": path, "err": path}``: the child sets ``env``, sends its stdout and stderr to the files and runs
``reconciler.cli.main(argv)`` in-process, as the installed `smsops` would.

The zygote imports the whole apply path (the CLI, the Alibaba SDK, boto3 and the S3 model) once,
single-threaded, before it forks: a child costs milliseconds to start instead of a fresh
interpreter's import time. ``prepare`` makes the same test-only settings in either mode: the gate
polls every 10 ms (the sandbox delivers at once), no client-side per-number send limit (every test
send goes to one number), and the apply lease polled every 20 ms with the job's ``lease_wait`` (or,
with ``"lease": false``, no lease at all: two applies that do not see each other; ``"meet": dir``
and ``"parties": n`` then make each run wait after planning until n runs have planned).
"""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

LEASE_POLL_S = 0.02


def warm_up() -> None:
    """Import what an apply imports (the SDKs are imported lazily, when a channel opens), build the
    pydantic models that wait for their first use, make one SSL context and load the S3 model once:
    each of a child's clients would otherwise read the CA certificates, and each boto3 session read
    and parse the model files, again (as in a fresh process)."""
    import alibabacloud_dysmsapi20170525.client  # noqa: F401
    import boto3
    import botocore.loaders
    import botocore.session
    import darabonba.core
    from pydantic import BaseModel

    import reconciler.cli
    import reconciler.commands.apply
    import reconciler.providers.alibaba.adapter
    import reconciler.publish.export
    import reconciler.verify.gate  # noqa: F401

    _complete_models(BaseModel)
    context = ssl.create_default_context()
    shared = {**vars(ssl), "create_default_context": lambda: context}
    darabonba.core.ssl = types.SimpleNamespace(**shared)  # type: ignore[attr-defined]
    loader = botocore.loaders.create_loader()
    botocore.session.create_loader = lambda *_: loader  # type: ignore[attr-defined]
    boto3.session.Session().client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")


def _complete_models(base: type) -> None:
    """Build every pydantic model whose schema waits for its first use (forward references)."""
    for model in base.__subclasses__():
        if not getattr(model, "__pydantic_complete__", True):
            model.model_rebuild(raise_errors=False)  # type: ignore[attr-defined]
        _complete_models(model)


def prepare(job: dict[str, Any]) -> None:
    import reconciler.publish.lease as lease
    import reconciler.verify.gate as gate
    from reconciler.providers.alibaba.adapter import AlibabaProvider

    os.environ.update(job.get("env", {}))
    gate.DEFAULT_POLL_INTERVAL_S = 0.01
    AlibabaProvider.number_limits = lambda self, kind: ()  # type: ignore[method-assign]
    lease.WAIT_S = float(job.get("lease_wait", 0.0))
    lease.POLL_S = LEASE_POLL_S
    if not job.get("lease", True):
        import reconciler.commands.apply as apply

        apply.channel_leases = _no_leases  # type: ignore[assignment]
        if job.get("meet"):
            apply.compute_plan = _meeting(apply.compute_plan, Path(job["meet"]), int(job["parties"]))  # type: ignore[assignment]


def _meeting(compute_plan: Callable[..., Any], where: Path, parties: int) -> Callable[..., Any]:
    """``compute_plan``, then wait (up to 5 s) until ``parties`` runs have planned: none of them
    sees what the others are about to do, as when two runners start the same second."""

    def planned(*args: Any, **kwargs: Any) -> Any:
        plan = compute_plan(*args, **kwargs)
        (where / str(os.getpid())).touch()
        deadline = time.monotonic() + 5
        while len(list(where.iterdir())) < parties and time.monotonic() < deadline:
            time.sleep(0.005)
        return plan

    return planned


@contextlib.contextmanager
def _no_leases(stores: Any, **_: Any) -> Iterator[dict[str, Any]]:
    """As a target that ignores conditional writes would be: every apply believes it holds the lease."""
    yield {}


def run(job: dict[str, Any]) -> int:
    from reconciler.cli import main

    prepare(job)
    return main(list(job["argv"]))


def redirect(job: dict[str, Any]) -> None:
    """stdin from /dev/null, stdout and stderr to the job's files."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    out = os.open(job["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(job["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for source, target in ((devnull, 0), (out, 1), (err, 2)):
        os.dup2(source, target)
        os.close(source)


def _child(job: dict[str, Any], go: int) -> None:
    """In the forked child: wait for the go byte, run the job with its own stdio, exit its code."""
    code = 70  # EX_SOFTWARE, should the job itself blow up
    try:
        redirect(job)
        os.read(go, 1)
        code = run(job)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    warm_up()
    for line in sys.stdin:
        jobs = json.loads(line)["jobs"]
        go_read, go_write = os.pipe()
        children = []
        for job in jobs:
            pid = os.fork()
            if pid == 0:
                os.close(go_write)
                _child(job, go_read)
            children.append(pid)
        os.close(go_read)
        os.write(go_write, b"g" * len(children))  # all forked: let them go together
        os.close(go_write)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
        sys.stdout.write(json.dumps({"codes": codes}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        one = json.loads(sys.argv[1])
        redirect(one)
        sys.exit(run(one))
    serve()
