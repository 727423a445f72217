"""Stopping on a signal: the handler runs in the main thread between two of its steps, maybe
inside `stop.wait()`, where setting the event itself would wait forever for the lock that
`wait` holds (`watch` and `worker` wait on it between runs)."""

from __future__ import annotations

import signal
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
