"""Time `smsops validate` as a whole process on a synthetic config (default 5,000 templates, 5 channels).

    python benchmarks/bench_validate.py [--templates N] [--channels M] [--runs 5] [--budget 1.0]

Three figures, each the wall-clock time of a fresh ``python -m reconciler validate`` process
(interpreter start, imports, load, lint, render):
- cold: the first run, with an empty parse cache (what a fresh CI checkout pays);
- warm: median of ``--runs`` runs once the cache holds the parse (a developer re-running);
- no cache: median of ``--runs`` runs with SMSOPS_NO_CACHE=1 (every run parses everything).
Exits 1 when the no-cache median exceeds ``--budget`` seconds: that is the honest figure (a CI
checkout has no cache; the cache only ever makes a run faster).
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
        cached = {**os.environ, "SMSOPS_CACHE_DIR": str(Path(temporary) / "cache")}
        cached.pop("SMSOPS_NO_CACHE", None)
        uncached = {**os.environ, "SMSOPS_NO_CACHE": "1"}
        cold = run_once(config, cached)
        warm = statistics.median(run_once(config, cached) for _ in range(args.runs))
        no_cache = statistics.median(run_once(config, uncached) for _ in range(args.runs))
    size = f"{args.templates} templates, {args.channels} channels"
    print(f"smsops validate ({size}): cold {cold:.2f} s, warm {warm:.2f} s (median of {args.runs}), "
          f"no cache {no_cache:.2f} s (median of {args.runs}); budget {args.budget:.2f} s")  # fmt: skip
    return 0 if no_cache <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
