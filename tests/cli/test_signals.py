"""Stopping on a signal: the handler runs in the main thread between two of its steps, maybe
inside `stop.wait()`, where setting the event itself would wait forever for the lock that
`wait` holds (`watch` and `worker` wait on it between runs)."""

from __future__ import annotations

import signal
import threading

import pytest

from preserve.cli.options import interruptible, stop_soon


def test_a_stop_asked_while_the_event_is_being_waited_on_does_not_hang() -> None:
    stop = threading.Event()
    asked = threading.Event()

    def interrupted_inside_wait() -> None:
        # Where a handler runs when the signal lands in `stop.wait()`: the event's lock held
        # by this same thread. `stop.set()` here would never return.
        with stop._cond:  # type: ignore[attr-defined]
            stop_soon(stop)
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
