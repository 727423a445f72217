"""The rows preserve writes, as frozen dataclasses: a capture with its WARC records and
citations, a check, an export."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecordRow:
    """One WARC record written for a capture."""

    hop: int
    type: str
    url: str
    date: str | None
    http_status: int | None
    warc: str
    offset: int
    length: int
    record_id: str
    record_sha256: str
    payload_sha256: str | None


@dataclass(frozen=True)
class CitationRow:
    position: int
    url: str
    anchor_text: str
    context: str


@dataclass(frozen=True)
class NewCapture:
    """Everything known about one fetched URL, ready to be stored in one transaction."""

    run_id: int
    url: str
    role: str
    depth: int
    parent_id: int | None
    started_at: str
    ended_at: str
    status: str  # captured | failed
    error: str | None = None
    error_detail: str | None = None
    http_status: int | None = None
    final_url: str | None = None
    redirects: str = "[]"
    headers: str = "[]"
    peer_ip: str | None = None
    content_type: str | None = None
    kind: str | None = None
    truncated: str | None = None
    payload_sha256: str | None = None
    payload_length: int | None = None
    decoded_sha256: str | None = None
    text_sha256: str | None = None
    loose_sha256: str | None = None
    links_sha256: str | None = None
    norm_version: int | None = None
    title: str | None = None
    # What the page says of itself besides its title: "" when it says nothing, None when
    # not recorded (no extraction, or a capture made before preserve recorded them).
    byline: str | None = None
    modified: str | None = None  # its stated dateModified, as written
    tls: str | None = None  # over HTTPS, JSON: protocol, cipher suite, the server's certificate
    record_type: str | None = None
    warc: str | None = None
    offset: int | None = None
    length: int | None = None
    record_id: str | None = None
    record_sha256: str | None = None
    metadata_record_id: str | None = None
    text: str | None = field(default=None, repr=False)
    visible_text: str | None = field(default=None, repr=False)
    records: tuple[RecordRow, ...] = ()
    citations: tuple[CitationRow, ...] = ()


@dataclass(frozen=True)
class NewExport:
    """An evidence package made from the archive, as logged (m010)."""

    exported_at: str
    wacz: str  # the package's path
    bytes: int
    sha256: str  # of the .wacz file
    digest: str  # of its datapackage.json
    articles: str  # JSON list of the article URLs asked for
    captures: int
    records: int
    signed_by: str | None
    timestamps: str  # JSON
    tool_version: str
    host: str
    pid: int


@dataclass(frozen=True)
class NewCheck:
    """One check of one URL, as stored."""

    run_id: int
    url: str
    role: str
    checked_at: str
    capture_id: int
    baseline_capture_id: int | None
    probe_capture_id: int | None
    outcome: str
    reason: str | None
    confirmed: int
    rule: str
    http_status: int | None
    new_url: str | None
    detail: str  # JSON
    new_baseline: bool = field(default=False, metadata={"column": False})

    def row(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "new_baseline"}
