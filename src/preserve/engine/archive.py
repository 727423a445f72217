"""An archive is a folder: `preserve.db` (the index and the log) and `warcs/` (WARC files,
never rewritten once closed); or, on servers, a PostgreSQL database and an S3-compatible
WARC store, with `warcs/` the spool where files are written before they are uploaded
(`docs/servers.md`). This module opens one and starts runs in it."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from preserve import __version__
from preserve.config import Config, Places, load_places, redacted
from preserve.errors import ArchiveError
from preserve.store.database import Store
from preserve.warc.files import OPEN_SUFFIX, lock_open_file
from preserve.warc.writer import ClosedWarc, WarcWriter
from preserve.warcstore import s3
from preserve.warcstore.location import S3Location, parse_store
from preserve.warcstore.remote import RemoteFolder

if TYPE_CHECKING:
    from preserve.times import Clock

DB_NAME = "preserve.db"
WARC_DIR = "warcs"


class Archive:
    """An archive folder, created on first use."""

    def __init__(
        self,
        path: Path,
        *,
        create: bool = True,
        writes: bool = True,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        """`writes=False`: for a command that only reads. A folder that cannot be written
        (read-only media, a read-only mount) is then opened read-only instead of refused,
        so that an archive can be verified, searched and reported on where it is kept.
        With a database server, the folder holds only the settings and the spool."""
        self.path = path
        self.places: Places = load_places(path)
        # Where WARC files are written: the folder itself, or the spool they are uploaded from.
        self.spool = path / WARC_DIR
        self.remote: S3Location | None = None
        self.warcs: Path = self.spool  # where they are read from (see warcstore.remote)
        if self.places.warc_store:
            self.remote = parse_store(self.places.warc_store)
            self.warcs = cast(
                Path, RemoteFolder(self.remote, self.spool, self.places.warc_store_wait)
            )
        if self.places.database:
            if writes:
                self._make_folder()
            self.store = Store(self.places.database, on_wait=on_wait)
            return
        if not path.exists() and not create:
            raise ArchiveError(f"no archive at {path} (run `preserve capture URL` first)")
        writable = os.access(path, os.W_OK) and (
            not self.spool.exists() or os.access(self.spool, os.W_OK)
        )
        read_only = not writable and not writes and (path / DB_NAME).exists()
        if not read_only:
            self._make_folder()
        self.store = Store(path / DB_NAME, on_wait=on_wait, read_only=read_only)

    def _make_folder(self) -> None:
        path = self.path
        if not path.parent.is_dir():
            # As mkdir does: a mistyped path must not become a tree of new folders.
            raise ArchiveError(
                f"cannot create the archive folder {path}: its parent folder "
                f"{path.parent} does not exist (create it first)"
            )
        try:
            path.mkdir(exist_ok=True)
            self.spool.mkdir(exist_ok=True)
        except OSError as exc:
            raise ArchiveError(f"cannot create the archive folder {path}: {exc.strerror}") from exc
        if not os.access(path, os.W_OK) or not os.access(self.spool, os.W_OK):
            raise ArchiveError(f"the archive folder {path} is not writable")

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def warc_path(self, name: str) -> Path:
        """Where to read the WARC file `name` (in the store, read as a file is)."""
        return self.warcs / name

    @property
    def where(self) -> str:
        """What the archive is, for people: its folder, or its servers (no password)."""
        if not self.places.database and not self.remote:
            return str(self.path)
        database = redacted(self.places.database) if self.places.database else str(self.path)
        return f"{database} with WARC files in {self.remote.url if self.remote else self.spool}"

    def has_warc(self, name: str) -> bool:
        """Whether the WARC file `name` can be read: on disk (or being written), or, with a
        WARC store, recorded as stored (it is recorded only once the store has it)."""
        path = self.spool / name
        if path.exists() or path.with_name(path.name + OPEN_SUFFIX).exists():
            return True
        return self.remote is not None and self.store.warc_file(name) is not None

    def record_closed(
        self, name: str, run_id: int | None, *, size: int, sha256: str, closed_at: datetime
    ) -> None:
        """Enter a closed WARC file in `warc_files`, after uploading it (checked) to the WARC
        store if there is one; its spool copy goes once the row is committed."""
        if self.remote is not None:
            path = self.spool / name
            s3.put_file(self.remote, path, size, sha256, self.places.warc_store_wait)
            self.store.after_commit.append(lambda: path.unlink(missing_ok=True))
        self.store.add_warc_file(name, run_id, size=size, sha256=sha256, closed_at=closed_at)


class Run:
    """One command's work in an archive: a `runs` row and the WARC file(s) it writes."""

    def __init__(
        self,
        archive: Archive,
        command: str,
        config: Config,
        clock: Clock,
        options: dict[str, Any],
        *,
        joining: int | None = None,
    ) -> None:
        """`joining`: work for the run of that id, which another process started (a worker
        checking one of its jobs): no `runs` row of its own, and the run goes on after."""
        self.archive = archive
        self.clock = clock
        self.config = config
        self.host = socket.gethostname()
        self.joined = joining is not None
        self.id = joining or archive.store.start_run(
            command,
            {**options, "config": _plain(config)},
            started_at=clock(),
            tool_version=__version__,
            host=self.host,
            pid=os.getpid(),
        )
        # What runs that died left behind (before this run opens a file of its own).
        self.recovered = seal_orphans(archive, by_run=self.id, now=clock())
        # With a WARC store, rows are committed only once the file their records are in is
        # sealed and stored: each commit closes the file being written (see `_sealed`), so
        # commits come less often (`commit_seconds`).
        self.commit_seconds = config.upload_seconds if archive.remote else None
        self.writer = WarcWriter(
            archive.spool,
            info={
                "operator": f"preserve run {self.id} on {self.host}",
                "preserve-run": str(self.id),
                "preserve-command": command,
            },
            rotate_bytes=config.warc_rotate_bytes,
            clock=clock,
            on_closed=self._closed,
        )

        if archive.remote is not None:
            archive.store.before_commit.append(self._sealed)

    def _sealed(self) -> None:
        """Before a commit: the file being written is closed, and so stored (`_closed`)."""
        if self.writer.current_path is not None:
            self.writer.close()

    def _closed(self, warc: ClosedWarc) -> None:
        self.archive.record_closed(
            warc.name, self.id, size=warc.size, sha256=warc.sha256, closed_at=self.clock()
        )

    def finish(self) -> None:
        # A file is sealed (renamed) and then logged in `warc_files`: a Ctrl-C between the
        # two left a finished file that no row names, which `verify` reports. Held back
        # until both are done (and the run ended), then the command stops as it asked.
        store = self.archive.store
        try:
            with _signals_held(), store.transaction():  # stored and recorded, then ended
                self.writer.close()
                if not self.joined:
                    store.end_run(self.id, self.clock())
        finally:
            if self._sealed in store.before_commit:
                store.before_commit.remove(self._sealed)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back for a moment, then act on them as they would have been
    (their handlers run only in the main thread, so only it holds them back)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda n, _f: caught.append(n)) for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        for number in dict.fromkeys(caught):
            signal.raise_signal(number)


