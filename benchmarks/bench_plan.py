"""Benchmark: `smsops plan` for 1,000 templates on one channel against the emulator with 20 ms
injected latency per request. Reports wall time (whole process) and API calls by operation.

    python benchmarks/bench_plan.py [--templates 1000] [--latency-ms 20] [--runs 3]

Targets (issue 4): calls <= ceil(N / 50) + 5 (list pages, never a GET per template); wall < 1.5 s.
The account already holds an approved, live version of every template, so listing returns N items.

The emulator account sets no API rate limits, so the client is told the same through
SMSOPS_API_RATES (see reconciler.providers.ratelimit); ``--published-rates`` keeps Alibaba's published
limits instead (QuerySmsTemplateList 10 QPS makes 20 pages take ~2 s on their own).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.config.load import load_config  # noqa: E402
from reconciler.providers.base import ReviewStatus  # noqa: E402
from reconciler.reconcile.desired import desired_template  # noqa: E402
from reconciler.reconcile.rollout import LIVE  # noqa: E402
from reconciler.sandbox.server import start  # noqa: E402
from reconciler.sandbox.store.account import Sandbox  # noqa: E402
from tests.configrepo import SANDBOX_KEY, ConfigRepo  # noqa: E402

KEY_ID, KEY_SECRET = "LTAI5tBenchmarkKey0001", "benchmark-secret-0001"
UNLIMITED = "alibaba:*=1000/50"  # the emulator account limits nothing


def build(root: Path, url: str, templates: int) -> ConfigRepo:
    repo = ConfigRepo(root)
    repo.secrets(KEY_ID, KEY_SECRET)
    repo.channel("bench", "alibaba", url, maxSegments=4)
    for index in range(templates):
        repo.template(f"notice-{index:04d}", f"Order {{{{ order }}}} moved to stage {index}", order="A-1001")
    return repo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--published-rates", action="store_true", help="pace at Alibaba's published limits")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp) / "state")
        running = start(sandbox, {"alibaba": 0})
        try:
            account = sandbox.create_account(
                "bench", provider="alibaba", access_keys={KEY_ID: KEY_SECRET}, signatures=[("OnePro", "approved")]
            )
            account.configure(create_daily_quota=args.templates + 100, review_delay_s=0)
            repo = build(Path(tmp) / "cfg", running.url("alibaba"), args.templates)
            config, _ = load_config(repo.root)
            channel = config.channels[0].resource
            for located in config.templates:
                want = desired_template(located.resource, channel).request
                record = account.create_template(
                    name=want.name,
                    content=want.content,
                    kind=want.kind,
                    remark=want.remark,
                    code_factory=lambda n: f"SMS_{470_000_000 + n}",
                )
                account.approve(record.code)
            live_marked = _mark_live(running.url("alibaba"), [t.code for t in account.templates()])
            assert all(t.status is ReviewStatus.APPROVED for t in account.templates())
            account.configure(faults={"latency": {"rate": 1.0, "latency_s": args.latency_ms / 1000, "seed": 1}})

            env = {**os.environ, "SOPS_AGE_KEY_FILE": str(SANDBOX_KEY), "SOPS_DISABLE_VERSION_CHECK": "1"}
            env.pop("SMSOPS_API_RATES", None)
            if not args.published_rates:
                env["SMSOPS_API_RATES"] = UNLIMITED
            walls: list[float] = []
            calls: dict[str, int] = {}
            for _ in range(args.runs):
                before = account.counters()
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "reconciler", "plan", str(repo.root), "--output", "json"],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=False,
                )
                walls.append(time.perf_counter() - started)
                if done.returncode != 0:
                    print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
                    return 1
                after = account.counters()
                calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
        finally:
            running.close()

    ops = {k: v for k, v in calls.items() if k.startswith("op:")}
    total = sum(ops.values())
    budget = math.ceil(args.templates / 50) + 5
    pacing = "published Alibaba limits" if args.published_rates else f"SMSOPS_API_RATES={UNLIMITED}"
    print(f"templates={args.templates} latency={args.latency_ms:.0f}ms live-tagged={live_marked} pacing: {pacing}")
    print(f"plan wall time: median {statistics.median(walls):.3f}s (runs: {', '.join(f'{w:.3f}' for w in walls)})")
    print(f"API calls: {total} (budget {budget}): " + ", ".join(f"{k[3:]}={v}" for k, v in sorted(ops.items())))
    return 0 if total <= budget else 1


def _mark_live(url: str, codes: list[str]) -> int:
    """Tag versions live through the real adapter (TagResources), the way apply's promote does."""
    from datetime import UTC, datetime

    from reconciler.providers.alibaba.adapter import AlibabaProvider
    from reconciler.providers.ratelimit import Pacer, rates_from_env

    # Setup, not the measured part: pace at the emulator's (absent) limits, not Alibaba's 10 QPS.
    pacer = Pacer(
        "alibaba", limits=rates_from_env("alibaba", {"SMSOPS_API_RATES": UNLIMITED.replace("*", "TagResources")})
    )
    provider = AlibabaProvider(
        access_key_id=KEY_ID, access_key_secret=KEY_SECRET, sign_name="OnePro", endpoint=url, pacer=pacer
    )
    try:
        when = datetime.now(UTC).isoformat(timespec="seconds")
        for code in codes:
            provider.set_tags(code, {LIVE: when})
    finally:
        provider.close()
    return len(codes)


if __name__ == "__main__":
    raise SystemExit(main())
