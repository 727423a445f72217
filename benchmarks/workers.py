"""The latency web checked by 1, 2 and 4 `preserve worker` processes, on PostgreSQL, Redis and
an S3 store started here (tests/support/servers.py): throughput against the number of
workers, and the most requests any host was answering at once across all of them, which the
per-host limit must hold.

Each worker fetches two pages at a time (`--workers 2` given to the check), so that the
workers, not the web's politeness limit (2 per host x 8 hosts), are what a run is short of:
the web answers every request after 100 ms, so the run is bound by waiting, and adding
workers adds throughput even on two cores."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

FETCHES_PER_WORKER = 2
PER_HOST = 2
COUNTS = (1, 2, 4)


def busiest(ports: list[int]) -> int:
    """The most requests one host was answering at once since the last look (and reset)."""
    conn = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=10)
    try:
        conn.request("GET", "/__busiest")
        found = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    return max(found.values(), default=0)


def run(preserve: str, work: Path, urls: list[str], ports: list[int], log: Any) -> dict[str, Any]:
    """Capture the web onto the servers, then check it with 1, 2 and 4 workers."""
    from tests.support.servers import PostgresServer, RedisServer, S3Server

    with PostgresServer() as pg, RedisServer() as redis, S3Server() as s3:
        archive = work / "workers-archive"
        archive.mkdir(exist_ok=True)
        (archive / "preserve.toml").write_text(
            "allow_private = true\njob_urls = 10\nbroker_heartbeat = 5\n"
        )
        env = {
            **os.environ,
            **s3.env(),
            "PRESERVE_ARCHIVE": str(archive),
            "PRESERVE_DATABASE": pg.create_database(),
            "PRESERVE_WARC_STORE": f"s3://{s3.new_bucket_name()}/warcs",
            "PRESERVE_BROKER": redis.url,
        }
        listing = work / "workers-articles.txt"
        listing.write_text("\n".join(urls) + "\n")
        log("workers: capturing the latency web onto the servers")
        subprocess.run(
            [preserve, "capture", "--from-file", str(listing), "--quiet"],
            env={k: v for k, v in env.items() if k != "PRESERVE_BROKER"},
            check=True,
        )
        results: dict[str, Any] = {"per_host": PER_HOST, "fetches_per_worker": FETCHES_PER_WORKER}
        for count in COUNTS:
            log(f"workers: checking with {count} worker(s)")
            procs = [
                subprocess.Popen(
                    [preserve, "worker", "--threads", "1"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                for _ in range(count)
            ]
            try:
                time.sleep(1.0)  # connected and waiting for jobs
                busiest(ports)  # counting from now
                start = time.monotonic()
                done = subprocess.run(
                    [
                        preserve,
                        "check",
                        "--wait",
                        "--json",
                        "--workers",
                        str(FETCHES_PER_WORKER),
                        "--per-host",
                        str(PER_HOST),
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                wall = time.monotonic() - start
                checked = json.loads(done.stdout)["results"]
                results[str(count)] = {
                    "wall": wall,
                    "pages": len(checked),
                    "pages_per_second": len(checked) / wall,
                    "busiest_host": busiest(ports),
                    "outcomes": sorted({r["outcome"] for r in checked}),
                }
            finally:
                for proc in procs:
                    os.killpg(proc.pid, signal.SIGTERM)
                for proc in procs:
                    proc.wait(60)
        return results
