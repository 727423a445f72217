"""Worker processes shared by every package: starting, doing without, stopping them.

Python runs one thread of pure CPU work at a time, so work such as extracting a page's text
or checking a WARC file's digests goes to processes. They are forked from the calling
process when it runs no other thread yet but those that only wait (`may_fork`; they are up
at once and share its memory), else started from a fork server that imported the given
modules once (forking a process that runs threads is unsafe: the fork copies locks other
threads hold). Each worker dies with the process that made it, however that ends (kill -9,
out of memory), and leaves Ctrl-C to it rather than each printing a traceback.

Where workers cannot be started, `start` says so by returning None, and the caller does the
work in its own process: no writable /dev/shm for their locks (some containers and function
sandboxes), or no process left to fork. Slower, and nothing lost. That is remembered: this
process does not try again.
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import signal
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext

_PR_SET_PDEATHSIG = 1  # prctl option (Linux): a signal for the kernel to send at the parent's death
STOP_SECONDS = 5.0  # the longest a stop waits for a worker's end
_cannot_start = False  # starting workers failed once in this process: not tried again
_waiting: weakref.WeakSet[threading.Thread] = weakref.WeakSet()  # see `waiting_thread`


def cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def may_fork() -> bool:
    """Whether workers may be forked from this process now: fork exists here, and no thread
    runs besides this one but those of `waiting_thread`. (Python 3.12 and later warn of a
    fork in any process with threads, a DeprecationWarning shown only under test runners.)"""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    here = threading.current_thread()
    return all(thread is here or thread in _waiting for thread in threading.enumerate())


def waiting_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """Start a daemon thread that waits, holding no lock, for one thing to happen (a signal
    put on a `queue.SimpleQueue`), then does a moment's work and ends. It does not keep
    workers from being forked from this process (`may_fork`): a fork while it waits copies
    no lock it holds, and the locks of its moment of work (an event's, the terminal's) are
    ones the workers never take."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    _waiting.add(thread)
    thread.start()
    return thread


def may_start(count: int) -> bool:
    """Whether `count` workers are worth starting: two at least, in a process that has not
    failed to start workers before (see `start`)."""
    return count >= 2 and not _cannot_start


def cannot_start() -> None:
    """Remember that workers could not be started here (see the module's docstring)."""
    global _cannot_start
    _cannot_start = True


def start(count: int, *, preload: Sequence[str] = ()) -> ProcessPoolExecutor | None:
    """`count` worker processes, started now, each having imported the `preload` modules;
    None where there is no point (fewer than two) or they cannot be started (see the
    module's docstring): the caller then does the work itself."""
    if not may_start(count):
        return None
    try:
        return _start(count, tuple(preload))
    except OSError:
        cannot_start()
        return None


def _start(count: int, preload: tuple[str, ...]) -> ProcessPoolExecutor:
    context: BaseContext
    parent: int | None = os.getpid()
    if may_fork():
        context = multiprocessing.get_context("fork")
    else:
        server = multiprocessing.get_context("forkserver")
        # One fork server per process, preloading what its first user asked for; a later
        # user's modules are imported by its workers (a job's function is imported where
        # it is unpickled in any case).
        server.set_forkserver_preload(list(preload))
        context = server
        parent = None  # the fork server is the parent; it exits when this process does
    pool = ProcessPoolExecutor(
        count, mp_context=context, initializer=begin, initargs=(parent, preload)
    )
    try:
        pool.submit(_ping)  # with fork, the first job forks every worker, here and now
    except OSError:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return pool


def stop(pool: ProcessPoolExecutor, *, wait: bool = False) -> None:
    """End the workers. `wait`: let the jobs they are running finish (jobs not started are
    dropped); else kill them now, running jobs and all, which is also quicker than letting
    each interpreter wind down (a tenth of a second at the end of every command)."""
    if wait:
        pool.shutdown(wait=True, cancel_futures=True)
        return
    # No public way to kill them before Python 3.14 (terminate_workers); `_processes` has
    # been there since 3.2, and without it the workers finish their jobs first.
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
        manager.join(timeout=STOP_SECONDS)


def _ping() -> bool:
    return True


def begin(parent: int | None, preload: tuple[str, ...]) -> None:
    """Start a worker: leave Ctrl-C to the process that made it, die with it, then import
    what its jobs need (already there when it came from the fork server)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    for module in preload:
        importlib.import_module(module)


def _die_with_parent(parent: int | None) -> None:
    """A worker waits for jobs on a pipe that its sibling workers also hold open, so it
    would never see the end of it if the process that made it were killed (kill -9, out of
    memory): ask the kernel to kill it with its parent instead (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:  # it died before the prctl
        os._exit(1)
