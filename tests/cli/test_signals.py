"""Stopping on a signal: the handler runs in the main thread between two of its steps, maybe
inside `stop.wait()`, where setting the event itself would wait forever for the lock that
`wait` holds (`watch` and `worker` wait on it between runs)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest

from preserve.cli.options import interruptible, on_signal_stop


def test_a_stop_asked_while_the_main_thread_waits_on_it_does_not_hang() -> None:
    """Where a handler runs when the signal lands inside `stop.wait()`: the event's lock
    held by the very thread that runs it. Setting the event there would never return."""
    stop = threading.Event()
    handle = on_signal_stop(stop)
    asked = threading.Event()

    def interrupted_inside_wait() -> None:
        with stop._cond:  # type: ignore[attr-defined]
            handle(signal.SIGTERM, None)
            asked.set()

    thread = threading.Thread(target=interrupted_inside_wait, daemon=True)
    thread.start()
    thread.join(timeout=5)

    assert asked.is_set() and not thread.is_alive()
    assert stop.wait(timeout=5)


def test_the_first_ctrl_c_asks_for_a_stop_and_the_second_stops_at_once() -> None:
    with interruptible() as stop:
        signal.raise_signal(signal.SIGINT)
        assert stop.wait(timeout=5)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)


FORKED_UNDER_A_STOP = """
import threading
from preserve import processes
from preserve.cli.options import interruptible
from preserve.extract.lanes import Lanes

with interruptible():
    waiting = processes.may_fork()
    lanes = Lanes(2, ("preserve.extract.extractor",))
    print(type(lanes.processes[0]).__name__)
    lanes.stop()
    busy = threading.Thread(target=threading.Event().wait, daemon=True)
    busy.start()
    print(waiting, processes.may_fork())
"""


def test_the_thread_that_waits_for_a_signal_leaves_the_workers_forked() -> None:
    """The thread a stop's handler hands the signal to only waits: a capture under it still
    forks its extraction workers from its own process (which imported and warmed up the
    extractor), rather than starting a fork server that does all that again. A thread
    that does other work still sends them to the fork server."""
    result = subprocess.run(
        [sys.executable, "-c", FORKED_UNDER_A_STOP], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["ForkProcess", "True False"], result.stdout
