"""The WARC files `verify` reads: the database's files matched with those on disk.

A file is found by its name, or by the name its warcinfo record gives it (so a renamed file
is found, and said to be renamed). A `NAME.open` file is one a run is still writing, unless
no writer holds it any more: then it is unfinished (the run crashed), and its complete
records are still checked.
"""

from __future__ import annotations

import fcntl
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from preserve.engine.archive import Archive
from preserve.evidence.problems import Problem
from preserve.store.rows import WarcFileRow
from preserve.warc.files import OPEN_SUFFIX
from preserve.warc.scan import read_warcinfo


@dataclass
class WarcFile:
    """A known WARC file (or an unknown one) and where it is on disk."""

    name: str
    path: Path | None = None
    closed: WarcFileRow | None = None  # its warc_files row
    problems: list[Problem] = field(default_factory=list)
    read: bool = True


@dataclass(frozen=True)
class Located:
    """The files found: those to check (known to the database, or unfinished), problems
    of files on disk that the database does not know, and `.open` files still being
    written (not checked)."""

    files: list[WarcFile]
    extra: list[Problem]
    in_progress: list[str]


def locate(
    archive: Archive, known: set[str], closed: dict[str, WarcFileRow], since: str | None
) -> Located:
    """Match the files the database knows with those on disk, by name and by the name each
    file's warcinfo gives itself. `since`: files closed before it are not to be read (only
    their size is compared)."""
    disk = (
        {p.name: p for p in sorted(archive.warcs.iterdir(), key=lambda p: p.name) if p.is_file()}
        if archive.warcs.is_dir()
        else {}
    )
    claims: dict[str, list[str]] = {}  # the name a file was written as → names on disk
    infos: dict[str, dict[str, str]] = {}
    for name, path in disk.items():
        written_as, info = read_warcinfo(path)
        infos[name] = info
        base = name.removesuffix(OPEN_SUFFIX)
        claims.setdefault(written_as or base, []).append(name)
        if written_as and written_as != base:
            claims.setdefault(base, [])
    live = _live_runs(archive)
    used: set[str] = set()
    files: list[WarcFile] = []
    in_progress: list[str] = []
    for name in sorted(known):
        f = WarcFile(name, closed=closed.get(name))
        files.append(f)
        found = claims.get(name, [])
        if not found and name in disk and not _claimed_elsewhere(name, claims):
            found = [name]
        found = sorted(found, key=lambda n: (n != name, n != name + OPEN_SUFFIX, n))
        if not found:
            f.problems.append(
                Problem("file-missing", name, None, None, f"{name} is not in {archive.warcs}")
            )
            continue
        on_disk = found[0]
        used.add(on_disk)
        f.path = disk[on_disk]
        f.read = since is None or f.closed is None or (f.closed.closed_at or "") >= since
        if on_disk == name + OPEN_SUFFIX and f.closed is None:
            if _being_written(f.path, infos[on_disk], live):
                in_progress.append(on_disk)
                f.read = False
            else:
                f.problems.append(
                    Problem(
                        "file-unfinished",
                        name,
                        None,
                        None,
                        f"{on_disk} was never finished (its run ended without closing it: a "
                        "crash?); its complete records are still checked",
                    )
                )
        elif on_disk != name:
            f.problems.append(
                Problem("file-renamed", name, None, None, f"{name} is on disk as {on_disk}")
            )
        elif f.closed is None and infos[on_disk].get("preserve-run") not in live:
            f.problems.append(
                Problem(
                    "file-unrecorded",
                    name,
                    None,
                    None,
                    f"{name} is closed on disk but not in warc_files, so its hash is in no log",
                )
            )
        if not f.read and f.closed is not None and f.path.stat().st_size != f.closed.size:
            f.problems.append(
                Problem(
                    "file-changed",
                    name,
                    None,
                    None,
                    f"{on_disk} has {f.path.stat().st_size} bytes, warc_files says {f.closed.size}",
                )
            )
    extra: list[Problem] = []
    for name in sorted(set(disk) - used):
        if name.endswith(OPEN_SUFFIX) and _being_written(disk[name], infos[name], live):
            in_progress.append(name)
        elif name.endswith(OPEN_SUFFIX) and infos[name].get("preserve-run"):
            f = WarcFile(name, path=disk[name])
            f.problems.append(
                Problem(
                    "file-unfinished",
                    name,
                    None,
                    None,
                    f"{name} was never finished and no capture in the database uses it (its "
                    "run crashed before storing any)",
                )
            )
            files.append(f)
        else:
            extra.append(
                Problem(
                    "file-extra",
                    name,
                    None,
                    None,
                    f"{name} is in {archive.warcs} but unknown to the database",
                )
            )
    return Located(files, extra, in_progress)


def _claimed_elsewhere(name: str, claims: dict[str, list[str]]) -> bool:
    return any(name in names for written_as, names in claims.items() if written_as != name)


def _being_written(path: Path, info: dict[str, str], live: set[str]) -> bool:
    """Is this `.open` file still being written: its writer holds its lock (see
    `preserve.warc.records.lock_open_file`; the system drops it when the writer dies), or
    its run is alive (covering the instant between creating the file and locking it)."""
    if info.get("preserve-run") in live:
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # and with it our lock, if we took one


def _live_runs(archive: Archive) -> set[str]:
    """Ids of runs still writing on this host: started, not ended, their process alive."""
    host = socket.gethostname()
    live = set()
    for run in archive.store.open_runs():
        if run.host == host and run.pid and _alive(run.pid):
            live.add(str(run.id))
    return live


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True
