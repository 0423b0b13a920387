"""Benchmark: `smsops apply --auto-approve` creating 200 templates against an emulator account whose
CreateSmsTemplate rate limit is 20/s (a real limit: over it the emulator answers ``Throttling.User``
with ``x-acs-retry-after``). Reports creates/s as the provider saw them, the % of the limit, how
many requests the emulator throttled, and whether any error reached the user.

    python benchmarks/bench_apply.py [--templates 200] [--limit 20] [--pace 19]

Target (issue 5): >= 90 % of the limit, no throttling error surfacing. The client is told the
account's limit through SMSOPS_API_RATES (reconciler.providers.ratelimit); ``--pace`` is the rate it
paces at (default 95 % of the limit: a client at exactly the limit is throttled by network jitter).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.sandbox.server import start  # noqa: E402
from reconciler.sandbox.store.account import Sandbox  # noqa: E402
from tests.configrepo import SANDBOX_KEY, ConfigRepo  # noqa: E402

KEY_ID, KEY_SECRET = "LTAI5tBenchmarkKey0002", "benchmark-secret-0002"
CREATE = "CreateSmsTemplate"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=200)
    parser.add_argument("--limit", type=float, default=20.0, help="the emulator's CreateSmsTemplate limit (/s)")
    parser.add_argument("--pace", type=float, default=None, help="client pacing (/s); default 95 %% of --limit")
    args = parser.parse_args()
    pace = args.pace if args.pace is not None else args.limit * 0.95

    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp) / "state")
        running = start(sandbox, {"alibaba": 0})
        try:
            account = sandbox.create_account(
                "bench", provider="alibaba", access_keys={KEY_ID: KEY_SECRET}, signatures=[("OnePro", "approved")]
            )
            # Review takes an hour: this run only creates (nothing to promote).
            account.configure(
                create_daily_quota=args.templates + 100, review_delay_s=3600, api_rates={CREATE: args.limit}
            )
            repo = ConfigRepo(Path(tmp) / "cfg")
            repo.secrets(KEY_ID, KEY_SECRET)
            repo.channel("bench", "alibaba", running.url("alibaba"), maxSegments=4)
            for index in range(args.templates):
                repo.template(f"notice-{index:04d}", f"Order {{{{ order }}}} moved to stage {index}", order="A-1")
            env = {
                **os.environ,
                "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY),
                "SOPS_DISABLE_VERSION_CHECK": "1",
                "SMSOPS_API_RATES": f"alibaba:{CREATE}={pace:g}",
            }
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "reconciler", "apply", str(repo.root), "--auto-approve", "--output", "json"],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            wall = time.perf_counter() - started
            templates = account.templates()
            counters = account.counters()
        finally:
            running.close()

    stamps = sorted(t.created_at for t in templates)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    rate = (len(stamps) - 1) / span if span > 0 else 0.0
    surfaced = done.returncode != 0 or "Throttling" in done.stdout + done.stderr
    names = [t.name for t in templates]
    print(f"templates={args.templates} limit={args.limit:g}/s client pace={pace:g}/s exit={done.returncode}")
    print(f"created {len(templates)} (distinct names {len(set(names))}) in {span:.2f}s: {rate:.2f} creates/s")
    print(f"= {100 * rate / args.limit:.1f} % of the limit; whole apply process {wall:.2f}s")
    print(
        f"CreateSmsTemplate requests {counters.get('op:' + CREATE, 0)}, throttled by the emulator "
        f"{counters.get('throttled:rate', 0)}; throttling error surfaced to the user: {'yes' if surfaced else 'no'}"
    )
    if surfaced:
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    ok = len(templates) == args.templates and len(set(names)) == args.templates and not surfaced
    return 0 if ok and rate >= 0.9 * args.limit else 1


if __name__ == "__main__":
    raise SystemExit(main())
