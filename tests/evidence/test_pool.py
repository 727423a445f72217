"""evidence.pool: the worker processes of verify, when one dies and when verify does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POOL = """
import os, sys, time
from preserve.evidence.pool import Pool
PARENT = os.getpid()

def square(n):
    if n == 3 and os.getpid() != PARENT:
        os._exit(1)  # the worker dies (as if killed) on this job
    return n * n, os.getpid()

def pid(_):
    time.sleep(0.2)  # both workers get one
    return os.getpid()

with Pool(2) as pool:
    if sys.argv[1] == "die":
        results = list(pool.map(square, range(8), ahead=8))
        print([n for n, _ in results], results[3][1] == PARENT)
    else:
        print(*set(pool.map(pid, range(2), ahead=2)), flush=True)
        time.sleep(60)
"""


def test_a_dead_worker_leaves_its_jobs_to_verify() -> None:
    done = subprocess.run(
        [sys.executable, "-c", POOL, "die"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[0,", "1,", "4,", "9,", "16,", "25,", "36,", "49]", "True"]


def test_workers_die_with_verify() -> None:
    verify_process = subprocess.Popen(
        [sys.executable, "-c", POOL, "wait"], stdout=subprocess.PIPE, text=True
    )
    assert verify_process.stdout is not None
    workers = [int(pid) for pid in verify_process.stdout.readline().split()]
    assert len(workers) == 2
    verify_process.kill()
    verify_process.wait()
    deadline = time.monotonic() + 10
    while any(map(running, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if running(pid)]
    for pid in left:  # not to leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left


def running(pid: int) -> bool:
    """Is the process there and not a zombie (dead, waiting for whoever reaps it)?"""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
