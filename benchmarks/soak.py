"""Soak: apply N templates (default 200) with 20 % injected faults of every kind (latency, throttle,
server error, reset, lost response) until a run exits 0; report the runs needed, duplicates, lost
templates and API calls. Each run is a separate `smsops apply --auto-approve` process.

    python benchmarks/soak.py [--templates 200] [--rate 0.2] [--max-runs 8] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.sandbox.server import start  # noqa: E402
from reconciler.sandbox.store.account import Sandbox  # noqa: E402
from tests.configrepo import SANDBOX_KEY, ConfigRepo  # noqa: E402

KEY_ID, KEY_SECRET = "LTAI5tSoakKey00000001", "soak-secret-0001"
KINDS = ("latency", "throttle", "server_error", "reset", "lost_response")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=200)
    parser.add_argument("--rate", type=float, default=0.2, help="probability of each fault kind per request")
    parser.add_argument("--max-runs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp) / "state")
        running = start(sandbox, {"alibaba": 0})
        try:
            account = sandbox.create_account(
                "soak", provider="alibaba", access_keys={KEY_ID: KEY_SECRET}, signatures=[("OnePro", "approved")]
            )
            faults = {kind: {"rate": args.rate, "seed": args.seed * 10 + i} for i, kind in enumerate(KINDS)}
            faults["latency"]["latency_s"] = 0.02
            faults["throttle"]["retry_after_ms"] = 50
            account.configure(create_daily_quota=args.templates + 100, review_delay_s=3600, faults=faults)
            repo = ConfigRepo(Path(tmp) / "cfg")
            repo.secrets(KEY_ID, KEY_SECRET)
            repo.channel("soak", "alibaba", running.url("alibaba"), maxSegments=4)
            for index in range(args.templates):
                repo.template(f"soak-{index:04d}", f"Ticket {{{{ ticket }}}} is in queue {index}", ticket="T-1")
            env = {
                **os.environ,
                "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY),
                "SOPS_DISABLE_VERSION_CHECK": "1",
                "SMSOPS_API_RATES": "alibaba:*=1000/50",  # the emulator account limits nothing
                "SMSOPS_RETRY_BASE_DELAY": "0.05",
            }
            command = [
                sys.executable,
                "-m",
                "reconciler",
                "apply",
                str(repo.root),
                "--auto-approve",
                "--output",
                "json",
            ]
            started = time.perf_counter()
            runs, exit_code, worst_duplicates = 0, 1, 0
            while runs < args.max_runs:
                runs += 1
                done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
                exit_code = done.returncode
                names = Counter(t.name for t in account.templates())
                worst_duplicates = max(worst_duplicates, sum(n - 1 for n in names.values()))
                print(f"run {runs}: exit {exit_code}, {len(names)} templates", flush=True)
                if "Traceback" in done.stderr:
                    print(done.stderr[-2000:], file=sys.stderr)
                    return 1
                if exit_code == 0:
                    break
            elapsed = time.perf_counter() - started
            names = Counter(t.name for t in account.templates())
            counters = account.counters()
        finally:
            running.close()

    logical = {name.split("~")[0] for name in names}
    lost = args.templates - len(logical & {f"soak-{i:04d}" for i in range(args.templates)})
    duplicates = sum(n - 1 for n in names.values())
    calls = {k[3:]: v for k, v in sorted(counters.items()) if k.startswith("op:")}
    fired = {k[6:]: v for k, v in sorted(counters.items()) if k.startswith("fault:")}
    print(f"templates={args.templates} fault rate={args.rate:g} per kind; {elapsed:.1f}s")
    print(
        f"runs needed: {runs} (last exit {exit_code}); duplicates: {duplicates} (worst after a run: {worst_duplicates})"
    )
    print(f"lost: {lost}; provider templates: {sum(names.values())}")
    print(f"API calls: {sum(calls.values())}: " + ", ".join(f"{k}={v}" for k, v in calls.items()))
    print("faults fired: " + ", ".join(f"{k}={v}" for k, v in fired.items()))
    return 0 if exit_code == 0 and duplicates == 0 and lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
