"""Which fetch starts next: at most `total` at once, at most `per_host` of them to one host,
each host's jobs in the order they came, hosts taking turns. Pure bookkeeping, no threads:
the capture engine asks for the next job whenever a fetch slot is free, so no thread ever
waits for a busy host while another host has work (a slow host cannot starve the rest)."""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class HostQueue(Generic[T]):
    """Jobs waiting for a fetch slot, by host."""

    def __init__(self, *, total: int, per_host: int) -> None:
        if total < 1 or per_host < 1:
            raise ValueError("total and per_host must be at least 1")
        self.total = total
        self.per_host = per_host
        self._waiting: dict[str, deque[T]] = {}  # by host, oldest first; no empty deques
        self._busy: dict[str, int] = {}  # fetches in progress by host; no zeros
        # Hosts that have a waiting job and a free slot, in turn. Invariant: a host is in
        # it exactly once if it has a waiting job and fewer than per_host fetches running.
        self._ready: deque[str] = deque()
        self.waiting = 0  # jobs added and not yet started
        self.running = 0  # jobs started and not yet done

    def add(self, host: str, job: T) -> None:
        jobs = self._waiting.get(host)
        if jobs is None:
            jobs = self._waiting[host] = deque()
            if self._busy.get(host, 0) < self.per_host:
                self._ready.append(host)
        jobs.append(job)
        self.waiting += 1

    def next(self) -> tuple[str, T] | None:
        """A job that may start now, its host counted busy; None if none may."""
        if self.running >= self.total or not self._ready:
            return None
        host = self._ready.popleft()
        jobs = self._waiting[host]
        job = jobs.popleft()
        busy = self._busy[host] = self._busy.get(host, 0) + 1
        self.waiting -= 1
        self.running += 1
        if not jobs:
            del self._waiting[host]
        elif busy < self.per_host:
            self._ready.append(host)  # to the back: the other hosts go first
        return host, job

    def done(self, host: str) -> None:
        """A fetch from `host` finished: its slot is free."""
        busy = self._busy[host] - 1
        self.running -= 1
        if busy:
            self._busy[host] = busy
        else:
            del self._busy[host]
        if busy == self.per_host - 1 and host in self._waiting:
            self._ready.append(host)

    def clear(self) -> list[T]:
        """Drop every waiting job (the running ones still finish); the jobs dropped."""
        dropped = [job for jobs in self._waiting.values() for job in jobs]
        self._waiting.clear()
        self._ready.clear()
        self.waiting = 0
        return dropped
