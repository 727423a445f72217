"""Extraction worker processes, each fed through a pipe of its own, one page at a time.

`concurrent.futures.ProcessPoolExecutor` hands each job through a manager thread and a
feeder thread of the calling process, waking each of them for every page: on the bulk web
that was 0.27 ms of the main process's CPU a page, an eighth of all it does. Here the thread
that submits a page writes it to an idle worker's pipe itself, and one reader thread takes
the results back (and gives a waiting page to the worker that just finished): one wake-up a
page. A worker is sent a page only when idle, so a write never waits on a busy worker.

A worker that dies (a parser crash, the out-of-memory killer) breaks the whole set, as a
`ProcessPoolExecutor` breaks: every page not yet extracted fails with `BrokenProcessPool`,
and the caller (`extract.pool`) starts a new set for them.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import selectors
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from preserve import processes

_Job = tuple[int, bytes, dict[str, Any]]  # id, body, options


class Lanes:
    """`count` worker processes, each with a pipe of its own, and the thread reading them."""

    def __init__(self, count: int, preload: Sequence[str]) -> None:
        context, parent = _context(preload)
        self._lock = threading.Lock()
        self._futures: dict[int, Future[Any]] = {}
        self._busy: dict[Connection, int] = {}  # worker's pipe -> the job it is on
        self._idle: list[Connection] = []
        self._waiting: deque[_Job] = deque()
        self._serial = 0
        self.broken = False
        self._stopping = False
        self._reader_done = False  # the reader has ended, and closed the wake-up pipe
        self.processes: list[BaseProcess] = []
        self._wake_read, self._wake_write = os.pipe()
        selector = selectors.DefaultSelector()
        selector.register(self._wake_read, selectors.EVENT_READ)
        try:
            for _ in range(count):
                ours, theirs = context.Pipe(duplex=True)
                process = context.Process(  # type: ignore[attr-defined]
                    target=_serve, args=(theirs, parent, tuple(preload)), daemon=True
                )
                process.start()
                theirs.close()
                self.processes.append(process)
                self._idle.append(ours)
                selector.register(ours, selectors.EVENT_READ, process)
                selector.register(process.sentinel, selectors.EVENT_READ, process)
        except BaseException:
            self._kill()
            selector.close()
            raise
        self._reader = threading.Thread(
            target=self._read, args=(selector,), name="preserve-extraction", daemon=True
        )
        self._reader.start()

    def submit(self, body: bytes, options: dict[str, Any]) -> Future[Any]:
        """`extract(body, **options)` in a worker; the future fails with BrokenProcessPool
        if the workers broke first."""
        future: Future[Any] = Future()
        with self._lock:
            if self.broken or self._stopping:
                raise BrokenProcessPool("the extraction workers are gone")
            self._serial += 1
            job = (self._serial, body, options)
            self._futures[job[0]] = future
            if self._idle:
                self._send(self._idle.pop(), job)
            else:
                self._waiting.append(job)
        return future

    def stop(self) -> None:
        """Kill the workers now (they hold nothing but pages being extracted); pages not
        done are cancelled. Safe to call again, and from the reader thread (a future's
        callback)."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            futures = list(self._futures.values())
            self._futures.clear()
            self._waiting.clear()
            if not self._reader_done:
                os.write(self._wake_write, b"x")  # the reader ends
        self._kill()
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=processes.STOP_SECONDS)
        for future in futures:
            future.cancel()

    def _send(self, conn: Connection, job: _Job) -> None:  # with the lock held
        self._busy[conn] = job[0]
        try:
            conn.send(job)
        except OSError:  # the worker is dead: its sentinel tells the reader
            pass

    def _read(self, selector: selectors.BaseSelector) -> None:
        try:
            while True:
                for key, _ in selector.select():
                    if key.fileobj == self._wake_read or self._stopping:
                        return
                    if isinstance(key.fileobj, Connection):
                        if not self._result(key.fileobj):
                            self._break()
                            return
                    elif not key.data.is_alive():  # a worker died
                        self._break()
                        return
        finally:
            with self._lock:
                self._reader_done = True
                selector.close()
                os.close(self._wake_read)
                os.close(self._wake_write)

    def _result(self, conn: Connection) -> bool:
        """Take one result from `conn` and give its worker the next page waiting; False if
        the worker is gone."""
        try:
            job_id, ok, value = conn.recv()
        except (EOFError, OSError):
            return False
        with self._lock:
            self._busy.pop(conn, None)
            if self._waiting:
                self._send(conn, self._waiting.popleft())
            else:
                self._idle.append(conn)
            future = self._futures.pop(job_id, None)
        if future is not None:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        return True

    def _break(self) -> None:
        """A worker died: every page not yet done fails, and the workers are ended."""
        with self._lock:
            if self._stopping:
                return
            self.broken = True
            futures = list(self._futures.values())
            self._futures.clear()
            self._waiting.clear()
        self._kill()
        error = BrokenProcessPool("an extraction worker died")
        for future in futures:
            future.set_exception(error)

    def _kill(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.kill()
        for process in self.processes:
            process.join(timeout=processes.STOP_SECONDS)


def _context(preload: Sequence[str]) -> tuple[BaseContext, int | None]:
    """Forked from this process when it may be (`processes.may_fork`), else from a fork server;
    and the parent to die with. Either way `preload` is imported once, before the fork
    (`preserve.processes`)."""
    if processes.may_fork():
        # Here rather than in each worker: the workers then share these modules' memory,
        # and two workers no longer spend 0.2 s of CPU each importing and warming up the
        # same thing (a capture of one article and its ten sources used 0.77 s of CPU in
        # all, 0.46 s since).
        for module in preload:
            importlib.import_module(module)
        return multiprocessing.get_context("fork"), os.getpid()
    server = multiprocessing.get_context("forkserver")
    server.set_forkserver_preload(list(preload))
    return server, None


def _serve(conn: Connection, parent: int | None, preload: tuple[str, ...]) -> None:
    """A worker: extract each page sent until the pipe closes."""
    processes.begin(parent, preload)
    from preserve.extract.extractor import extract

    while True:
        try:
            job_id, body, options = conn.recv()
        except (EOFError, OSError):
            return
        reply: tuple[int, bool, object]
        try:
            reply = (job_id, True, extract(body, **options))
        except BaseException as exc:  # a bug: the page's capture fails, not the worker
            reply = (job_id, False, exc)
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # the exception did not pickle
            conn.send((job_id, False, RuntimeError(f"extraction failed: {exc!r}")))
