"""`preserve migrate`: an archive in a folder copied onto servers, a PostgreSQL database and
(optionally) an S3-compatible WARC store: every row as stored (the hash chain and the log of
exports included, so the chain's head is the same on both sides), and every WARC file,
checked against its recorded sha256 before it is stored and by the store as it arrives.
The folder's archive is left as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from preserve.config import redacted
from preserve.engine.archive import Archive, hash_file
from preserve.errors import UsageError
from preserve.store import chain
from preserve.store.copying import copy_database
from preserve.store.database import Store
from preserve.warc.files import OPEN_SUFFIX
from preserve.warcstore import s3
from preserve.warcstore.location import parse_store


@dataclass(frozen=True)
class Migration:
    """What was copied, and the chain's head on both sides."""

    database: str  # the target, without a password
    warc_store: str | None
    rows: dict[str, int]
    files: int
    bytes: int
    source_head: str | None
    target_head: str | None


def migrate(
    archive: Archive,
    to: str,
    warc_store: str | None = None,
    *,
    on_step: Callable[[str], None] | None = None,
) -> Migration:
    """Copy `archive` (SQLite, WARC files in its folder) to the database `to` (empty) and
    its WARC files to `warc_store` (an `s3://bucket/prefix`; None: they stay in the folder,
    which the archive on the server then uses)."""
    say = on_step or (lambda _line: None)
    if archive.places.database or archive.remote:
        raise UsageError(
            f"{archive.where} is on servers already: migrate copies a folder's archive"
        )
    if not to.startswith(("postgresql://", "postgres://")):
        raise UsageError(f"--to must be a postgresql:// URL, not {redacted(to)}")
    if redacted(to) != to:
        raise UsageError(
            "--to holds a password, which a command line shows to everyone on the machine: "
            "give it in PGPASSWORD or ~/.pgpass instead"
        )
    location = parse_store(warc_store) if warc_store else None
    unfinished = sorted(p.name for p in archive.spool.glob("*" + OPEN_SUFFIX))
    if unfinished:
        raise UsageError(
            f"{unfinished[0]} was left unfinished by a run that died: run `preserve check` "
            "(which seals it) and `preserve verify`, then migrate"
        )
    files = archive.store.warc_files()
    for row in files:
        path = archive.spool / row.name
        if not path.exists() or hash_file(path)[1] != row.sha256:
            raise UsageError(
                f"{row.name} is missing or no longer the file recorded: run `preserve verify`"
            )
    target = Store(to)
    try:
        rows = copy_database(archive.store, target, lambda t, n: say(f"copied {n} {t} row(s)"))
        sent = 0
        if location is not None:
            for row in files:
                s3.put_file(location, archive.spool / row.name, row.size, row.sha256,
                            archive.places.warc_store_wait)  # fmt: skip
                sent += row.size
                say(f"stored {row.name} ({row.size} bytes) in {location.url}")
        source_head = chain.head(archive.store.conn)
        target_head = chain.head(target.conn)
    finally:
        target.close()
    return Migration(
        redacted(to),
        location.url if location else None,
        rows,
        len(files) if location else 0,
        sent,
        source_head.entry_hash if source_head else None,
        target_head.entry_hash if target_head else None,
    )
