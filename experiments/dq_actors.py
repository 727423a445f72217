"""Dramatiq actors for dramatiq_experiment.py; the broker is configured from DQ_* variables."""

from __future__ import annotations

import os
import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.rate_limits import ConcurrentRateLimiter
from dramatiq.rate_limits.backends import RedisBackend as RateLimitBackend
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend as ResultsBackend

URL = os.environ.get("DQ_REDIS_URL", "redis://127.0.0.1:6379/0")
broker = RedisBroker(  # type: ignore[no-untyped-call]
    url=URL,
    heartbeat_timeout=int(os.environ.get("DQ_HEARTBEAT_MS", "60000")),
    maintenance_chance=int(os.environ.get("DQ_MAINTENANCE", "1000")),
)
broker.add_middleware(Results(backend=ResultsBackend(url=URL)))  # type: ignore[no-untyped-call]
dramatiq.set_broker(broker)

store = redis.Redis.from_url(URL)  # where the actors note what they did, for the experiment
limits = RateLimitBackend(url=URL)
LIMIT = int(os.environ.get("DQ_HOST_LIMIT", "2"))
TTL_MS = int(os.environ.get("DQ_LIMIT_TTL_MS", "900000"))


def note(key: str, value: str) -> None:
    store.rpush(key, f"{value}|{os.getpid()}|{time.time():.3f}")


@dramatiq.actor(max_retries=3)
def sleepy(task_id: str, seconds: float) -> None:
    """Stands in for a capture: note the start, work, note the end."""
    note("started", task_id)
    time.sleep(seconds)
    note("done", task_id)


def _hold(host: str, task_id: str, seconds: float) -> None:
    now = store.incr(f"running:{host}")
    note(f"concurrency:{host}", str(now))
    try:
        time.sleep(seconds)
    finally:
        store.decr(f"running:{host}")
    note("done", task_id)


@dramatiq.actor(max_retries=1000, min_backoff=200, max_backoff=2000)
def polite_raise(task_id: str, host: str, seconds: float) -> None:
    """Dramatiq's documented way: acquire() raises RateLimitExceeded, Retries backs off."""
    mutex = ConcurrentRateLimiter(limits, f"host:{host}", limit=LIMIT, ttl=TTL_MS)  # type: ignore[no-untyped-call]
    try:
        with mutex.acquire():
            _hold(host, task_id, seconds)
    except dramatiq.RateLimitExceeded:
        store.incr("rate_limited")
        raise


@dramatiq.actor(max_retries=3)
def polite_wait(task_id: str, host: str, seconds: float) -> None:
    """Wait for a slot in the worker thread (poll every 50 ms) instead of a retry."""
    mutex = ConcurrentRateLimiter(limits, f"host:{host}", limit=LIMIT, ttl=TTL_MS)  # type: ignore[no-untyped-call]
    deadline = time.monotonic() + 60
    while True:
        with mutex.acquire(raise_on_failure=False) as acquired:
            if acquired:
                _hold(host, task_id, seconds)
                return
        store.incr("waits")
        if time.monotonic() > deadline:
            raise dramatiq.Retry(delay=1000)
        time.sleep(0.05)


@dramatiq.actor(store_results=True)
def echo(value: str) -> str:
    """For the Results middleware's round trip."""
    return value
