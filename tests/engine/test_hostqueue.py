"""The fetch scheduler: slots per host and in total, hosts in turn, order within a host."""

from __future__ import annotations

import random

import pytest

from preserve.engine.hostqueue import HostQueue


def drain(queue: HostQueue[int]) -> list[tuple[str, int]]:
    started = []
    while (item := queue.next()) is not None:
        started.append(item)
    return started


def test_hosts_take_turns_and_keep_their_order() -> None:
    queue: HostQueue[int] = HostQueue(total=10, per_host=1)
    for n in range(3):
        queue.add("a", n)
    queue.add("b", 10)
    queue.add("c", 20)
    assert drain(queue) == [("a", 0), ("b", 10), ("c", 20)]
    queue.done("b")
    assert drain(queue) == []  # b has nothing left; a is still busy
    queue.done("a")
    assert drain(queue) == [("a", 1)]


def test_a_busy_host_never_blocks_the_others() -> None:
    queue: HostQueue[int] = HostQueue(total=4, per_host=2)
    for n in range(100):
        queue.add("slow", n)
    queue.add("fast", 1000)
    assert [h for h, _ in drain(queue)] == ["slow", "fast", "slow"]
    assert queue.running == 3 and queue.waiting == 98


def test_limits_hold_under_random_use() -> None:
    rng = random.Random(5)
    queue: HostQueue[int] = HostQueue(total=5, per_host=2)
    running: dict[str, int] = {}
    seen: dict[str, list[int]] = {}
    added = 0
    for _ in range(5000):
        if rng.random() < 0.5:
            host = f"h{rng.randrange(7)}"
            queue.add(host, added)
            added += 1
        for host, job in drain(queue):
            running[host] = running.get(host, 0) + 1
            seen.setdefault(host, []).append(job)
        assert sum(running.values()) == queue.running <= 5
        assert all(n <= 2 for n in running.values())
        busy = [h for h, n in running.items() if n]
        if busy and rng.random() < 0.6:
            host = rng.choice(busy)
            running[host] -= 1
            queue.done(host)
    for jobs in seen.values():
        assert jobs == sorted(jobs)
    # Every slot that could be used is used: no host with work and a free slot is skipped.
    while queue.waiting or queue.running:
        started = drain(queue)
        for host, _ in started:
            running[host] = running.get(host, 0) + 1
        busy = [h for h, n in running.items() if n]
        assert queue.running == 5 or queue.waiting == 0 or all(running.get(h, 0) == 2 for h in busy)
        host = busy[0]
        running[host] -= 1
        queue.done(host)


def test_clear_drops_what_waits() -> None:
    queue: HostQueue[int] = HostQueue(total=1, per_host=1)
    queue.add("a", 1)
    queue.add("a", 2)
    assert queue.next() == ("a", 1)
    queue.clear()
    queue.done("a")
    assert queue.next() is None and queue.waiting == 0 and queue.running == 0


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        HostQueue(total=0, per_host=1)
