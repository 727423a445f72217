"""The WARC files of an evidence package: the chosen records, copied byte for byte.

Each gzip member is copied as it is (same record ids, digests and record hashes), grouped
by the archive's file it comes from, that file's warcinfo record first."""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from preserve.errors import IntegrityError
from preserve.evidence.layout import ARCHIVE_DIR
from preserve.evidence.selection import Selection
from preserve.store.database import Store
from preserve.store.rows import Record
from preserve.warc.files import open_warc
from preserve.warc.reader import read_record

_READ_SIZE = 64 << 10


@dataclass
class PackageWarc:
    """One WARC file of the package, and the archive's file its records come from."""

    source: str  # the name of the archive's file
    path: str  # inside the ZIP
    file: Path  # where it is written, before going into the ZIP
    warcinfo: dict[str, Any] = field(default_factory=dict)
    count: int = 0


Placed = dict[str, tuple[str, int]]  # record id -> (path in the ZIP, offset)


def write_warcs(
    store: Store, warc_dir: Path, selection: Selection, work: Path
) -> tuple[list[PackageWarc], Placed]:
    """Copy the chosen records into files under `work`, grouped by source file, each file's
    warcinfo first; the original of each revisit is added to `selection.records`. Returns
    the package's files and where each record landed."""
    records = {r.record_id: r for r in selection.records}
    for row in list(records.values()):  # the original of each revisit (same URL, same file
        if row.type != "revisit":  # or an earlier one)
            continue
        original = _original_of(store, warc_dir, row)
        if original.record_id not in records:
            records[original.record_id] = original
            selection.why[original.record_id] = f"original of {row.record_id}"
    by_source: dict[str, list[Record]] = {}
    for row in records.values():
        by_source.setdefault(row.warc, []).append(row)
    warcs: list[PackageWarc] = []
    placed: Placed = {}
    work.joinpath(ARCHIVE_DIR).mkdir()
    used: set[str] = set()
    for source in sorted(by_source):
        name = _package_name(source, used)
        target = PackageWarc(source, f"{ARCHIVE_DIR}/{name}", work / ARCHIVE_DIR / name)
        path = warc_dir / source
        try:
            src_file = open_warc(path)
        except OSError as exc:
            raise IntegrityError(
                f"cannot read the WARC file {source} that records of these "
                f"captures are in ({exc.strerror or exc}); run `preserve "
                "verify`"
            ) from exc
        with src_file as src, open(target.file, "wb") as dst:
            length = _first_member_length(src, path)
            info = read_record(path, 0, length)
            if info.rec_type != "warcinfo":
                raise IntegrityError(f"{source}: its first record is not a warcinfo record")
            src.seek(0)
            member = src.read(length)
            dst.write(member)
            target.warcinfo = {
                "record_id": info.record_id,
                "source_offset": 0,
                "offset": 0,
                "length": length,
                "record_sha256": hashlib.sha256(member).hexdigest(),
            }
            position = length
            for row in sorted(by_source[source], key=lambda r: r.offset):
                if row.offset == 0:
                    continue  # a warcinfo listed as a record: already copied
                src.seek(row.offset)
                member = src.read(row.length)
                if len(member) != row.length:
                    raise IntegrityError(
                        f"{source} @ {row.offset}: file ends before the record {row.record_id} does"
                    )
                if row.record_sha256 and (hashlib.sha256(member).hexdigest() != row.record_sha256):
                    raise IntegrityError(
                        f"{source} @ {row.offset}: record {row.record_id} is not the one "
                        "recorded at capture (sha256 differs); run `preserve verify`"
                    )
                dst.write(member)
                placed[row.record_id] = (target.path, position)
                position += row.length
                target.count += 1
        warcs.append(target)
    selection.records = list(records.values())
    return warcs, placed


def _original_of(store: Store, warc_dir: Path, revisit: Record) -> Record:
    """The records row of the response a revisit refers to (by its WARC-Refers-To)."""
    record = read_record(warc_dir / revisit.warc, revisit.offset, revisit.length)
    refers_to = record.header("WARC-Refers-To")
    row = store.export_record_by_id(refers_to) if refers_to else None
    if row is None:
        raise IntegrityError(
            f"the original {refers_to} of revisit {revisit.record_id} "
            f"({revisit.url}) is not in this archive"
        )
    return row


def _first_member_length(file: IO[bytes], path: Path) -> int:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    consumed = 0
    while not inflater.eof:
        chunk = file.read(_READ_SIZE)
        if not chunk:
            raise IntegrityError(f"{path.name}: its first gzip member is incomplete")
        try:
            inflater.decompress(chunk)
        except zlib.error as exc:
            raise IntegrityError(f"{path.name}: not a gzip file ({exc})") from exc
        consumed += len(chunk) - len(inflater.unused_data)
    return consumed


def _package_name(source: str, used: set[str]) -> str:
    stem = re.sub(r"\.warc(\.gz)?$", "", source)
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", stem)
    name, n = f"{stem}-export.warc.gz", 1
    while name.lower() in used:
        n += 1
        name = f"{stem}-export-{n}.warc.gz"
    used.add(name.lower())
    return name