@dataclass(frozen=True)
class Recovery:
    """One thing a run repaired of what a dead run left behind (a `recoveries` row)."""

    kind: str  # sealed-warc | dropped-warc | registered-warc | unsealable-warc | dead-run
    run_id: int | None  # the run that died
    warc: str | None
    detail: str  # one line for people
    kept_bytes: int = 0
    cut_bytes: int = 0
    records: int = 0


def seal_orphans(archive: Archive, *, by_run: int, now: datetime) -> list[Recovery]:
    """Finish what runs that died (kill -9, a crash, power loss) left behind, so that the
    archive verifies clean again without anyone's help:

    - a `NAME.open` WARC file whose lock nobody holds (a writer holds it until the file is
      renamed, and the system drops it when the writer dies): cut after its last whole gzip
      member, renamed to NAME and entered in `warc_files`. The torn record cut off has no row
      pointing at it, since rows are committed only after their records are synced; a file
      without even a whole warcinfo is removed;
    - a closed file missing from `warc_files` whose run is over (it died between the two);
    - runs on this host whose process is gone, and runs whose file had to be sealed: ended
      at their last capture.

    Each is logged in `recoveries`. Safe while other runs write: their files are locked.
    """
    store = archive.store
    found: list[Recovery] = []
    for path in sorted(archive.spool.glob("*" + OPEN_SUFFIX)):
        recovery = _seal(archive, path, now)
        if recovery is not None:
            found.append(recovery)
    sealed = {r.run_id for r in found if r.run_id is not None}
    host = socket.gethostname()
    working = store.runs_with_jobs_left()  # workers are checking them: alive
    unfinished = {run.id: run for run in store.open_runs() if run.id != by_run}
    dead = {
        run_id: run
        for run_id, run in unfinished.items()
        if run_id not in working
        and (run_id in sealed or (run.host == host and run.pid and not _alive(run.pid)))
    }
    known = {row.name for row in store.warc_files()}
    for path in sorted(archive.spool.glob("*.warc.gz")):
        if path.name in known:
            if archive.remote is not None:
                _drop_stored(archive, path)
            continue
        run_id = _run_of(store, _warccheck().read_warcinfo(path)[1])
        # A live run enters its file once it has closed it; a file of no known run is not
        # preserve's to enter (verify reports it).
        if run_id is not None and (run_id in dead or run_id not in unfinished):
            size, digest = hash_file(path)
            with store.transaction():
                archive.record_closed(path.name, run_id, size=size, sha256=digest, closed_at=now)
            found.append(
                Recovery(
                    "registered-warc",
                    run_id,
                    path.name,
                    f"entered {path.name} in warc_files (its run ended first)",
                    kept_bytes=size,
                )
            )
    for recovery in found:
        store.add_recovery(
            now,
            by_run,
            recovery.kind,
            recovery.run_id,
            warc=recovery.warc,
            kept_bytes=recovery.kept_bytes,
            cut_bytes=recovery.cut_bytes,
            records=recovery.records,
            detail=recovery.detail,
        )
    for run_id, run in sorted(dead.items()):
        detail = (
            f"run {run_id} (process {run.pid} on {run.host}) died before it "
            "ended; ended at its last stored capture"
        )
        if store.end_dead_run(run_id, by_run_id=by_run, now=now, detail=detail):
            found.append(Recovery("dead-run", run_id, None, detail))
    return found


