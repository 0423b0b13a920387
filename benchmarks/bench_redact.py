"""Benchmark: redaction of log records once decrypted proof files are registered.

    python benchmarks/bench_redact.py [--files 5] [--kib 500]

A file is registered in several spellings of kilobytes each (``register_file``); every log record of
the process passes through ``redact``. Figures: the time to register the files, and the median
``redact`` time of an ordinary SDK log line (before and after) and of a request body that carries one file (masked).
Target: an ordinary line stays under 0.2 ms with the files registered.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time

from reconciler.secrets.redact import REDACTED, redact, register_file, register_secret

LINE = "send: b'POST /?Action=SendSms&PhoneNumbers=%2B8613800000001&SignName=OnePro HTTP/1.1\\r\\nHost: 127.0.0.1'"


def median_seconds(text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        redact(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--kib", type=int, default=500)
    args = parser.parse_args()
    for index in range(50):
        register_secret(f"bench-secret-{index:04d}-{os.urandom(8).hex()}")
    bare_s = median_seconds(LINE, 2000)
    files = [b"\x89PNG\r\n\x1a\n" + os.urandom(args.kib * 1024) for _ in range(args.files)]
    started = time.perf_counter()
    for content in files:
        register_file(content)
    registered = time.perf_counter() - started
    body = f'{{"ProofImage": "{base64.b64encode(files[-1]).decode()}"}}'
    assert redact(body) == f'{{"ProofImage": "{REDACTED}"}}'
    line_s, body_s = median_seconds(LINE, 2000), median_seconds(body, 50)
    print(f"register {args.files} files of {args.kib} KiB: {registered * 1000:.1f} ms")
    print(f"redact an ordinary log line: median {bare_s * 1e6:.1f} µs with no file registered")
    print(f"redact an ordinary log line: median {line_s * 1e6:.1f} µs with the files (target < 200 µs)")
    print(f"redact a body carrying a {len(body) // 1024} KiB file: median {body_s * 1000:.2f} ms")
    return 0 if line_s < 0.0002 else 1


if __name__ == "__main__":
    sys.exit(main())
