"""Each host's politeness limit held across every worker: Dramatiq's Redis-backed
ConcurrentRateLimiter, one per host, taken around each fetch (a thread waits for a slot
rather than send its message round again: a retry costs seconds to minutes).

Its slots are a counter in Redis whose time to live every take and give back renews. The time
to live is a little over the longest a fetch may take (its deadline): so the counter never
expires under a fetch that holds a slot, and a worker killed while holding slots leaks them
only until nobody has taken or given back a slot of that host for that long (the host is
fetched with fewer connections meanwhile, never more)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

POLL_SECONDS = 0.02  # between two tries for a host's slot
TTL_MARGIN = 5.0  # seconds past a fetch's deadline before a host's slot count expires


class HostSlots:
    """`with slots(host):` holds one of the host's `limit` slots, across all workers."""

    def __init__(self, redis_url: str, limit: int, fetch_seconds: float) -> None:
        import redis
        from dramatiq.rate_limits.backends import RedisBackend

        self.backend = RedisBackend(client=redis.Redis.from_url(redis_url))
        self.limit = limit
        self.ttl_ms = int((fetch_seconds + TTL_MARGIN) * 1000)
        self._limiters: dict[str, Any] = {}

    def _limiter(self, host: str) -> Any:
        found = self._limiters.get(host)
        if found is None:
            from dramatiq.rate_limits import ConcurrentRateLimiter

            found = self._limiters[host] = ConcurrentRateLimiter(  # type: ignore[no-untyped-call]
                self.backend, f"preserve-host:{host}", limit=self.limit, ttl=self.ttl_ms
            )
        return found

    @contextmanager
    def __call__(self, host: str) -> Iterator[None]:
        limiter = self._limiter(host)
        while True:
            with limiter.acquire(raise_on_failure=False) as acquired:
                if acquired:
                    yield
                    return
            time.sleep(POLL_SECONDS)