def _seal(archive: Archive, path: Path, now: datetime) -> Recovery | None:
    """Seal one `.open` file if its writer is dead (see `seal_orphans`); None if it is in use
    (or was sealed by someone else meanwhile)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "r+b") as file:
        if not lock_open_file(fd, path):
            return None
        result = _warccheck().scan(path)
        end = records = 0
        for member in result.members:
            if not member.whole or member.offset != end:
                break
            end, records = end + member.length, records + 1
        if records and result.members[0].rec_type != "warcinfo":
            end = records = 0
        final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
        run_id = _run_of(archive.store, result.info)
        cut = result.size - end
        needed = archive.store.rows_end(final.name)
        if needed > end or final.exists():
            why = (
                f"rows point up to byte {needed}, but its whole records end at {end}"
                if needed > end
                else f"{final.name} exists too"
            )
            return Recovery(
                "unsealable-warc",
                run_id,
                path.name,
                f"left {path.name} as it is: {why}",
                kept_bytes=result.size,
            )
        if not records:
            os.unlink(path)
            _fsync_dir(path.parent)
            return Recovery(
                "dropped-warc",
                run_id,
                path.name,
                f"removed {path.name}: its writer died before a whole record "
                f"was in it ({cut} bytes)",
                cut_bytes=cut,
            )
        if cut:
            file.truncate(end)
        os.fsync(fd)
        os.rename(path, final)
        _fsync_dir(path.parent)
    size, digest = hash_file(final)
    with archive.store.transaction():
        archive.record_closed(final.name, run_id, size=size, sha256=digest, closed_at=now)
    torn = f", cut off a torn record of {cut} bytes" if cut else ""
    return Recovery(
        "sealed-warc",
        run_id,
        final.name,
        f"sealed {final.name} left open by a run that died: kept {records} whole records{torn}",
        kept_bytes=size,
        cut_bytes=cut,
        records=records,
    )


def _drop_stored(archive: Archive, path: Path) -> None:
    """A spool file that is stored and recorded (its run died before deleting it): deleted
    once the store is seen to hold it whole."""
    assert archive.remote is not None
    held = s3.head(archive.remote, path.name, archive.places.warc_store_wait)
    if held is not None and held[0] == path.stat().st_size:
        path.unlink(missing_ok=True)


def _run_of(store: Store, info: dict[str, str]) -> int | None:
    """The run a WARC file says it was written by (its warcinfo), if the database has it."""
    text = info.get("preserve-run", "")
    return int(text) if text.isdigit() and store.run_exists(int(text)) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _plain(config: Config) -> dict[str, Any]:
    plain = {
        k: (v.total_seconds() if hasattr(v, "total_seconds") else v)
        for k, v in asdict(config).items()
    } | {"fetch": asdict(config.fetch)}
    # Stored in the database: the servers' URLs, never their passwords.
    for key in ("database", "warc_store", "broker"):
        if plain.get(key):
            plain[key] = redacted(plain[key])
    return plain


def _warccheck() -> ModuleType:
    """`preserve.warc.scan`, imported when a dead run left something to look at: a run that
    finds nothing to seal (nearly all) need not load it (a 150th of a second of its start)."""
    from preserve.warc import scan

    return scan
