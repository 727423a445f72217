"""Worker processes for `preserve verify`, and only that: jobs run on processes forked from
verify (so they start at once and share what it has read), results come back in the order
asked with a bounded number of jobs ahead, and the workers die with verify however it
ends (killed, interrupted), leaving none behind. If a worker dies, the jobs left run in
the calling process instead, and so do all of them where workers cannot be started (no
writable /dev/shm for their locks, no process left to fork).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

_PR_SET_PDEATHSIG = 1

T = TypeVar("T")
R = TypeVar("R")


def cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class Pool:
    """`count` worker processes, forked when the first job is submitted: call `map` before
    starting threads in this process (forking a process that runs threads is unsafe)."""

    def __init__(self, count: int) -> None:
        self._executor: ProcessPoolExecutor | None = None
        try:
            self._executor = ProcessPoolExecutor(
                count,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_die_with_parent,
                initargs=(os.getpid(),),
            )
        except OSError:  # see the module's docstring
            pass
        self.count = count

    def map(self, fn: Callable[[T], R], items: Iterable[T], ahead: int) -> Iterator[R]:
        """`fn(item)` for each item, in order. Up to `ahead` jobs are submitted now, before
        this returns, so the workers are busy while the caller does other work; then one
        more each time a result is taken."""
        pending: deque[tuple[T, Future[R] | None]] = deque()
        queue = iter(items)
        for item in queue:
            pending.append((item, self._submit(fn, item)))
            if len(pending) >= ahead:
                break
        return self._results(fn, queue, pending)

    def _results(
        self, fn: Callable[[T], R], queue: Iterator[T], pending: deque[tuple[T, Future[R] | None]]
    ) -> Iterator[R]:
        while pending:
            item, future = pending.popleft()
            yield self._result(fn, item, future)
            for more in queue:
                pending.append((more, self._submit(fn, more)))
                break

    def _submit(self, fn: Callable[[T], R], item: T) -> Future[R] | None:
        if self._executor is None:
            return None
        try:
            return self._executor.submit(fn, item)
        except (BrokenProcessPool, OSError):  # a worker died, or none could be forked
            self._broken()
            return None

    def _result(self, fn: Callable[[T], R], item: T, future: Future[R] | None) -> R:
        if future is not None:
            try:
                return future.result()
            except (BrokenProcessPool, CancelledError):  # a worker was killed (out of
                self._broken()  # memory?), and the jobs after it dropped: carry on here
        return fn(item)

    def _broken(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        """Stop the workers: jobs not started are dropped, running ones finish first."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def kill(self) -> None:
        """Stop the workers now, running jobs and all (verify was interrupted)."""
        if self._executor is not None:
            # No public way before Python 3.14 (terminate_workers); `_processes` has been
            # there since 3.2, and without it the workers finish their jobs first.
            for process in list(getattr(self._executor, "_processes", {}).values()):
                process.kill()
            self.close()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.kill()


def _die_with_parent(parent: int) -> None:
    """A worker waits for jobs on a pipe that its sibling workers also hold open, so it
    would never see the end of it if verify were killed (kill -9, out of memory): ask the
    kernel to kill it with its parent instead (Linux). Ctrl-C is verify's to handle: it
    stops the workers, rather than each printing a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the prctl
        os._exit(1)
