"""Reading one record back from where it was written: exactly one gzip member, checked."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

from preserve.errors import IntegrityError
from preserve.warc.files import open_warc


@dataclass(frozen=True)
class StoredRecord:
    """One record read back. Header values are as stored: WARC fields decoded as UTF-8,
    HTTP fields as latin-1 (so `.encode("latin-1")` gives the archived bytes)."""

    rec_type: str
    record_id: str
    target_uri: str | None
    date: str
    headers: tuple[tuple[str, str], ...]
    http_status: int | None
    http_headers: tuple[tuple[str, str], ...]
    payload: bytes  # the entity-body, Content-Encoding kept (the whole block if not HTTP)
    payload_digest: str | None

    def header(self, name: str) -> str | None:
        return _first(self.headers, name)

    def http_header(self, name: str) -> str | None:
        return _first(self.http_headers, name)


def read_record(path: Path, offset: int, length: int, *, verify: bool = True) -> StoredRecord:
    """The record whose gzip member is `[offset, offset + length)` of `path` (or of
    `path.open`). Raises IntegrityError unless the slice is exactly one whole member holding
    one well-formed record, and (with `verify`) unless its digests match."""
    with open_warc(path) as file:
        file.seek(offset)
        data = file.read(length)
    where = f"{path.name} @ {offset}"
    if len(data) != length:
        raise IntegrityError(f"{where}: file ends before the record does")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(data)
    except zlib.error as exc:
        raise IntegrityError(f"{where}: not a gzip member ({exc})") from exc
    if not inflater.eof or inflater.unused_data:
        raise IntegrityError(f"{where}: slice is not exactly one gzip member")
    return _parse_record(raw, where, verify)


def _parse_record(raw: bytes, where: str, verify: bool) -> StoredRecord:
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        raise IntegrityError(f"{where}: no WARC header")
    version, fields = _parse_fields(raw[:end], "utf-8")
    headers = tuple(fields)
    rec_type, record_id = _first(headers, "WARC-Type"), _first(headers, "WARC-Record-ID")
    length = _first(headers, "Content-Length") or ""
    if not version.startswith("WARC/") or not rec_type or not record_id or not length.isdigit():
        raise IntegrityError(f"{where}: not a WARC record")
    block = raw[end + 4 : end + 4 + int(length)]
    if len(block) != int(length) or raw[end + 4 + int(length) :] != b"\r\n\r\n":
        raise IntegrityError(f"{where}: Content-Length does not match the record")
    status: int | None = None
    http_headers: tuple[tuple[str, str], ...] = ()
    payload = block
    content_type = _first(headers, "Content-Type") or ""
    if content_type.startswith("application/http") and block:
        head_end = block.find(b"\r\n\r\n")
        if head_end < 0:
            raise IntegrityError(f"{where}: no HTTP header in the block")
        first_line, http_fields = _parse_fields(block[:head_end], "latin-1")
        http_headers, payload = tuple(http_fields), block[head_end + 4 :]
        parts = first_line.split(" ", 2)
        if rec_type in ("response", "revisit") and len(parts) > 1 and parts[1].isdigit():
            status = int(parts[1])
    payload_digest = _first(headers, "WARC-Payload-Digest")
    if verify:
        _verify_digest(where, "block", _first(headers, "WARC-Block-Digest"), block)
        if rec_type != "revisit":
            _verify_digest(where, "payload", payload_digest, payload)
    return StoredRecord(
        rec_type=rec_type,
        record_id=record_id,
        target_uri=_first(headers, "WARC-Target-URI"),
        date=_first(headers, "WARC-Date") or "",
        headers=headers,
        http_status=status,
        http_headers=http_headers,
        payload=payload,
        payload_digest=payload_digest,
    )


def _verify_digest(where: str, what: str, declared: str | None, data: bytes) -> None:
    if declared is None:
        return
    label, _, value = declared.partition(":")
    if label != "sha256" or value != hashlib.sha256(data).hexdigest():
        raise IntegrityError(f"{where}: {what} digest does not match")


def _parse_fields(head: bytes, encoding: str) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode(encoding, errors="replace").split("\r\n")
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.append((name.strip(), value.strip(" \t")))
    return lines[0], fields


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    lname = name.lower()
    return next((v for k, v in headers if k.lower() == lname), None)
