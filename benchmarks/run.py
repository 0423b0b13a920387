"""Run every ``benchmarks/bench_*.py`` in turn and print their figures (``make bench``).

    python benchmarks/run.py [NAME ...]      # e.g. validate plan; default: all of them

Each benchmark runs as its own process with this interpreter, one after the other (they time
whole processes, so running them side by side would skew each other). The machine's load average
is printed first: figures taken on a busy machine are not comparable with quiet ones. Exits 1 if
any benchmark failed or missed its target.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        wanted = {f"bench_{name.removeprefix('bench_').removesuffix('.py')}.py" for name in argv}
        unknown = wanted - {script.name for script in scripts}
        if unknown:
            print(f"no such benchmark: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        scripts = [script for script in scripts if script.name in wanted]
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} CPUs", flush=True)
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(script)], check=False)
        print(f"   ({time.perf_counter() - started:.0f} s, exit {done.returncode})", flush=True)
        if done.returncode != 0:
            failed.append(script.name)
    print(f"{len(scripts) - len(failed)} passed, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
