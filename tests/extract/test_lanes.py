"""extract.lanes: the extraction workers fed through a pipe each, forked or from the fork
server, and what happens to the pages of a worker that dies in the middle of a run."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import wait
from concurrent.futures.process import BrokenProcessPool

import pytest

from preserve.extract import pool as extractpool
from preserve.extract.lanes import Lanes
from preserve.processes import cpus
from tests.extract.helpers import HTML, PAGE, page, run

PRELOAD = ("preserve.extract.extractor",)
OPTIONS = {"url": PAGE, "content_type": HTML}


@pytest.fixture(autouse=True)
def _two_cpus() -> Iterator[None]:
    if cpus() < 2:
        pytest.skip("one CPU: pages are extracted in the calling thread, with no workers")
    yield
    extractpool.stop()


def test_pages_come_back_as_extracted_here() -> None:
    lanes = Lanes(2, PRELOAD)
    try:
        futures = [lanes.submit(page(), OPTIONS) for _ in range(8)]
        wait(futures, timeout=60)
        assert [f.result() for f in futures] == [run(page())] * 8
    finally:
        lanes.stop()
    assert all(process.exitcode is not None for process in lanes.processes)


def test_workers_come_from_the_fork_server_once_threads_run() -> None:
    """Forking a process that runs threads is unsafe: the workers come from a fork server."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        lanes = Lanes(2, PRELOAD)
        try:
            assert type(lanes.processes[0]).__name__ == "ForkServerProcess"
            assert lanes.submit(page(), OPTIONS).result(timeout=60) == run(page())
        finally:
            lanes.stop()
    finally:
        stop.set()


def test_a_worker_killed_mid_run_breaks_the_set_and_its_pages_are_redone() -> None:
    lanes = Lanes(2, PRELOAD)
    futures = [lanes.submit(page(), OPTIONS) for _ in range(20)]
    victim = lanes.processes[0]
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    wait(futures, timeout=60)
    assert lanes.broken
    assert all(f.done() for f in futures)
    with pytest.raises(BrokenProcessPool):
        lanes.submit(page(), OPTIONS)
    lanes.stop()
    # Through extract.pool, every page still gets its text: the broken set is replaced.
    outer = [extractpool.submit(page(), **OPTIONS) for _ in range(20)]
    first = extractpool._pool
    assert first is not None
    assert first.processes[1].pid is not None
    os.kill(first.processes[1].pid, signal.SIGKILL)
    wait(outer, timeout=60)
    assert [f.result() for f in outer] == [run(page())] * 20
