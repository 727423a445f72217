"""The deadline of a whole fetch: a watchdog per fetch, expired by one shared thread."""

from __future__ import annotations

import heapq
import itertools
import math
import socket
import threading
import time
from typing import Protocol


class Watched(Protocol):
    """A connection whose socket may change under the watchdog (wrapped in TLS)."""

    @property
    def sock(self) -> socket.socket | None: ...


class Watchdog:
    """Ends a fetch at its deadline by shutting down the socket it is waiting on. Per-read
    timeouts cannot do it: a server dripping a byte a second never trips them, and a
    blocked recv() cannot be interrupted any other way."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.cancelled = False
        self.interrupted = False  # expired early: the run was told to stop
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._conn: Watched | None = None
        self._sock: socket.socket | None = None
        _DEADLINES.add(self._ends, self)

    def remaining(self) -> float:
        return max(0.0, self._ends - time.monotonic())

    @property
    def code(self) -> str:
        """The failure code of a fetch this watchdog ended."""
        return "interrupted" if self.interrupted else "timeout"

    def detail(self) -> str:
        if self.interrupted:
            return "stopped: the run was interrupted before this fetch ended"
        return f"gave up at the {self.seconds:g}s deadline for the whole fetch"

    def watch(self, conn: Watched, sock: socket.socket) -> None:
        with self._lock:
            self._conn, self._sock = conn, sock
            if self.expired:
                self._shut()

    def release(self) -> None:
        with self._lock:
            self._conn = self._sock = None

    def cancel(self) -> None:
        self.cancelled = True
        self.release()

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shut()

    def interrupt(self) -> None:
        """End the fetch now: the run is stopping (Ctrl-C, SIGTERM)."""
        self.interrupted = True
        self.expire()

    def _shut(self) -> None:
        # The connection's socket may by now be the TLS wrapper of the one first seen.
        sock = (self._conn.sock if self._conn is not None else None) or self._sock
        if sock is None:
            return
        try:
            # socket.socket's own shutdown, not SSLSocket's, which would also drop the TLS
            # state under the feet of the thread reading from it.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


class _Deadlines:
    """One thread that expires every fetch's watchdog at its deadline, rather than a timer
    thread per fetch: starting a thread costs more CPU than a fetch on a fast network."""

    SWEEP_AT = 1024  # entries at which ended fetches held behind a long one are swept out

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._sweep_at = self.SWEEP_AT
        # When the thread wakes next on its own (inf: only when told): a deadline no sooner
        # needs no wake-up. Every fetch adds one, a whole deadline after the ones before
        # it, so the thread is woken by the first alone, not once a fetch (which cost 8 to
        # 15 µs of CPU a fetch: 20 µs a watchdog instead of 28 to 36).
        self._wakes_at = math.inf

    def add(self, ends: float, watchdog: Watchdog) -> None:
        with self._ready:
            # Fetches mostly end in the order they began, long before their deadlines: the
            # ended ones at the top go now, or a minute of them would wait there (18,000
            # watchdogs in a fast check).
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            if len(self._heap) >= self._sweep_at:  # one long fetch on top holds them back
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._sweep_at = max(self.SWEEP_AT, 2 * len(self._heap))
            heapq.heappush(self._heap, (ends, next(self._order), watchdog))
            # Started on first use, and again in a process forked from one that had it.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="preserve-deadlines", daemon=True
                )
                self._thread.start()
            if ends < self._wakes_at:
                self._ready.notify()

    def _run(self) -> None:
        with self._ready:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2].cancelled):
                    _, _, watchdog = heapq.heappop(self._heap)
                    if not watchdog.cancelled:
                        watchdog.expire()
                self._wakes_at = self._heap[0][0] if self._heap else math.inf
                self._ready.wait(self._wakes_at - now if self._heap else None)
                self._wakes_at = -math.inf  # awake: whoever adds a deadline says so


_DEADLINES = _Deadlines()
