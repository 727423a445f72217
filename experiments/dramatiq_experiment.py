"""Dramatiq with Redis: acks, redelivery after kill -9, per-host concurrency, results."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import dramatiq
import redis

from tests.support.servers import RedisServer

ROOT = Path(__file__).resolve().parent.parent
LOGS = Path(tempfile.gettempdir()) / "preserve-dramatiq-logs"  # the workers' own logs


class Worker:
    """`dramatiq experiments.dq_actors` as its own process group."""

    def __init__(self, env: dict[str, str], threads: int = 2, name: str = "w") -> None:
        self.name = name
        LOGS.mkdir(exist_ok=True)
        self.log = open(LOGS / f"worker-{name}.log", "ab")  # noqa: SIM115
        began = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "experiments.dq_actors"]
            + ["--processes", "1", "--threads", str(threads), "--path", str(ROOT)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started = began

    def kill9(self) -> None:
        """SIGKILL to the whole group: the main process and its worker process, as a host dying."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.log.close()


def wait_until(check: Callable[[], bool], timeout: float) -> float | None:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if check():
            return time.monotonic() - began
        time.sleep(0.05)
    return None


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def entries(client: redis.Redis, key: str, task: str | None = None) -> list[list[str]]:
    rows = [text(item).split("|") for item in client.lrange(key, 0, -1)]
    return [row for row in rows if task is None or row[0] == task]


def load_actors(env: dict[str, str]) -> ModuleType:
    """Import the actor module with the broker settings of this run (a fresh broker each time)."""
    os.environ.update(env)
    sys.modules.pop("experiments.dq_actors", None)
    import experiments.dq_actors as actors

    return actors


def ack_timing(url: str, client: redis.Redis) -> None:
    print("acks")
    env = {"DQ_REDIS_URL": url}
    actors = load_actors(env)
    worker = Worker(env, name="ack")
    actors.sleepy.send("ack", 2.0)
    wait_until(lambda: bool(entries(client, "started", "ack")), 30)
    ack_sets = [text(k) for k in client.keys("dramatiq:__acks__.*")]
    in_flight = sum(client.scard(k) for k in ack_sets)
    print(
        f"  while the actor runs: {in_flight} message(s) in {ack_sets} (unacked), "
        f"queue length {client.llen('dramatiq:default')}"
    )
    wait_until(lambda: bool(entries(client, "done", "ack")), 30)
    time.sleep(0.3)
    in_flight = sum(client.scard(k) for k in client.keys("dramatiq:__acks__.*"))
    print(
        f"  after it returned: {in_flight} unacked; message body kept: "
        f"{client.hlen('dramatiq:default.msgs')}"
    )
    worker.stop()


def redelivery(
    url: str, client: redis.Redis, heartbeat_ms: int, maintenance: int, cap: float
) -> None:
    client.flushall()
    env = {
        "DQ_REDIS_URL": url,
        "DQ_HEARTBEAT_MS": str(heartbeat_ms),
        "DQ_MAINTENANCE": str(maintenance),
    }
    actors = load_actors(env)
    first = Worker(env, name=f"kill-{heartbeat_ms}-{maintenance}-a")
    actors.sleepy.send("victim", 5.0)
    wait_until(lambda: bool(entries(client, "started", "victim")), 30)
    time.sleep(0.5)
    first.kill9()
    killed = time.monotonic()
    second = Worker(env, name=f"kill-{heartbeat_ms}-{maintenance}-b")
    restarted = time.monotonic()
    waited = wait_until(lambda: len(entries(client, "started", "victim")) >= 2, cap)
    done = wait_until(lambda: bool(entries(client, "done", "victim")), 30 if waited else 0.1)
    pids = {row[1] for row in entries(client, "started", "victim")}
    label = f"heartbeat_timeout={heartbeat_ms} ms, maintenance_chance={maintenance}/1e6"
    if waited is None:
        print(f"  {label}: NOT redelivered within {cap:.0f} s of the kill")
    else:
        print(
            f"  {label}: redelivered {waited + (restarted - killed):.1f} s after "
            f"kill -9 (to another pid: {len(pids) == 2}), then completed: {done is not None}"
        )
    second.stop()


def long_task_not_duplicated(url: str, client: redis.Redis) -> None:
    client.flushall()
    env = {"DQ_REDIS_URL": url, "DQ_HEARTBEAT_MS": "3000", "DQ_MAINTENANCE": "1000000"}
    actors = load_actors(env)
    workers = [Worker(env, name="long-a"), Worker(env, name="long-b")]
    actors.sleepy.send("long", 12.0)
    wait_until(lambda: bool(entries(client, "done", "long")), 40)
    time.sleep(1)
    starts = entries(client, "started", "long")
    print(
        f"  a 12 s message, heartbeat_timeout 3 s, maintenance always, two live workers: "
        f"started {len(starts)} time(s)"
    )
    for worker in workers:
        worker.stop()


