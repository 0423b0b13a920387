"""Time `smsops validate` as a whole process on a synthetic config (default 5,000 templates, 5 channels).

    python benchmarks/bench_validate.py [--templates N] [--channels M] [--runs 5] [--budget 1.0]

The figure is the median wall-clock time of ``--runs`` fresh ``python -m reconciler validate``
processes (interpreter start, imports, load, lint, render), after one unmeasured run that warms the
operating system's file cache. Exits 1 when it exceeds ``--budget`` seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # a sibling script, not a package


def run_once(config: Path, environ: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(config)],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"validate failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=5000)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smsops-bench-") as temporary:
        config = Path(temporary) / "config"
        generate(config, templates=args.templates, channels=args.channels)
        run_once(config, dict(os.environ))
        median = statistics.median(run_once(config, dict(os.environ)) for _ in range(args.runs))
    size = f"{args.templates} templates, {args.channels} channels"
    print(f"smsops validate ({size}): median {median:.2f} s of {args.runs} runs; budget {args.budget:.2f} s")
    return 0 if median <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
