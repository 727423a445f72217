"""Workers as real processes (`preserve worker`), on an archive whose three servers the
tests start; and what their jobs stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from preserve.store.database import Store
from tests.support.servers import S3Env

PRESERVE = str(Path(sys.executable).parent / "preserve")
# A dead worker's job goes to another once its heartbeat is this old (docs/servers.md).
HEARTBEAT = 2
DEADLINE = 8  # the longest a fetch may take: a killed worker's host slots free after it


@dataclass
class Servers:
    """An archive folder on PostgreSQL, the S3 store and Redis."""

    path: Path
    dsn: str
    s3: S3Env
    redis_url: str
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.path.mkdir()
        (self.path / "preserve.toml").write_text(
            "allow_private = true\n"
            f"broker_heartbeat = {HEARTBEAT}\n"
            "job_urls = 2\n"
            "timeout = 5\n"
            f"deadline = {DEADLINE}\n"
            "warc_store_wait = 60\n"
        )
        self.env = {
            "PRESERVE_ARCHIVE": str(self.path),
            "PRESERVE_DATABASE": self.dsn,
            "PRESERVE_WARC_STORE": self.s3.url,
            "PRESERVE_BROKER": self.redis_url,
            **{k: v for k, v in os.environ.items() if k.startswith("AWS_")},
        }

    def store(self) -> Store:
        return Store(self.dsn)

    def scalar(self, sql: str, params: tuple[object, ...] = ()) -> object:
        store = self.store()
        try:
            (row,) = store.query(sql, params)
            return next(iter(row.values()))
        finally:
            store.close()


class Workers:
    """`preserve worker` processes on an archive, each in a process group of its own."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, threads: int = 2) -> subprocess.Popen[bytes]:
        log = open(self.servers.path.parent / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [PRESERVE, "worker", "--threads", str(threads)],
            env={**os.environ, **self.servers.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """kill -9, the whole process group (its extraction workers too)."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")
            for p in sorted(self.servers.path.parent.glob("worker-*.log"))
        )


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, logs: Callable[[], str]
) -> None:
    """Poll `check` until true; fail with the workers' logs after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout} s; workers said:\n{logs()}")
        time.sleep(0.1)


def checks_per_url(servers: Servers, run_id: int) -> dict[str, int]:
    """How many checks of each URL run `run_id` stored."""
    store = servers.store()
    try:
        rows = store.query(
            "SELECT url, count(*) AS n FROM checks WHERE run_id = ? GROUP BY url", (run_id,)
        )
        return {r["url"]: int(r["n"]) for r in rows}
    finally:
        store.close()
