"""The rows preserve writes, as frozen dataclasses: a capture with its WARC records and
citations, a check, an export; and the rows it reads back, one dataclass per table (and per
narrower query)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from preserve.store.chain import Entry


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
    visible_sha256: str | None = None  # of the full visible text, when it was kept
    text_words: int | None = None  # words of main text (`preserve.coverage`)
    rendered: str | None = None  # how its render ended (m013); None: not rendered
    dom_sha256: str | None = None  # of the rendered DOM's resource record
    screenshot_sha256: str | None = None  # of the full-page screenshot's resource record
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


# --- what the store reads back: one frozen dataclass per table (and per narrower query), so
# that a misspelt column is a type error, not a KeyError at run time ------------------------


@dataclass(frozen=True, slots=True)
class Capture:
    """A `captures` row: one fetched URL (see `NewCapture` for what each column holds)."""

    id: int
    run_id: int | None
    url: str
    role: str
    depth: int
    parent_id: int | None
    started_at: str
    ended_at: str | None
    status: str
    error: str | None
    error_detail: str | None
    http_status: int | None
    final_url: str | None
    redirects: str | None
    headers: str | None
    peer_ip: str | None
    content_type: str | None
    kind: str | None
    truncated: str | None
    payload_sha256: str | None
    payload_length: int | None
    decoded_sha256: str | None
    text_sha256: str | None
    loose_sha256: str | None
    links_sha256: str | None
    norm_version: int | None
    title: str | None
    byline: str | None
    modified: str | None
    tls: str | None
    record_type: str | None
    warc: str | None
    offset: int | None
    length: int | None
    record_id: str | None
    record_sha256: str | None
    metadata_record_id: str | None
    visible_sha256: str | None
    text_words: int | None
    rendered: str | None
    dom_sha256: str | None
    screenshot_sha256: str | None

    @property
    def ok(self) -> bool:
        """A good capture: a final response with a 2xx status."""
        return self.status == "captured" and 200 <= (self.http_status or 0) < 300


@dataclass(frozen=True, slots=True)
class CheckedCapture:
    """A capture with the outcome of the check it was made for (none for captures made by
    `capture`): a line of a URL's history."""

    capture: Capture
    outcome: str | None
    reason: str | None
    confirmed: bool | None
    new_url: str | None = None  # where a check found it moved


@dataclass(frozen=True, slots=True)
class Target:
    """A `targets` row: a tracked URL, its schedule and its latest state."""

    url: str
    role: str
    every_seconds: int
    added_at: str
    next_due: str
    cited_by: str | None
    baseline_capture_id: int | None
    state: str | None
    reason: str | None
    confirmed: int | None
    last_checked_at: str | None
    last_change_at: str | None
    last_event: str | None  # the last change a check found: edited | moved | gone | restored
    last_event_reason: str | None
    last_event_at: str | None
    paused: int  # 1: not checked until resumed
    check_run: int | None  # the run checking it now (a hold, while that run has not ended)
    text_words: int | None  # its latest capture's words of main text (`preserve.coverage`)
    kind: str | None  # its latest capture's kind: html, text, pdf, other
    browser: str | None  # when it is rendered: auto, always, never (None: the setting's)


@dataclass(frozen=True, slots=True)
class Check:
    """A `checks` row: one check of one URL (see `NewCheck`)."""

    id: int
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
    detail: str


@dataclass(frozen=True, slots=True)
class Record:
    """A `records` row: one WARC record a capture wrote."""

    id: int
    capture_id: int
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


@dataclass(frozen=True, slots=True)
class RunRow:
    """A `runs` row: one command's work in the archive."""

    id: int
    command: str
    started_at: str
    ended_at: str | None
    tool_version: str
    host: str
    pid: int
    options: str


@dataclass(frozen=True, slots=True)
class WarcFileRow:
    """A `warc_files` row: a closed WARC file, its size and sha256."""

    name: str
    run_id: int | None
    created_at: str | None
    closed_at: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ExportRow:
    """An `exports` row (see `NewExport`)."""

    id: int
    exported_at: str
    wacz: str
    bytes: int
    sha256: str
    digest: str
    articles: str
    captures: int
    records: int
    signed_by: str | None
    timestamps: str
    tool_version: str
    host: str
    pid: int


@dataclass(frozen=True, slots=True)
class Extraction:
    """What was extracted before from some bytes at a URL: enough to reuse it."""

    capture_id: int
    kind: str
    title: str | None
    byline: str | None
    modified: str | None
    decoded_sha256: str | None
    text_sha256: str | None
    loose_sha256: str | None
    links_sha256: str | None
    text: str
    visible_text: str
    citations: tuple[CitationRow, ...]
    text_words: int | None = None


@dataclass(frozen=True, slots=True)
class OriginalRecord:
    """Where the full response record that a revisit refers to is."""

    record_id: str
    url: str
    date: str
    warc: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class PastCheckRow:
    """What confirmation rules read of an earlier check."""

    checked_at: str
    outcome: str
    reason: str | None
    confirmed: int


@dataclass(frozen=True, slots=True)
class OpenRun:
    """A run that has not ended: still going, or dead."""

    id: int
    host: str
    pid: int
    started_at: str


@dataclass(frozen=True, slots=True)
class CaptureSummary:
    """A capture as the report shows it: without the bulky columns (headers, redirects),
    with the check it was made for and the server certificate's sha256 over HTTPS."""

    id: int
    run_id: int | None
    url: str
    role: str
    started_at: str
    status: str
    error: str | None
    http_status: int | None
    final_url: str | None
    kind: str | None
    payload_sha256: str | None
    payload_length: int | None
    text_sha256: str | None
    title: str | None
    record_type: str | None
    warc: str | None
    offset: int | None
    length: int | None
    record_id: str | None
    check_id: int | None
    certificate_sha256: str | None
    text_words: int | None
    screenshot_sha256: str | None  # a rendered capture's full-page screenshot (m013)


@dataclass(frozen=True, slots=True)
class ChildCapture:
    """A capture made on behalf of another (a requisite, a deeper citation): what choosing
    the captures of an evidence package reads of it."""

    id: int
    url: str
    role: str


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    """A hash-chain entry and the row it logs, as hashed: the columns `chain.COLUMNS` lists
    for its table, with their values as stored (None: the row is gone)."""

    entry: Entry
    row: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ChainExtract:
    """The hash-chain entries of some rows, oldest first, and the chain's latest entry."""

    entries: tuple[ChainedEntry, ...]
    head: Entry | None


@dataclass(frozen=True, slots=True)
class AffectedCapture:
    """The capture a damaged row or text affects, as `verify` names it."""

    capture_id: int | None
    url: str | None
    captured_at: str | None
