"""pywb on 127.0.0.1 for the tests: a collection made with wb-manager, served by `wayback`
on a free port, stopped by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import requests

# pywb lives in a venv of its own (the Makefile's .venv/pywb): it pins redis==2.10.6, which
# cannot share a venv with Dramatiq's redis>=4, so that venv comes first: a pywb left beside
# this Python by an older set-up runs with the wrong redis and exits at start. One installed
# beside this Python is used where there is no such venv.
_CANDIDATES = [Path(sys.prefix) / "pywb" / "bin", Path(sys.executable).parent]
BIN = next((b for b in _CANDIDATES if (b / "wayback").exists()), _CANDIDATES[0])
AVAILABLE = (BIN / "wayback").exists()


@contextmanager
def pywb(
    root: Path, source: Path, *, unpack_wacz: bool = False, start_timeout: float = 60.0
) -> Iterator[str]:
    """Serve `source` (a WARC, or a WACZ with unpack_wacz) as collection "evidence";
    yields the collection's base URL."""
    root.mkdir(parents=True, exist_ok=True)
    manager = [str(BIN / "wb-manager")]
    subprocess.run([*manager, "init", "evidence"], cwd=root, check=True, capture_output=True)
    add = [*manager, "add", *(["--unpack-wacz"] if unpack_wacz else []), "evidence", str(source)]
    subprocess.run(add, cwd=root, check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(BIN / "wayback"), "-b", "127.0.0.1", "-p", str(port)], cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/evidence"
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                requests.get(base + "/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, (
                    "wayback did not start"
                )
                time.sleep(0.2)
        yield base
    finally:
        # A wayback that died at start has no group left; the assertion above says so.
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
