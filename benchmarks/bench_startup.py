"""Benchmark: start-up cost of `smsops --help` and `smsops validate sms-config` as whole processes.

    python benchmarks/bench_startup.py [--runs 10]

Target (issue 4): `smsops --help` under 0.3 s. Median wall time of several runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(args: list[str], runs: int) -> float:
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=ROOT, capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    help_s = timed(["--help"], args.runs)
    validate_s = timed(["validate", "sms-config"], args.runs)
    print(f"smsops --help: median {help_s:.3f}s (target < 0.300s)")
    print(f"smsops validate sms-config: median {validate_s:.3f}s")
    return 0 if help_s < 0.3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
