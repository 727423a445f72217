"""`preserve` as a process of its own, for the tests where that matters (a signal, a kill, a
terminal, stdout alone, the peak memory), and what its archive must hold afterwards: a clean
`preserve verify` and rows that point at the bytes they name."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve.warc.files import OPEN_SUFFIX
from preserve.warc.reader import read_record
from tests.support.warc_checks import rows

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Ran:
    """A finished `preserve` process: exit code, output, and its peak memory."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    peak_mb: float
    seconds: float

    def json(self) -> Any:
        return json.loads(self.stdout)


def clean_environment() -> dict[str, str]:
    """The environment without PRESERVE_* settings, and rendering off: these processes
    measure the fetching and extraction pipeline (renders are tested in
    tests/engine/capture/test_render_limits.py and tests/browser/)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("PRESERVE_")}
    return kept | {"PRESERVE_BROWSER": "never"}


class Proc:
    """`preserve --archive ARCHIVE ARGS…` started in the background; `wait()` reaps it. A
    thread reads the peak RSS of the process and its workers while they run."""

    def __init__(
        self,
        archive: Path,
        *args: str,
        preexec_fn: Callable[[], None] | None = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
        self.args = ("--archive", str(archive), *args)
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            [*prefix, str(BIN / "preserve"), *self.args],
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            env=clean_environment(),
            preexec_fn=preexec_fn,
        )
        self._peak_kb = 0
        self._sampler = threading.Thread(target=self._sample_memory, daemon=True)
        self._sampler.start()

    def _sample_memory(self) -> None:
        while True:
            now = tree_high_water_kb(self.popen.pid)
            if not now:  # exited (a zombie has no memory to read) or reaped
                return
            self._peak_kb = max(self._peak_kb, now)
            time.sleep(0.02)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def signal(self, signum: int) -> None:
        """Send the process a signal. Not through Popen.send_signal, which reaps a process
        that has just exited, and `wait` would then find no process to wait for."""
        os.kill(self.popen.pid, signum)

    def stderr_so_far(self) -> str:
        """What the process has written to stderr until now (it may still be running)."""
        fd = self._err.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")

    def wait(self, timeout: float = 240) -> Ran:
        ends = time.monotonic() + timeout
        while True:
            pid, status, _ = os.wait4(self.popen.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > ends:
                self.kill()
                pid, status, _ = os.wait4(self.popen.pid, 0)
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                raise AssertionError(f"preserve {' '.join(self.args)[:200]} did not finish")
            time.sleep(0.05)
        self.popen.returncode = os.waitstatus_to_exitcode(status)
        self._sampler.join(timeout=5)
        output = []
        for file in (self._out, self._err):
            file.seek(0)
            output.append(file.read().decode("utf-8", "replace"))
            file.close()
        return Ran(
            self.args,
            self.popen.returncode,
            output[0],
            output[1],
            self._peak_kb / 1024,
            time.monotonic() - self.started,
        )


def tree_high_water_kb(pid: int) -> int:
    """The largest peak RSS (VmHWM, kB) of a process and its descendants now living.

    Not the rusage that wait4 gives: Linux carries a process's peak across exec, so a child
    forked from this test process (hundreds of MB late in a run) reports this process's size
    as its own peak. VmHWM belongs to the memory the program has after exec, and only grows:
    read every 0.02 s while the program runs, it misses at most what a worker gone between
    two reads reached in its last moments. 0 for a process that has exited."""
    peak, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
        # Each thread lists the children it started: workers may come from any thread.
        with suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with suppress(OSError):
                    todo.extend(int(c) for c in (task / "children").read_text().split())
    return peak


def spawn(archive: Path, *args: str, **kwargs: Any) -> Ran:
    """`preserve --archive ARCHIVE ARGS…` as a process of its own, waited for."""
    return Proc(archive, *args, **kwargs).wait()


def assert_rows_point_at_bytes(archive: Path) -> int:
    """Every captures and records row names a WARC file that exists (finished or `.open`)
    and a slice of it that reads back as exactly the record the row says. The count."""
    checked = 0
    for row in rows(
        archive,
        "SELECT warc, offset, length, record_id, record_sha256 FROM records"
        " UNION ALL SELECT warc, offset, length, record_id, record_sha256"
        " FROM captures WHERE warc IS NOT NULL",
    ):
        path = archive / "warcs" / row["warc"]
        still_open = path.with_name(path.name + OPEN_SUFFIX)
        assert path.exists() or still_open.exists(), f"{row['warc']} is missing"
        record = read_record(path, row["offset"], row["length"])
        assert record.record_id == row["record_id"]
        with open(path if path.exists() else still_open, "rb") as file:
            file.seek(row["offset"])
            assert hashlib.sha256(file.read(row["length"])).hexdigest() == row["record_sha256"]
        checked += 1
    return checked


def assert_verify_clean(archive: Path) -> None:
    """`preserve verify` finds nothing, and every row points at readable bytes."""
    ran = spawn(archive, "verify", "--json")
    assert ran.code == 0 and ran.json()["ok"], ran.stdout[-3000:] + ran.stderr
    assert not list((archive / "warcs").glob("*" + OPEN_SUFFIX))
    assert_rows_point_at_bytes(archive)


def one_line_error(ran: Ran) -> str:
    assert ran.stderr.startswith("Error: ") and ran.stderr.count("\n") == 1, ran.stderr[-3000:]
    assert "Traceback" not in ran.stderr
    return ran.stderr
