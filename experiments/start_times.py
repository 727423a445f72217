"""How long tests/support/servers.py takes to start, restart and stop each server (5 runs each)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from tests.support.servers import PostgresServer, RedisServer, S3Server


def spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"
    )


def measure(runs: int = 5) -> None:
    rows: dict[str, list[float]] = {}

    def add(label: str, value: float) -> None:
        rows.setdefault(label, []).append(value)

    def clock(fn: Callable[[], object]) -> float:
        began = time.perf_counter()
        fn()
        return time.perf_counter() - began

    for _ in range(runs):
        pg = PostgresServer()
        add("PostgreSQL initdb + start", clock(pg.start))
        add("PostgreSQL CREATE DATABASE", clock(pg.create_database))
        add("PostgreSQL restart -m fast", clock(pg.restart))
        add("PostgreSQL close (stop -m immediate, rm)", clock(pg.close))

        redis = RedisServer()
        add("Redis start", clock(redis.start))

        def bounce(server: RedisServer = redis) -> None:
            server.stop()
            server.start()

        add("Redis stop + start", clock(bounce))
        add("Redis close", clock(redis.close))

        s3 = S3Server()
        add("SeaweedFS weed mini start (S3 + volume server known)", clock(s3.start))
        add("SeaweedFS stop (SIGTERM, up to 5 s) ", clock(s3.stop))
        add("SeaweedFS start again, same folder", clock(s3.start))
        add("SeaweedFS close (SIGKILL, rm)", clock(s3.close))
    for label, values in rows.items():
        print(f"{label:55} {spread(values)}")


if __name__ == "__main__":
    measure()
