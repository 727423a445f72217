"""The fetches of one render: each request the page makes is fetched by preserve's fetcher,
one hop at a time, under its guard and limits; the page's own document is served from the
capture's fetch of it rather than fetched twice. Every fetch is kept for the WARC file."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from preserve.errors import BadURL
from preserve.net.exchange import Exchange
from preserve.net.fetcher import Asked, Fetched, Fetcher
from preserve.urls import canonical

# Requests one page may make; past this, each is refused (a page that never stops asking).
MAX_REQUESTS = 1000


@dataclass(frozen=True)
class Answer:
    """What became of one request: the exchange to give the browser (None: it gets a
    network error), how it went (`rendered.OUTCOMES`) and, for people, why."""

    exchange: Exchange | None
    outcome: str
    detail: str | None = None


class PageFetches:
    """Answers the requests of one page, from any thread. `fetched` is every fetch made, in
    the order made: the caller records them, then closes them."""

    def __init__(self, fetcher: Fetcher, served: Sequence[Exchange]) -> None:
        self._fetcher = fetcher
        self._served = {exchange.url: exchange for exchange in served}
        self._lock = threading.Lock()
        self._fetched: list[Fetched] = []
        self._count = 0
        self.closed = False

    def close(self) -> tuple[Fetched, ...]:
        """End the render's fetching: what was fetched, for the caller to record and close;
        a fetch that ends after this is dropped (the page never saw it)."""
        with self._lock:
            self.closed = True
            return tuple(self._fetched)

    def _over(self) -> bool:
        return self.closed

    def answer(
        self, method: str, url: str, headers: tuple[tuple[str, str], ...], body: bytes | None
    ) -> Answer:
        """Fetch one request of the page (on a thread of the render's pool)."""
        try:
            key = canonical(url)
        except BadURL as exc:
            return Answer(None, "refused", str(exc))
        if method in ("GET", "HEAD") and (served := self._served.get(key)) is not None:
            return Answer(served, "served")
        with self._lock:
            if self.closed:
                return Answer(None, "refused", "the render was over")
            self._count += 1
            if self._count > MAX_REQUESTS:
                return Answer(None, "refused", f"more than {MAX_REQUESTS} requests")
        fetched = self._fetcher.fetch_hop(url, Asked(method, headers, body))
        with self._lock:
            late = self._over()
            if not late:
                self._fetched.append(fetched)
        if late:  # the render ended meanwhile: the page never saw this answer
            fetched.close()
            return Answer(None, "refused", "the render was over")
        if fetched.error is not None or not fetched.exchanges:
            return Answer(None, "failed", f"{fetched.error}: {fetched.detail}")
        return Answer(fetched.exchanges[-1], "fetched")
