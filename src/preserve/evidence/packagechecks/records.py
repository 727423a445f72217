"""Checks of a package's WARC records and of the index that points at them.

Every record whole with matching digests, each the one recorded at capture (by its sha256
in the provenance), and every index entry pointing at the record it names."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from preserve.evidence.hashing import CHUNK
from preserve.evidence.layout import ARCHIVE_DIR, IDX_PATH, INDEX_PATH, PROVENANCE_PATH
from preserve.evidence.packagechecks.report import PackageReport, read_member
from preserve.warc.scan import strict_check

_PROVES_RECORDS = (
    "Each WARC record is whole, its block and payload sha256 digests match, each "
    "index entry points at the record it names, and each record's gzip member has "
    "the sha256 that provenance.json says preserve computed when it wrote the "
    "record at capture time: the records are the archive's own, copied unchanged. "
    "That they are the bytes received then rests on the archive's log (`preserve "
    "verify`) and on this package's signature and time-stamps; nothing proves that "
    "the server sent them (TLS gives no such proof)."
)


def check_records(package: zipfile.ZipFile, names: list[str], report: PackageReport) -> None:
    """strict_check of every WARC, and each provenance record's member hash at its place."""
    warcs = [n for n in names if n.startswith("archive/") and n.endswith(".warc.gz")]
    failed = False
    count = 0
    with tempfile.TemporaryDirectory(prefix="preserve-verify-") as tmp:
        copies: dict[str, Path] = {}
        for number, name in enumerate(warcs):
            target = Path(tmp) / f"{number}.warc.gz"
            try:
                with package.open(name) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
            except (zipfile.BadZipFile, zlib.error, OSError):
                failed = True  # already reported by the files check
                continue
            copies[name] = target
            problems = strict_check(target)
            for problem in problems[:5]:
                report.add(
                    "records",
                    "fail",
                    f"{name} @ {problem.offset}: {problem.kind}: {problem.detail}",
                )
            if len(problems) > 5:
                report.add("records", "fail", f"{name}: {len(problems) - 5} more problems")
            failed = failed or bool(problems)
        provenance = None
        if PROVENANCE_PATH in names:
            raw = read_member(package, PROVENANCE_PATH, report, "records")
            try:
                provenance = json.loads(raw) if raw is not None else None
            except ValueError:
                report.add("records", "fail", f"{PROVENANCE_PATH} is not JSON")
                failed = True
        if provenance is None:
            if not failed:
                report.add(
                    "records",
                    "warn",
                    f"no readable {PROVENANCE_PATH}: records not "
                    "compared with their capture-time hashes",
                )
            failed = True
        for record in _provenance_records(provenance):
            place = record.get("package") or {}
            copy = copies.get(place.get("path", ""))
            if copy is None:
                continue
            count += 1
            offset, length = int(place.get("offset", 0)), int(place.get("length", 0))
            with open(copy, "rb") as file:
                file.seek(offset)
                member = file.read(length)
            if hashlib.sha256(member).hexdigest() != record.get("record_sha256"):
                report.add(
                    "records",
                    "fail",
                    f"{place.get('path')} @ {offset}: record "
                    f"{record.get('record_id')} ({record.get('url')}) is not the one "
                    "recorded at capture (its sha256 differs)",
                )
                failed = True
        indexed = _check_index(package, names, copies, report)
        failed = failed or indexed is None
    if not failed:
        report.add(
            "records",
            "ok",
            f"{len(warcs)} WARC file(s) whole, every digest matches; "
            f"{count} records (warcinfo included) have the sha256 recorded at capture; "
            f"{indexed} index "
            "entries point at the records they name",
            _PROVES_RECORDS,
        )


def _check_index(
    package: zipfile.ZipFile, names: list[str], copies: dict[str, Path], report: PackageReport
) -> int | None:
    """Each CDXJ line points at a whole record whose sha256 is its recordDigest; the number
    of lines, or None if any does not."""
    if INDEX_PATH not in names or IDX_PATH not in names:
        return None  # the structure check says so
    raw = read_member(package, INDEX_PATH, report, "records")
    idx = read_member(package, IDX_PATH, report, "records")
    if raw is None or idx is None:
        return None
    lines = None
    try:
        lines = gzip.decompress(raw).decode("utf-8").splitlines()
    except (OSError, EOFError, UnicodeDecodeError, zlib.error):
        report.add("records", "fail", f"{INDEX_PATH} is not gzipped CDXJ")
    if not _idx_ok(raw, idx, report) or lines is None:
        return None
    ok = True
    for number, line in enumerate(lines, 1):
        try:
            fields = json.loads(line.split(" ", 2)[2])
            copy = copies.get(f"{ARCHIVE_DIR}/{fields['filename']}")
            offset, length = int(fields["offset"]), int(fields["length"])
        except (IndexError, KeyError, ValueError, TypeError):
            report.add("records", "fail", f"{INDEX_PATH} line {number} is not a CDXJ line")
            ok = False
            continue
        if copy is None:
            report.add(
                "records",
                "fail",
                f"{INDEX_PATH} line {number} names "
                f"{fields['filename']!r}, which is not in archive/",
            )
            ok = False
            continue
        with open(copy, "rb") as file:
            file.seek(offset)
            member = file.read(length)
        expected = fields.get("recordDigest")
        if expected and "sha256:" + hashlib.sha256(member).hexdigest() != expected:
            report.add(
                "records",
                "fail",
                f"{INDEX_PATH} line {number} ({fields.get('url')}) "
                "does not point at the record it names",
            )
            ok = False
    return len(lines) if ok else None


def _idx_ok(blocks: bytes, idx: bytes, report: PackageReport) -> bool:
    """Each IDX line names a whole gzip block of the CDXJ, with its sha256, starting with
    the line's key; the blocks follow each other and fill the file."""
    position = 0
    for number, line in enumerate(idx.decode("utf-8", errors="replace").splitlines(), 1):
        if line.startswith("!meta"):
            continue
        try:
            key, _, text = line.partition(" {")
            fields = json.loads("{" + text)
            offset, length = int(fields["offset"]), int(fields["length"])
            block = blocks[offset : offset + length]
            first = gzip.decompress(block).decode("utf-8").split("\n", 1)[0]
        except (KeyError, ValueError, TypeError, OSError, EOFError, zlib.error):
            report.add(
                "records",
                "fail",
                f"{IDX_PATH} line {number} does not name a gzip block of {INDEX_PATH}",
            )
            return False
        digest = fields.get("digest")
        if (
            offset != position
            or not first.startswith(key)
            or (digest and digest != "sha256:" + hashlib.sha256(block).hexdigest())
        ):
            report.add(
                "records",
                "fail",
                f"{IDX_PATH} line {number} does not match the block of {INDEX_PATH} it names",
            )
            return False
        position = offset + length
    if position != len(blocks):
        report.add("records", "fail", f"{IDX_PATH} does not cover all of {INDEX_PATH}")
        return False
    return True


def _provenance_records(provenance: Any) -> Iterable[dict[str, Any]]:
    if not isinstance(provenance, dict):
        return
    for capture in provenance.get("captures") or []:
        yield from capture.get("records") or []
    yield from provenance.get("other_records") or []
    for warc in provenance.get("warc_files") or []:
        info = warc.get("warcinfo") or {}
        if info:
            yield {"record_id": info.get("record_id"), "record_sha256": info.get("record_sha256"),
                   "package": {"path": warc.get("path"), "offset": info.get("offset", 0),
                               "length": info.get("length", 0)}}  # fmt: skip
