"""Worker processes for `preserve verify`: jobs mapped in order, a bounded number ahead.

The workers are started by `preserve.processes` (forked from verify, so they start at once
and share what it has read) and die with verify however it ends. If a worker dies, the jobs
left run in the calling process instead, and so do all of them where workers cannot be
started.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from preserve import processes

T = TypeVar("T")
R = TypeVar("R")


class Pool:
    """`count` worker processes, started at once: make the pool before starting threads in
    this process, so that the workers are forked."""

    def __init__(self, count: int) -> None:
        # Nothing to preload: forked workers have what verify imported, and a job's function
        # is imported where it is unpickled.
        self._executor: ProcessPoolExecutor | None = processes.start(count)
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
            processes.stop(self._executor, wait=True)
            self._executor = None

    def kill(self) -> None:
        """Stop the workers now, running jobs and all (verify was interrupted)."""
        if self._executor is not None:
            processes.stop(self._executor)
            self._executor = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.kill()
