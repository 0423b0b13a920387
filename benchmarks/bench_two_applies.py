"""Benchmark: two applies started together from two clones, round after round, with faults of every
kind at the provider, the published config and the apply lease in S3 (moto's server). The scenario is
``tests.concurrency.rounds``; here each apply is a fresh process (what a CI runner pays), not a fork
of a warmed-up parent as in the test. Prints the same figures as the test and the wall time.

    python benchmarks/bench_two_applies.py [--rounds 20] [--rate 0.2] [--launcher fresh|zygote] [--without-lease]

``--without-lease``: the applies take no lease (as with a store that ignores conditional writes), so
they register versions twice and the clean-up alone must converge.

Target (issue 13): 0 duplicates left after the next apply, 0 lost changes, 0 invalid reads of the
published document, no traceback. Exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from reconciler.sandbox.store.account import ManualClock  # noqa: E402
from reconciler.sandbox.testing import SandboxFactory  # noqa: E402
from tests.concurrency.rounds import APPLY_ENV, FreshLauncher, TwoApplies, ZygoteLauncher  # noqa: E402


def aws_environment(endpoint: str) -> dict[str, str]:
    """Fake credentials from the normal chain reaching moto for S3 (as the tests' ``moto`` fixture)."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.2, help="probability of each fault kind per request")
    parser.add_argument("--launcher", choices=("fresh", "zygote"), default="fresh")
    parser.add_argument("--without-lease", action="store_true", help="the applies take no lease")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10):
        pass
    os.environ.update(aws_environment(endpoint))
    for name in ("AWS_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    env = {**os.environ, **APPLY_ENV, "PYTHONPATH": str(ROOT)}
    launcher = ZygoteLauncher(env) if args.launcher == "zygote" else FreshLauncher(env)
    with tempfile.TemporaryDirectory() as tmp:
        factory = SandboxFactory(Path(tmp) / "sandbox-state", ManualClock(time.time()))
        try:
            sandbox = factory.start("alibaba")
            s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint)
            started = time.perf_counter()
            two = TwoApplies(
                Path(tmp),
                account=sandbox.account,
                url=sandbox.url(),
                keys=sandbox.credentials,
                s3=s3,
                launcher=launcher,
                lease=not args.without_lease,
            )
            for round_ in range(1, args.rounds + 1):
                two.round(round_, args.rate)
            wall = time.perf_counter() - started
        finally:
            launcher.close()
            factory.close()
            moto.stop()
    figures = two.figures
    lease = "no lease" if args.without_lease else "the apply lease in S3"
    print(f"launcher {args.launcher}, fault rate {args.rate:.0%} per kind, {lease}")
    for line in figures.lines():
        print(line)
    applies = max(figures.applies, 1)
    print(f"wall time {wall:.1f} s ({wall / max(figures.rounds, 1):.2f} s a round, {wall / applies:.2f} s an apply)")
    tracebacks = sum("Traceback" in done.out + done.err for done in two.outputs)
    if tracebacks or figures.duplicates_left or figures.lost or figures.invalid or figures.problems:
        print(f"MISSED: {tracebacks} tracebacks; " + "; ".join(figures.problems[:5]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
