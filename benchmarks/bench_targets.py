"""Benchmark: the cost of reaching an SSM or S3 publish target once per store, as an apply does
(each channel opens its target for the lease, the marks and the published config).

    python benchmarks/bench_targets.py [--stores 20]

Starts moto's server on loopback (fake credentials, nothing leaves the machine), then for each of
``--stores`` fresh ``SsmStore`` and ``S3Store`` objects reads one missing document: the first
call of a store includes making its boto3 client. Prints the median per store. Target: under
20 ms per store once the first client of the process is made (a boto3 session costs ~80 ms).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 0.020


def per_store(make: Callable[[], object], stores: int) -> tuple[float, float]:
    """(first store, median of the others): seconds from making a store to its first answer."""
    walls = []
    for _ in range(stores):
        started = time.perf_counter()
        store = make()
        store.read("config")  # type: ignore[attr-defined]
        walls.append(time.perf_counter() - started)
    return walls[0], statistics.median(walls[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=20)
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log, one line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_ENDPOINT_URL_SSM": endpoint,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        import boto3

        from reconciler.providers.aws.s3 import S3Store
        from reconciler.providers.aws.ssm import SsmStore

        boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint).create_bucket(
            Bucket="bench", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        # moto loads each service's backend on its first request: not what is measured here
        boto3.client("ssm", region_name="eu-west-1").describe_parameters()
        ok = True
        for name, make in (
            ("ssm", lambda: SsmStore("/bench/prod", region="eu-west-1")),
            ("s3", lambda: S3Store("bench", "smsops", "prod", region="eu-west-1", endpoint=endpoint)),
        ):
            first, median = per_store(make, args.stores)
            ok = ok and median < TARGET_S
            print(
                f"{name}: first store {first * 1000:.1f} ms, then median {median * 1000:.1f} ms per store "
                f"({args.stores} stores; target < {TARGET_S * 1000:.0f} ms)"
            )
    finally:
        server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
