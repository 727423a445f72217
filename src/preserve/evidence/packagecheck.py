"""Checking an evidence package offline (`preserve verify-package`): every file against the
datapackage, the datapackage against its digest, the signature and time-stamp tokens against
the digest, every WARC record against its own digests, the index against the records, and each
hash-chain entry in the provenance recomputed from the row it carries. The layout it checks is
`wacz`'s, which writes the packages."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import tempfile
import textwrap
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from cryptography import x509

from preserve.evidence.signing import (
    check_token,
    fingerprint,
    verify_signed_data,
)
from preserve.evidence.wacz import (
    ARCHIVE_DIR,
    COPY_CHUNK,
    DATAPACKAGE,
    DIGEST,
    IDX_PATH,
    INDEX_PATH,
    PAGES_PATH,
    PROVENANCE_PATH,
    STORED_PREFIXES,
    WACZ_VERSION,
)
from preserve.warc.scan import strict_check


@dataclass(frozen=True)
class Check:
    """One check of a package: what was checked, the verdict, and what it proves."""

    name: str
    status: str  # ok | fail | warn | info
    detail: str
    proves: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "status": self.status,
            "ok": self.status != "fail",
            "detail": self.detail,
            "proves": self.proves,
        }


@dataclass
class PackageReport:
    path: Path
    checks: list[Check] = field(default_factory=list)
    created: str | None = None
    software: str | None = None
    digest: str | None = None

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [check for check in self.checks if check.status == "fail"]

    def add(self, name: str, status: str, detail: str, proves: str = "") -> None:
        self.checks.append(Check(name, status, detail, proves))

    def to_json(self) -> dict[str, Any]:
        return {"file": str(self.path), "ok": self.ok, "digest": self.digest,
                "created": self.created, "software": self.software,
                "checks": [c.to_json() for c in self.checks],
                "problems": [f"{c.name}: {c.detail}" for c in self.problems]}  # fmt: skip


PROVES = {
    "files": "Every file listed in datapackage.json has exactly the listed size and sha256. "
    "Alone this shows no accident changed the package; someone who altered a file "
    "could have rewritten datapackage.json too, which the signature and time-stamps "
    "rule out.",
    "structure": "The package has the parts of a WACZ 1.1.1 that replay tools need (pages, "
    "CDXJ index, uncompressed WARCs).",
    "records": "Each WARC record is whole, its block and payload sha256 digests match, each "
    "index entry points at the record it names, and each record's gzip member has "
    "the sha256 that provenance.json says preserve computed when it wrote the "
    "record at capture time: the records are the archive's own, copied unchanged. "
    "That they are the bytes received then rests on the archive's log (`preserve "
    "verify`) and on this package's signature and time-stamps; nothing proves that "
    "the server sent them (TLS gives no such proof).",
    "chain": "The captures and WARC files described in provenance.json are the rows that the "
    "archive's hash chain logged when they were written. That they were not changed "
    "afterwards shows only against a chain head kept elsewhere: `preserve verify --head` "
    "with this head on the archive checks that it is still an entry of its chain; this "
    "package's signature and time-stamps fix the head as of the export.",
    "digest": "datapackage.json is the one named by the package digest, so the digest covers "
    "every listed file.",
    "signature": "Whoever holds the private key of this public key signed this package digest: "
    "they attest to this exact package. It does not prove who that is (compare "
    "the key's fingerprint with one obtained independently, or pass "
    "--public-key), nor when they signed ('created' is their own claim), nor "
    "that the web server sent these bytes.",
    "timestamp": "The time-stamping authority attests that this package digest, and so every "
    "file in the package, existed at the token's time. Trustworthy only if the "
    "token verifies to a root you trust (--tsa-root). It does not say who made the "
    "package or that the content is what the server sent.",
}


def verify_package(
    path: Path, roots: Sequence[x509.Certificate] = (), public_key: str | None = None
) -> PackageReport:
    """Check an exported package offline. Never raises for a damaged package: every problem
    is a failed check."""
    report = PackageReport(Path(path))
    try:
        _verify(report, roots, public_key)
    except Exception as exc:  # a package malformed in a way no check foresaw: still one line
        report.add(
            "package",
            "fail",
            f"cannot be read as an evidence package ({type(exc).__name__}: {exc})",
        )
    return report


def report_text(report: PackageReport) -> str:
    """The verdict for a terminal: one line per check, then what the passed checks prove."""
    lines = [
        f"{report.path.name}: created {report.created or '?'} by "
        f"{report.software or '?'}, digest {report.digest or '?'}"
    ]
    for check in report.checks:
        lines.append(f"{check.status:<5} {check.name:<10} {check.detail}")
    proven = [c for c in report.checks if c.proves and c.status in ("ok", "warn")]
    if proven:
        lines += ["", "What the passed checks prove (and what they do not):"]
        seen: set[str] = set()
        for check in proven:
            if check.name in seen:
                continue
            seen.add(check.name)
            lines += textwrap.wrap(
                check.proves, width=96, initial_indent=f"  {check.name}: ", subsequent_indent="    "
            )
    lines.append("")
    problems = report.problems
    warnings = sum(1 for c in report.checks if c.status == "warn")
    if problems:
        lines.append(f"FAILED: {len(problems)} problem(s).")
    elif warnings:
        lines.append(f"OK: no check failed ({warnings} warning(s) above).")
    else:
        lines.append("OK: every check passed.")
    return "\n".join(lines) + "\n"


def _verify(
    report: PackageReport, roots: Sequence[x509.Certificate], public_key: str | None
) -> None:
    path = report.path
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.add("files", "fail", f"not a readable ZIP file ({exc})")
        return
    with package:
        names = [i.filename for i in package.infolist() if not i.is_dir()]
        datapackage_bytes = _read_member(package, DATAPACKAGE, report)
        if datapackage_bytes is None:
            return
        try:
            datapackage = json.loads(datapackage_bytes)
            resources = datapackage["resources"]
            listed = {r["path"]: r for r in resources}
        except (ValueError, KeyError, TypeError) as exc:
            report.add("files", "fail", f"datapackage.json is not a WACZ datapackage ({exc})")
            return
        report.created = datapackage.get("created")
        report.software = datapackage.get("software")
        _check_files(package, names, listed, report)
        _check_structure(package, names, datapackage, report)
        _check_records(package, names, report)
        _check_chain(package, names, listed, report)
        digest = "sha256:" + hashlib.sha256(datapackage_bytes).hexdigest()
        report.digest = digest
        digest_doc = _check_digest(package, names, digest, report)
        if digest_doc is not None:
            _check_signature(digest_doc, digest, datapackage, public_key, report)
            _check_timestamps(digest_doc, datapackage_bytes, roots, report)


def _read_member(
    package: zipfile.ZipFile, name: str, report: PackageReport, check: str = "files"
) -> bytes | None:
    try:
        return package.read(name)
    except KeyError:
        report.add(check, "fail", f"{name} is missing")
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        report.add(check, "fail", f"{name} is damaged in the ZIP ({exc})")
    return None


def _member_hash(package: zipfile.ZipFile, name: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with package.open(name) as file:
        while chunk := file.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, "sha256:" + digest.hexdigest()


def _check_files(
    package: zipfile.ZipFile, names: list[str], listed: dict[str, Any], report: PackageReport
) -> None:
    failed = False
    for name, resource in listed.items():
        if name not in names:
            report.add("files", "fail", f"{name} is listed in datapackage.json but missing")
            failed = True
            continue
        try:
            size, digest = _member_hash(package, name)
        except (zipfile.BadZipFile, zlib.error, OSError) as exc:
            report.add("files", "fail", f"{name} is damaged in the ZIP ({exc})")
            failed = True
            continue
        if digest != resource.get("hash"):
            report.add(
                "files",
                "fail",
                f"hash mismatch: {name} has {digest}, datapackage.json says {resource.get('hash')}",
            )
            failed = True
        elif size != resource.get("bytes"):
            report.add(
                "files",
                "fail",
                f"size mismatch: {name} has {size} bytes, "
                f"datapackage.json says {resource.get('bytes')}",
            )
            failed = True
    for name in names:
        if name not in listed and name not in (DATAPACKAGE, DIGEST):
            report.add("files", "fail", f"{name} is in the package but not in datapackage.json")
            failed = True
    if not failed:
        report.add(
            "files",
            "ok",
            f"{len(listed)} files match datapackage.json (sha256 and size), no unlisted file",
            PROVES["files"],
        )


def _check_structure(
    package: zipfile.ZipFile, names: list[str], datapackage: dict[str, Any], report: PackageReport
) -> None:
    problems = []
    if datapackage.get("wacz_version") != WACZ_VERSION:
        problems.append(
            f"wacz_version is {datapackage.get('wacz_version')!r}, not {WACZ_VERSION!r}"
        )
    if datapackage.get("profile") != "data-package":
        problems.append("profile is not 'data-package'")
    warcs = [n for n in names if n.startswith("archive/") and n.endswith((".warc", ".warc.gz"))]
    if not warcs:
        problems.append("no WARC file under archive/")
    for index in (INDEX_PATH, IDX_PATH):
        if index not in names:
            problems.append(f"no {index}")
    for info in package.infolist():
        if info.filename.startswith(STORED_PREFIXES) and info.compress_type != zipfile.ZIP_STORED:
            problems.append(f"{info.filename} is compressed in the ZIP (must be stored)")
    pages = _read_member(package, PAGES_PATH, report, "structure") if PAGES_PATH in names else None
    if PAGES_PATH not in names:
        problems.append(f"no {PAGES_PATH}")
    elif pages is not None:
        problems += _pages_problems(pages)
    if problems:
        for problem in problems:
            report.add("structure", "fail", problem)
    else:
        report.add(
            "structure",
            "ok",
            f"WACZ {WACZ_VERSION}: {len(warcs)} WARC file(s) stored "
            "uncompressed, CDXJ index (blocks and IDX), pages.jsonl",
            PROVES["structure"],
        )


def _pages_problems(data: bytes) -> list[str]:
    lines = data.decode("utf-8", errors="replace").splitlines()
    try:
        header = json.loads(lines[0]) if lines else {}
        entries = [json.loads(line) for line in lines[1:] if line.strip()]
    except ValueError:
        return [f"{PAGES_PATH} is not JSON lines"]
    if header.get("format") != "json-pages-1.0":
        return [f"{PAGES_PATH} has no json-pages-1.0 header"]
    if any("url" not in e or "ts" not in e for e in entries):
        return [f"{PAGES_PATH} has a page without url or ts"]
    return []


def _check_records(package: zipfile.ZipFile, names: list[str], report: PackageReport) -> None:
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
                    shutil.copyfileobj(src, dst, COPY_CHUNK)
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
            raw = _read_member(package, PROVENANCE_PATH, report, "records")
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
            PROVES["records"],
        )


def _check_index(
    package: zipfile.ZipFile, names: list[str], copies: dict[str, Path], report: PackageReport
) -> int | None:
    """Each CDXJ line points at a whole record whose sha256 is its recordDigest; the number
    of lines, or None if any does not."""
    if INDEX_PATH not in names or IDX_PATH not in names:
        return None  # the structure check says so
    raw = _read_member(package, INDEX_PATH, report, "records")
    idx = _read_member(package, IDX_PATH, report, "records")
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


_CHAINED_CAPTURE_FIELDS = (
    "url",
    "started_at",
    "ended_at",
    "status",
    "http_status",
    "final_url",
    "peer_ip",
    "title",
    "record_id",
)
_CHAINED_HASHES = ("payload_sha256", "decoded_sha256", "text_sha256")


def _check_chain(
    package: zipfile.ZipFile, names: list[str], listed: dict[str, Any], report: PackageReport
) -> None:
    """Recompute each chain entry in provenance.json from the row it carries, and compare
    those rows with the captures and WARC files the provenance describes."""
    if PROVENANCE_PATH not in names:
        return
    try:
        provenance = json.loads(package.read(PROVENANCE_PATH))
    except (ValueError, KeyError, zipfile.BadZipFile, zlib.error, OSError):
        return  # the records check has said so
    found = provenance.get("chain") if isinstance(provenance, dict) else None
    if not found:
        report.add("chain", "info", "the archive kept no hash chain for these rows")
        return
    from preserve.store import chain as chain_log

    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in sorted(found.get("entries") or [], key=lambda e: e.get("seq", 0)):
        latest[(entry.get("table_name"), entry.get("row_id"))] = entry
    captures = {str(c.get("id")): c for c in provenance.get("captures") or []}
    warcs = {w.get("copied_from"): w for w in provenance.get("warc_files") or []}
    problems = []
    for (table, row_id), entry in latest.items():
        row = entry.get("row")
        where = f"chain entry {entry.get('seq')} ({table} {row_id})"
        if table not in chain_log.COLUMNS or not isinstance(row, dict):
            problems.append(f"{where} carries no row to recompute it from")
            continue
        if chain_log.entry_hash(entry.get("prev_hash"), table, row) != entry.get("entry_hash"):
            problems.append(
                f"{where} does not hash to its entry_hash: the row in "
                "provenance.json is not the row that was logged"
            )
            continue
        if table == "captures" and row_id in captures:
            capture = captures[row_id]
            differ = [f for f in _CHAINED_CAPTURE_FIELDS if capture.get(f) != row.get(f)]
            differ += [f for f in _CHAINED_HASHES
                       if (capture.get("hashes") or {}).get(f) != row.get(f)]  # fmt: skip
            if differ:
                problems.append(
                    f"capture {row_id} in provenance.json differs from its logged "
                    f"row: {', '.join(differ)}"
                )
        elif table == "warc_files" and row_id in warcs:
            warc = warcs[row_id]
            if warc.get("source_sha256") != row.get("sha256"):
                problems.append(
                    f"WARC file {row_id}: provenance.json gives sha256 "
                    f"{warc.get('source_sha256')}, its logged row {row.get('sha256')}"
                )
            elif (
                warc.get("identical_to_source")
                and (listed.get(warc.get("path")) or {}).get("hash")
                != f"sha256:{row.get('sha256')}"
            ):
                problems.append(
                    f"{warc.get('path')} is said to be identical to {row_id}, but "
                    "its sha256 is not the one the chain logged"
                )
    for problem in problems:
        report.add("chain", "fail", problem)
    if not problems:
        head = found.get("head") or {}
        report.add(
            "chain",
            "ok",
            f"{len(latest)} chain entries recompute from the rows in "
            "provenance.json, which match its captures and WARC files; chain head "
            f"{head.get('entry_hash')} (entry {head.get('seq')})",
            PROVES["chain"],
        )


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


def _check_digest(
    package: zipfile.ZipFile, names: list[str], digest: str, report: PackageReport
) -> dict[str, Any] | None:
    if DIGEST not in names:
        report.add("digest", "fail", f"{DIGEST} is missing: nothing fixes the package digest")
        return None
    raw = _read_member(package, DIGEST, report, "digest")
    try:
        document = json.loads(raw) if raw is not None else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        report.add("digest", "fail", f"{DIGEST} is not a JSON object")
        return None
    if document.get("path") != DATAPACKAGE:
        report.add("digest", "fail", f"{DIGEST} names {document.get('path')!r}, not {DATAPACKAGE}")
    elif document.get("hash") != digest:
        report.add(
            "digest",
            "fail",
            f"datapackage.json is {digest}, but {DIGEST} says {document.get('hash')}",
        )
    else:
        report.add(
            "digest", "ok", f"datapackage.json is {digest}, as {DIGEST} says", PROVES["digest"]
        )
    return document


def _check_signature(
    document: dict[str, Any],
    digest: str,
    datapackage: dict[str, Any],
    public_key: str | None,
    report: PackageReport,
) -> None:
    signed = document.get("signedData")
    if signed is None:
        status = "fail" if public_key else "info"
        report.add("signature", status, "the package is not signed")
        return
    problem = verify_signed_data(signed, digest)
    if problem:
        report.add("signature", "fail", problem)
        return
    key = fingerprint(signed["publicKey"])
    if signed.get("created") != datapackage.get("created"):
        report.add(
            "signature",
            "fail",
            f"signedData.created {signed.get('created')!r} differs "
            f"from datapackage created {datapackage.get('created')!r}",
        )
        return
    if public_key is not None and signed["publicKey"] != public_key:
        report.add(
            "signature",
            "fail",
            f"signed by key {key}, not by the expected key {fingerprint(public_key)}",
        )
        return
    expected = " (the expected key)" if public_key is not None else ""
    report.add(
        "signature",
        "ok",
        f"ECDSA P-256 signature of {digest} by key {key}{expected}, "
        f"created {signed.get('created')} (claimed by the signer)",
        PROVES["signature"],
    )


def _check_timestamps(
    document: dict[str, Any],
    datapackage_bytes: bytes,
    roots: Sequence[x509.Certificate],
    report: PackageReport,
) -> None:
    stamps = document.get("timestamps")
    if not stamps:
        report.add("timestamp", "fail" if roots else "info", "the package has no time-stamp token")
        return
    if not isinstance(stamps, list):
        report.add("timestamp", "fail", "timestamps is not a list")
        return
    for number, stamp in enumerate(stamps, 1):
        tsa = stamp.get("tsa", "?") if isinstance(stamp, dict) else "?"
        label = f"token {number} ({tsa})"
        try:
            token = base64.b64decode(stamp["token"], validate=True)
        except (KeyError, TypeError, ValueError):
            report.add("timestamp", "fail", f"{label}: no base64 token")
            continue
        verdict = check_token(token, datapackage_bytes, roots)
        if not verdict.ok:
            report.add("timestamp", "fail", f"{label}: {verdict.detail}")
            continue
        info = verdict.info
        assert info is not None
        when = info.gen_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status = "ok" if verdict.trusted else "warn"
        report.add(
            "timestamp",
            status,
            f"{label}: {when} by {info.signer or 'unnamed TSA'}: {verdict.detail}",
            PROVES["timestamp"],
        )
