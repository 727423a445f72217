"""The Chromium binary and its processes: where it is, how it is started, how much memory
its process tree holds, and killing all of it (its processes stay in one process group)."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import shutil
import signal
from collections.abc import Iterable

# Debian's binary itself: /usr/bin/chromium is a shell wrapper that sources
# /etc/chromium.d (API keys, extension loading, a /dev/shm test that fails in containers).
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium-browser")
# No sandbox: Chromium refuses to start as root with it (docs/browser.md#security says what
# that costs). Chromium reads only the last --disable-features, so none is passed here:
# Playwright's own list stays.
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--deny-permission-prompts",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """The Chromium binary to launch, or None when this machine has none
    (`PRESERVE_CHROMIUM` names another)."""
    named = os.environ.get("PRESERVE_CHROMIUM")
    if named:
        return named if os.access(named, os.X_OK) else None
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


def playwright_missing() -> str | None:
    """Why Playwright cannot be used here, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install 'preserve[browser]')"
    return None


def tree(root: int | None) -> list[int]:
    """`root` and all its descendants, from /proc."""
    if not root:
        return []
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
    return found


def rss(pid: int) -> int:
    """Bytes resident in process `pid` (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def is_renderer(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"--type=renderer" in f.read()
    except OSError:
        return False


_LIVE: set[int] = set()  # the browsers (process-group leaders) this process started


def started(pid: int) -> None:
    """Note a browser this process launched, so that it is killed at exit whatever happens."""
    _LIVE.add(pid)


def kill_groups(pids: Iterable[int | None]) -> None:
    """SIGKILL each browser's process group: Playwright starts Chromium as a group leader,
    and its zygotes, renderers and utility processes stay in that group."""
    for pid in pids:
        if pid:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            _LIVE.discard(pid)


atexit.register(lambda: kill_groups(list(_LIVE)))
