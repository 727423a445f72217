"""Extraction in worker processes, one per CPU, shared by every capture and check.

Parsing a page and finding its main text is pure CPU work in Python (about 10 ms for a 20 KB
page), so on threads the GIL runs one page at a time however many cores there are, and the
fetching, WARC writing and database work of the capture wait behind it. The workers are
`extract.lanes`, forked from a process that imported the extractor and warmed it up once
(this one when `processes.may_fork`, else a fork server), so that they share that memory;
on a single CPU, and where workers cannot be started (`preserve.processes`), pages
are extracted in the calling thread instead. Slower, and nothing lost.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from preserve import processes
from preserve.extract.extracted import Extracted
from preserve.extract.lanes import Lanes
from preserve.processes import cpus

# What the workers need before their first page, imported once before they are forked;
# `warm`'s import extracts a page, so that what extraction loads on first use is loaded
# once too.
_PRELOAD = ("preserve.extract.extractor", "preserve.extract.warm")
_lock = threading.Lock()
_pool: Lanes | None = None


def start() -> None:
    """Start the workers now, so that they are up by the time pages arrive."""
    _get_pool()


def _get_pool() -> Lanes | None:
    global _pool
    with _lock:
        if _pool is None and processes.may_start(cpus()):
            try:
                _pool = Lanes(cpus(), _PRELOAD)
            except OSError:  # no writable /dev/shm, or no process left to fork
                processes.cannot_start()
        return _pool


def stop() -> None:
    """End the workers now, for a command that has no more pages for them. They hold
    nothing but pages being extracted, so they are killed rather than asked to wind down."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.stop()


def _discard(pool: Lanes) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.stop()


def submit(body: bytes, **options: Any) -> Future[Extracted | None]:
    """`extract(body, **options)`, in a worker process (here and now on one CPU).

    Its result is None if the page killed two workers in a row (a parser crash, or the
    kernel's out-of-memory killer): the capture is then stored without text, rather than
    the run failing."""
    outer: Future[Extracted | None] = Future()
    pool = _get_pool()
    if pool is None:
        _run_here(outer, body, options)
        return outer
    _submit(outer, pool, body, options, retries=1)
    return outer


def _extract(body: bytes, **options: Any) -> Extracted:
    """`extract.extract`, imported on first use: a command whose pages are all extracted
    by workers forked from a fork server, or none at all, never imports it here."""
    from preserve.extract.extractor import extract

    return extract(body, **options)


def _run_here(outer: Future[Extracted | None], body: bytes, options: dict[str, Any]) -> None:
    try:
        outer.set_result(_extract(body, **options))
    except BaseException as exc:
        outer.set_exception(exc)


def _submit(
    outer: Future[Extracted | None],
    pool: Lanes,
    body: bytes,
    options: dict[str, Any],
    retries: int,
) -> None:
    try:
        inner = pool.submit(body, options)
    except BrokenProcessPool:
        _discard(pool)
        _retry(outer, body, options, retries)
        return
    except (RuntimeError, OSError):  # shut down (the interpreter is exiting), or no fork
        _run_here(outer, body, options)
        return

    def done(inner: Future[Extracted]) -> None:
        if inner.cancelled():  # its pool was discarded after another worker died
            _retry(outer, body, options, retries)
            return
        error = inner.exception()
        if isinstance(error, BrokenProcessPool):
            _discard(pool)
            _retry(outer, body, options, retries)
        elif error is not None:
            outer.set_exception(error)
        else:
            outer.set_result(inner.result())

    inner.add_done_callback(done)


def _retry(
    outer: Future[Extracted | None], body: bytes, options: dict[str, Any], retries: int
) -> None:
    pool = _get_pool() if retries else None
    if pool is None:
        outer.set_result(None)
    else:
        _submit(outer, pool, body, options, retries - 1)