def rate_limits(url: str, client: redis.Redis, actor_name: str) -> None:
    client.flushall()
    env = {"DQ_REDIS_URL": url, "DQ_HOST_LIMIT": "2"}
    actors = load_actors(env)
    workers = [
        Worker(env, threads=4, name=f"{actor_name}-a"),
        Worker(env, threads=4, name=f"{actor_name}-b"),
    ]
    time.sleep(1.5)  # let both start, so that both compete
    actor = getattr(actors, actor_name)
    began = time.monotonic()
    for i in range(16):
        actor.send(f"a{i}", "a.example", 0.3)
    for i in range(8):
        actor.send(f"b{i}", "b.example", 0.3)
    finished = wait_until(lambda: len(entries(client, "done")) >= 24, 180)
    elapsed = time.monotonic() - began
    seen = {
        host: max((int(row[0]) for row in entries(client, f"concurrency:{host}")), default=0)
        for host in ("a.example", "b.example")
    }
    pids = {row[1] for row in entries(client, "concurrency:a.example")}
    print(
        f"  {actor_name}: 16 x 0.3 s on a.example + 8 on b.example, limit 2 per host, "
        f"2 processes x 4 threads: max concurrency seen {seen}, "
        f"all done={finished is not None} in {elapsed:.1f} s (ideal 2.4 s), "
        f"a.example served by {len(pids)} processes, "
        f"waits={int(client.get('waits') or 0)}, "
        f"RateLimitExceeded={int(client.get('rate_limited') or 0)}"
    )
    for worker in workers:
        worker.stop()


def leaked_slot(url: str, client: redis.Redis) -> None:
    client.flushall()
    env = {"DQ_REDIS_URL": url, "DQ_HOST_LIMIT": "1"}
    actors = load_actors(env)
    worker = Worker(env, name="leak")
    actors.polite_wait.send("holder", "c.example", 30.0)
    wait_until(lambda: bool(entries(client, "concurrency:c.example")), 30)
    worker.kill9()
    value = client.get("host:c.example")
    ttl = client.pttl("host:c.example")
    print(
        f"  kill -9 while holding the only slot of c.example: counter stays {value!r}, "
        f"expires in {ttl / 1000:.0f} s (the limiter's ttl); until then c.example gets no capture"
    )


def results(url: str, client: redis.Redis) -> None:
    client.flushall()
    env = {"DQ_REDIS_URL": url}
    actors = load_actors(env)
    worker = Worker(env, name="results")
    first = actors.echo.send("warm").get_result(block=True, timeout=30000)
    began = time.monotonic()
    for i in range(20):
        assert actors.echo.send(str(i)).get_result(block=True, timeout=10000) == str(i)
    per = (time.monotonic() - began) / 20
    print(
        f"  Results middleware: send + get_result(block=True) round trip {per * 1000:.0f} ms "
        f"(first: {first})"
    )
    keys = [text(k) for k in client.keys("*")]
    print(f"  Redis keys now: {len(keys)}, e.g. {sorted(keys)[:2]} (results: md5 names, no prefix)")
    worker.stop()


def redis_restart(server: RedisServer, client: redis.Redis) -> None:
    """Redis down for 5 s under a running worker (no persistence: the queue is lost)."""
    env = {"DQ_REDIS_URL": server.url}
    actors = load_actors(env)
    worker = Worker(env, name="redis-restart")
    actors.sleepy.send("before", 0.1)
    wait_until(lambda: bool(entries(client, "done", "before")), 30)
    actors.sleepy.send_with_options(args=("queued", 0.1), delay=60_000)  # waiting in Redis
    server.stop()
    time.sleep(5)
    server.start()
    actors.sleepy.send("after", 0.1)
    waited = wait_until(lambda: bool(entries(client, "done", "after")), 60)
    print(
        f"  Redis stopped 5 s and started empty: the worker survived={worker.proc.poll() is None}, "
        f"took a new message after {waited if waited is None else round(waited, 1)} s; "
        f"the delayed message queued before is gone: {client.zcard('dramatiq:default.DQ') == 0}"
    )
    worker.stop()


def main() -> None:
    if sys.argv[1:] == ["--redis-restart"]:
        with RedisServer() as server:
            redis_restart(server, redis.Redis.from_url(server.url))
        return
    if sys.argv[1:] == ["--default-maintenance"]:
        # How long does redelivery take with dramatiq's default maintenance chance?
        with RedisServer() as server:
            client = redis.Redis.from_url(server.url)
            for _ in range(4):
                redelivery(server.url, client, 5000, 1000, 300)
        return
    print(f"dramatiq {dramatiq.__version__}, redis-py {redis.__version__}")
    with RedisServer() as server:
        print(f"redis-server started in {server.start_seconds * 1000:.0f} ms")
        client = redis.Redis.from_url(server.url)
        ack_timing(server.url, client)
        print("redelivery after kill -9 of the worker (its whole process group)")
        redelivery(server.url, client, 5000, 1_000_000, 60)
        redelivery(server.url, client, 15000, 1_000_000, 60)
        redelivery(server.url, client, 5000, 1000, 120)
        long_task_not_duplicated(server.url, client)
        print("per-host concurrency (ConcurrentRateLimiter, RedisBackend)")
        rate_limits(server.url, client, "polite_wait")
        rate_limits(server.url, client, "polite_raise")
        leaked_slot(server.url, client)
        print("results")
        results(server.url, client)


if __name__ == "__main__":
    main()
