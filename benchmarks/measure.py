"""Run a command and measure it: wall time, CPU time and peak memory of its whole process
tree (it may start worker processes), sampled from /proc."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
_PSS_EVERY = 4  # sampling rounds (of 50 ms) per reading of the memory


@dataclass
class Measured:
    """What one run of a command cost."""

    command: str
    wall: float  # seconds
    cpu: float  # user + system seconds of the whole tree
    peak_mb: float  # peak of the summed proportional set size (PSS) of the tree, MB
    peak_rss_mb: float  # peak resident set of the main process alone (VmHWM, sampled)
    processes: int  # how many processes the tree had at most
    cpu_by_process: dict[str, float]  # CPU seconds by command line (sampled)
    returncode: int
    stdout: str = ""
    stderr: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("stdout")
        data["stderr"] = self.stderr[-2000:]
        return data


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as file:
                stat = file.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree = _children()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, ()))
    return found


def _cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            words = file.read().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(w.decode(errors="replace") for w in words if w)
    if "forkserver" in text:
        return "forkserver"
    return "workers"  # forked: the same command line as the main process


def _by_name(cpu: dict[int, float], names: dict[int, str]) -> dict[str, float]:
    total: dict[str, float] = {}
    for pid, seconds in cpu.items():
        name = names.get(pid, "?")
        total[name] = round(total.get(name, 0.0) + seconds, 2)
    return total


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""


def _hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as file:
            for line in file:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as file:
            for line in file:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as file:
            return int(file.read().split()[1]) * _PAGE
    except OSError:
        return 0


def run(
    command: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    interval: float = 0.05,
    capture: bool = True,
) -> Measured:
    """Run `command` to its end, sampling its process tree every `interval` seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    cpu_seen: dict[int, float] = {}
    names: dict[int, str] = {}
    peak = 0
    most = 1
    main_peak = 0
    rounds = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, most, main_peak, rounds
        own = _cmdline(os.getpid())
        while not done.is_set() and _cmdline(process.pid) == own:
            done.wait(0.001)  # forked from this process, not yet the command: nothing to see
        while not done.is_set():
            # Not wait4's ru_maxrss: it survives exec, so it counts this (big) process,
            # which the command was forked from.
            main_peak = max(main_peak, _hwm(process.pid))
            pids = _descendants(process.pid)
            most = max(most, len(pids))
            for pid in pids:
                if (cpu := _cpu(pid)) is not None:
                    cpu_seen[pid] = cpu
                    if pid not in names:
                        names[pid] = "main" if pid == process.pid else _name(pid)
            # The PSS is summed every few rounds only: reading smaps_rollup walks the whole
            # memory map of each process, which on two cores took CPU from the command being
            # timed (a tenth of a second on a 2.5 s capture).
            rounds += 1
            if rounds % _PSS_EVERY == 1:
                peak = max(peak, sum(_pss(pid) for pid in pids))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    outputs: dict[str, str] = {}

    def drain(name: str, stream: Any) -> None:
        outputs[name] = stream.read() if stream is not None else ""

    readers = [
        threading.Thread(target=drain, args=("stdout", process.stdout)),
        threading.Thread(target=drain, args=("stderr", process.stderr)),
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    # The rusage of the main process is exact and holds every descendant it waited for;
    # descendants it did not wait for (a pool's worker processes) are only in the samples,
    # which miss the last interval of each process.
    own = usage.ru_utime + usage.ru_stime
    cpu = max(own, sum(cpu_seen.values()))
    return Measured(
        command=" ".join(command),
        wall=wall,
        cpu=cpu,
        peak_mb=peak / 1e6,
        peak_rss_mb=main_peak / 1e6,
        processes=most,
        cpu_by_process=_by_name(cpu_seen, names),
        returncode=process.returncode,
        stdout=outputs.get("stdout", ""),
        stderr=outputs.get("stderr", ""),
    )
