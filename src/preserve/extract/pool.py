"""Extraction in worker processes, one per CPU: parsing a page and finding its main text is
pure CPU work in Python (about 10 ms for a 20 KB page), so on threads the GIL runs one page
at a time however many cores there are, and the fetching, WARC writing and database work of
the capture wait behind it.

The workers are forked from this process when it has no other thread yet (the command
line, as a run starts: they are up at once and share its memory), else from a fork server
that imported `preserve.extract` once (forking a process that runs threads is unsafe). They
are shared by every capture and check in the process. On a single CPU, pages are extracted
in the calling thread instead, and so they are where workers cannot be started: no writable
/dev/shm for their locks (some containers and function sandboxes), or no process left to
fork. Slower, and nothing lost.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from preserve.extract.extracted import Extracted

_PR_SET_PDEATHSIG = 1
_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_cannot_start = False  # starting workers failed once in this process: not tried again


def cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _ping() -> bool:
    return True


def start() -> None:
    """Start the workers now, so that they are up by the time pages arrive."""
    _get_pool()


def _get_pool() -> ProcessPoolExecutor | None:
    global _pool, _cannot_start
    if cpus() < 2 or _cannot_start:
        return None
    with _lock:
        if _pool is None and not _cannot_start:
            try:
                _pool = _new_pool()
            except OSError:  # see the module's docstring
                _cannot_start = True
        return _pool


def _new_pool() -> ProcessPoolExecutor:
    parent: int | None = os.getpid()
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["preserve.extract.extractor", "preserve.extract.warm"])
        parent = None  # the fork server is the parent; it exits when this one does
    pool = ProcessPoolExecutor(cpus(), mp_context=context, initializer=_warm, initargs=(parent,))
    try:
        pool.submit(_ping)  # with fork, the first submit forks every worker, here and now
    except OSError:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return pool


def stop() -> None:
    """End the workers now, for a command that has no more pages for them. They hold
    nothing but pages being extracted, so they are killed rather than asked to wind down:
    their interpreters' exit would otherwise add a tenth of a second to every command."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    # The pool's manager thread closes its wake-up pipe as it ends, and at exit Python 3.11
    # wakes every manager thread still running through that pipe, unlocked: a command that
    # ended just then printed "Exception ignored ... Bad file descriptor". The thread ends
    # as soon as it sees its workers gone (milliseconds).
    if manager is not None:
        manager.join(timeout=5)


def _warm(parent: int | None) -> None:
    """Start a worker: die with the process that made it, then warm up."""
    _die_with_parent(parent)
    import preserve.extract.warm  # noqa: F401  (its import is the warming)


def _die_with_parent(parent: int | None) -> None:
    """A worker waits for pages on a pipe that its sibling workers also hold open, so it
    would never see the end of it when the capture is killed (kill -9, out of memory): ask
    the kernel to kill it with its parent instead (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:  # it died before the prctl
        os._exit(1)


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


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
    """`extract.extract`, imported where it runs: the process that hands pages out and
    takes `Extracted` back never needs lxml (a thirtieth of a second of its start)."""
    from preserve.extract.extractor import extract

    return extract(body, **options)


def _run_here(outer: Future[Extracted | None], body: bytes, options: dict[str, Any]) -> None:
    try:
        outer.set_result(_extract(body, **options))
    except BaseException as exc:
        outer.set_exception(exc)


def _submit(
    outer: Future[Extracted | None],
    pool: ProcessPoolExecutor,
    body: bytes,
    options: dict[str, Any],
    retries: int,
) -> None:
    try:
        inner = pool.submit(_extract, body, **options)
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
