"""The strict rules of a WARC file as preserve writes it, checked record by record.

A record is fed its inflated bytes in pieces (`RecordCheck`): exact lengths, sha256 block and
payload digests, preserve's header rules (WARC/1.1, warcinfo first, required headers, ASCII
target URIs, none on metadata, no Transfer-Encoding on a stored de-chunked body, complete
revisits); what records must agree on between them (ids, references) is kept per file, or
per part of a file (`FileCheck`). `preserve.warc.scan` reads the files and feeds them here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from preserve.warc.records import NOT_MODIFIED_PROFILE, REVISIT_PROFILE, WARC_VERSION

_MAX_HEAD = 1 << 20  # WARC or HTTP header blocks larger than this are not headers
INFO_LIMIT = 64 << 10  # bytes of a warcinfo block kept (its fields name the file and run)

_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z\Z")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
# RFC 3986 allows no spaces, controls, non-ASCII, or any of "<>\"\\^`{|}" in a URI.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]+\Z")
_RECORD_ID = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:[^\s<>]+>\Z")
_REQUIRED = ("warc-record-id", "warc-date", "warc-type", "content-length")
_REQUIRED_SET = frozenset(_REQUIRED)
_NEEDS_TARGET = ("response", "request", "revisit", "resource")
_HTTP_FRAMING = re.compile(rb"\r\n(transfer-encoding|content-length)[ \t]*:([^\r\n]*)", re.I)

# Fields a record may carry more than once: WARC 1.1's WARC-Concurrent-To, and the proposed
# WARC-Protocol, written twice over HTTPS (once for HTTP, once for TLS).
_REPEATABLE = frozenset({"warc-concurrent-to", "warc-protocol"})


@dataclass(frozen=True)
class WarcProblem:
    """One thing wrong in a WARC file, at the offset of the gzip member that holds it."""

    kind: str
    offset: int
    detail: str
    record_id: str | None = None


class Member(NamedTuple):
    """One gzip member as read: `[offset, offset + length)` of the file, the sha256 hex of
    those compressed bytes, and the record it holds (None where its header was unreadable).
    `whole` is False for a member cut off by the end of the file or by broken deflate data;
    its length and hash then run to the end of the file or to the next gzip header.
    (A named tuple: a big file has hundreds of thousands, made and pickled cheaply.)"""

    offset: int
    length: int
    sha256: str
    whole: bool
    rec_type: str | None = None
    record_id: str | None = None
    target_uri: str | None = None
    date: str | None = None
    payload_digest: str | None = None  # as declared (a revisit declares its original's)


# (offset, record id, header, target id, (uri, date) a response must have, or None for a
# warcinfo)
Reference = tuple[int, str, str, str, "tuple[str | None, str] | None"]


class FileCheck:
    """What a file's records must agree on between them, as far as one part of it shows
    (`first`: the part at the start of the file)."""

    def __init__(self, first: bool = True, opening: str | None = None) -> None:
        self.first = first
        self.opening = opening  # a warcinfo in another part, taken as there (`join` checks)
        self.assumed = False  # and a record named it
        self.problems: list[WarcProblem] = []
        self.records = 0
        self.ids: set[str] = set()
        self.warcinfos: set[str] = set()
        self.responses: dict[str, tuple[str | None, str]] = {}  # id → (uri, date)
        self.references: list[Reference] = []
        self.filename: str | None = None  # the first warcinfo's WARC-Filename
        self.damaged: set[str] = set()  # ids of records whose member is broken: reported once
        self.info: dict[str, str] = {}  # and its block's fields

    def add(self, kind: str, offset: int, detail: str, record_id: str | None = None) -> None:
        self.problems.append(WarcProblem(kind, offset, detail, record_id))

    def refer(self, offset: int, record_id: str, target: str) -> None:
        """A record names the warcinfo `target`: answered now if that was seen before it
        (warcinfos are only ever added), else looked for at the end."""
        if target in self.warcinfos:
            return
        if target == self.opening:
            self.assumed = True
        else:
            self.references.append((offset, record_id, "WARC-Warcinfo-ID", target, None))

    def resolve(self) -> None:
        """Keep only the references no record of this part answers (`join` looks for
        them in the others)."""
        warcinfos, responses = self.warcinfos, self.responses
        self.references = [
            ref for ref in self.references
            if not (ref[3] in warcinfos if ref[4] is None else responses.get(ref[3]) == ref[4])
        ]  # fmt: skip


class RecordCheck:
    """One gzip member, fed its decompressed bytes in pieces: WARC header, block, and the
    CRLF CRLF that must end it; then the checks that need the whole record."""

    __slots__ = ("file", "offset", "id", "state", "buffer", "fields", "remaining", "block",
                 "payload", "payload_length", "http", "http_head", "tail", "info",
                 "pending")  # fmt: skip

    def __init__(self, file: FileCheck, offset: int) -> None:
        self.file = file
        self.offset = offset
        self.id: str | None = None
        self.state = "warc-head"  # → block → tail; "failed" once nothing more can be said
        self.buffer = bytearray()  # a WARC or HTTP header that arrived in pieces (rare)
        self.fields: dict[str, str] = {}
        self.remaining = 0
        self.block = hashlib.sha256()
        self.payload: Any = None  # a sha256, when there is a payload digest to check
        self.payload_length = 0
        self.http = "none"  # where the HTTP header must be found: pending → parsed, overflow
        self.http_head = b""
        self.tail = b""
        self.info: bytearray | None = None  # the block of the file's first warcinfo
        # Held until the member's gzip trailer is checked: bytes inflated from broken deflate
        # data can say anything (a wrong length, a bad header), and the break is the news.
        self.pending: list[tuple[str, str]] = []

    def member(self, length: int, sha256: str, whole: bool) -> Member:
        """This record's gzip member, as `FileScan.members` lists it."""
        get = self.fields.get
        return Member(
            self.offset,
            length,
            sha256,
            whole,
            get("warc-type"),
            self.id,
            get("warc-target-uri"),
            get("warc-date"),
            get("warc-payload-digest"),
        )

    def add(self, kind: str, detail: str) -> None:
        self.pending.append((kind, detail))

    def close(self, whole: bool) -> None:
        """The member ended: report what was found in it if its gzip data was sound."""
        if whole:
            self.finish()
            for kind, detail in self.pending:
                self.file.add(kind, self.offset, detail, self.id)
        elif self.id:
            self.file.damaged.add(self.id)
        self.pending = []

    def fail(self, kind: str, detail: str) -> None:
        self.add(kind, detail)
        self.state = "failed"

    def feed(self, data: bytes) -> None:
        start = 0
        if self.state == "warc-head":
            if self.buffer:
                self.buffer += data
                data = bytes(self.buffer)
                self.buffer.clear()
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buffer += data
                if len(self.buffer) > _MAX_HEAD:
                    self.fail("bad-header", "no end to the WARC header")
                return
            if not self.parse_warc_head(data[:end]):
                return
            self.state, start = "block", end + 4
        if self.state == "block":
            stop = min(len(data), start + self.remaining)
            self.remaining -= stop - start
            self.feed_block(data, start, stop)
            if self.remaining:
                return
            self.state, start = "tail", stop
        if self.state == "tail":
            self.tail += data[start:]
            if len(self.tail) > 4:
                self.fail(
                    "length-mismatch",
                    "more than CRLF CRLF after the block: "
                    "Content-Length too small, or two records in one gzip member",
                )

    def feed_block(self, data: bytes, start: int, stop: int) -> None:
        block = payload = memoryview(data)[start:stop]
        if self.http == "pending":
            if self.buffer:
                self.buffer += block
                data, start, stop = bytes(self.buffer), 0, len(self.buffer)
                self.buffer.clear()
            end = data.find(b"\r\n\r\n", start, stop)
            if end < 0:
                self.buffer += data[start:stop]
                if len(self.buffer) > _MAX_HEAD:
                    self.http, self.buffer = "overflow", bytearray()
                payload = block[:0]
            else:
                self.http, self.http_head = "parsed", data[start:end]
                payload = memoryview(data)[end + 4 : stop]
        elif self.http == "overflow":
            payload = block[:0]
        self.payload_length += len(payload)
        self.block.update(block)
        if self.info is not None and len(self.info) < INFO_LIMIT:
            self.info += block
        if self.payload is not None:
            self.payload.update(payload)

    def parse_warc_head(self, head: bytes) -> bool:
        try:
            version, _, text = head.decode().partition("\r\n")
        except UnicodeDecodeError:
            self.fail("bad-header", "WARC header is not UTF-8")
            return False
        if version != WARC_VERSION:
            self.add("bad-version", f"record starts with {version[:40]!r}, not {WARC_VERSION}")
        lines = text.split("\r\n")
        fields: dict[str, str] = {}
        colon = ""
        for line in lines:  # the common case; anything odd takes the careful path below
            name, colon, value = line.partition(":")
            if not colon:
                break
            fields[name.lower()] = value.strip()
        if not colon or len(fields) != len(lines) or "\r\n " in text or "\r\n\t" in text:
            fields = self.careful_fields(lines)
        self.fields = fields
        self.id = fields.get("warc-record-id")
        if not fields.keys() >= _REQUIRED_SET:
            missing = [name for name in _REQUIRED if name not in fields]
            self.fail("missing-header", f"missing {', '.join(missing)}")
            return False
        if not fields["content-length"].isdigit():
            self.fail("bad-header", f"Content-Length {fields['content-length']!r}")
            return False
        self.remaining = int(fields["content-length"])
        rec_type = fields["warc-type"]
        if rec_type == "warcinfo" and self.file.first and self.file.filename is None:
            self.info = bytearray()
        if "warc-payload-digest" in fields and rec_type != "revisit":
            self.payload = hashlib.sha256()
        if fields.get("content-type", "").startswith("application/http") and (
            self.payload is not None or rec_type == "response"
        ):
            self.http = "pending"
        return True

    def careful_fields(self, lines: list[str]) -> dict[str, str]:
        fields: dict[str, str] = {}
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon or line[:1] in (" ", "\t"):
                self.add("bad-header", f"not a header line (or a folded one): {line[:60]!r}")
            elif name.lower() in fields and name.lower() not in _REPEATABLE:
                self.add("duplicate-header", f"{name} repeated")
            else:
                fields.setdefault(name.lower(), value.strip())
        return fields

    def finish(self) -> None:
        if self.state == "warc-head":
            self.add("bad-header", "gzip member holds no complete WARC header")
        elif self.state == "block":
            self.add(
                "length-mismatch",
                f"Content-Length {self.fields['content-length']} runs "
                f"{self.remaining} bytes past the end of its gzip member",
            )
        elif self.state == "tail" and self.tail != b"\r\n\r\n":
            self.add("length-mismatch", "block not followed by CRLF CRLF")
        elif self.state == "tail":
            self.check_record()

    def check_record(self) -> None:
        fields, file = self.fields, self.file
        rec_type, record_id = fields["warc-type"], fields["warc-record-id"]
        date = fields["warc-date"]
        uri = fields.get("warc-target-uri")
        if file.records == 0 and file.first and rec_type != "warcinfo":
            self.add("no-warcinfo", f"first record is {rec_type}, not warcinfo")
        file.records += 1
        if not _RECORD_ID.match(record_id):
            self.add("bad-header", f"WARC-Record-ID {record_id!r}")
        if record_id in file.ids:
            self.add("duplicate-id", f"{record_id} used twice")
        file.ids.add(record_id)
        if not _DATE.match(date):
            self.add("bad-header", f"WARC-Date {date!r}")
        # A digest equal to the computed one is well-formed by construction: the format
        # is looked at only when they differ.
        block_digest = fields.get("warc-block-digest")
        if block_digest is None:
            self.add("missing-header", "no WARC-Block-Digest")
        elif block_digest != "sha256:" + self.block.hexdigest():
            self.digest_problem("Block", block_digest, "block digest does not match the block")
        payload_digest = fields.get("warc-payload-digest")
        if payload_digest is None:
            pass
        elif self.payload is None:  # revisits (the original's) and types with no payload
            if not _DIGEST.match(payload_digest):
                self.digest_problem("Payload", payload_digest, "")
        elif payload_digest != "sha256:" + self.payload.hexdigest() and self.http != "overflow":
            message = "payload digest does not match the entity-body"
            self.digest_problem("Payload", payload_digest, message)
        if self.http == "overflow" or (self.http == "pending" and fields["content-length"] != "0"):
            self.add("bad-http", "the block holds no complete HTTP header")
        if rec_type == "warcinfo":
            file.warcinfos.add(record_id)
            if self.info is not None:
                file.filename = fields.get("warc-filename")
                file.info = info_fields(bytes(self.info))
            if "warc-filename" not in fields:
                self.add("missing-header", "warcinfo without WARC-Filename")
        elif "warc-warcinfo-id" not in fields:
            self.add("missing-header", "no WARC-Warcinfo-ID")
        else:
            file.refer(self.offset, record_id, fields["warc-warcinfo-id"])
        if rec_type in ("warcinfo", "metadata"):
            if uri is not None:
                self.add("unexpected-header", f"a {rec_type} record has a WARC-Target-URI")
            if payload_digest is not None:
                self.add("unexpected-header", f"a {rec_type} record has a payload digest")
        elif rec_type in _NEEDS_TARGET:
            if uri is None:
                self.add("missing-header", f"a {rec_type} record without WARC-Target-URI")
            elif not _URI.match(uri) or (
                rec_type != "resource" and not uri.startswith(("http://", "https://"))
            ):
                self.add("bad-uri", f"WARC-Target-URI {uri[:200]!r} is not an ASCII http(s) URI")
        if rec_type == "response":
            self.check_response()
        elif rec_type == "revisit":
            self.check_revisit()
        elif rec_type == "request" and "warc-concurrent-to" in fields:
            file.references.append((self.offset, record_id, "WARC-Concurrent-To",
                                    fields["warc-concurrent-to"], (uri, date)))  # fmt: skip
        if rec_type in ("response", "revisit"):
            file.responses[record_id] = (uri, date)

    def digest_problem(self, which: str, digest: str, mismatch: str) -> None:
        if not _DIGEST.match(digest):
            self.add("bad-digest", f"WARC-{which}-Digest {digest[:80]!r} is not sha256:<hex>")
        elif mismatch:
            self.add(f"{which.lower()}-digest", mismatch)

    def check_response(self) -> None:
        fields = self.fields
        for name in ("warc-payload-digest", "warc-ip-address"):
            if name not in fields:
                self.add("missing-header", f"response without {name}")
        status = self.http_head[9:12]
        for match in _HTTP_FRAMING.finditer(self.http_head):
            framing, value = match.group(1).lower(), match.group(2).decode("latin-1").strip()
            if framing == b"transfer-encoding":
                self.add("transfer-encoding", f"Transfer-Encoding: {value} on a stored body")
            elif (
                "warc-truncated" not in fields
                and status not in (b"204", b"304")
                and value != str(self.payload_length)
            ):
                self.add(
                    "http-content-length",
                    f"HTTP Content-Length {value} but the "
                    f"stored entity-body has {self.payload_length} bytes",
                )

    def check_revisit(self) -> None:
        fields = self.fields
        for name in ("WARC-Profile", "WARC-Refers-To", "WARC-Refers-To-Target-URI",
                     "WARC-Refers-To-Date", "WARC-Payload-Digest"):  # fmt: skip
            if name.lower() not in fields:
                self.add("missing-header", f"revisit without {name}")
        profile = fields.get("warc-profile", REVISIT_PROFILE)
        if profile not in (REVISIT_PROFILE, NOT_MODIFIED_PROFILE):
            self.add("bad-revisit", f"WARC-Profile {profile!r}")
        if fields["content-length"] != "0" and fields.get("warc-truncated") != "length":
            self.add("bad-revisit", "revisit keeps HTTP headers without WARC-Truncated: length")


def info_fields(block: bytes) -> dict[str, str]:
    """The `name: value` lines of a warcinfo block (application/warc-fields)."""
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon and name.strip():
            fields.setdefault(name.strip(), value.strip())
    return fields
