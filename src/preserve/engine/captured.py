"""What a capture run works on and yields: the job of fetching one URL, what became of it, and
what a run captured for one article."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from preserve.coverage import text_gap
from preserve.extract.extracted import Citation
from preserve.store.rows import Capture


@dataclass(frozen=True, slots=True)
class Step:
    """One URL done, as a run goes: how many are done of how many known so far, which URL,
    and what became of it (`captured` or `failed`; a check says its outcome)."""

    done: int
    total: int
    url: str
    outcome: str


# Told of each step as a run goes: for a progress bar.
Progress = Callable[[Step], None]


@dataclass(frozen=True, slots=True)  # slots: a run holds one of these for every URL
class Job:
    """One URL to fetch, and why."""

    url: str
    role: str  # article | citation | requisite | probe
    depth: int = 0
    parent_id: int | None = None
    typed: bool = False  # typed by the user: exempt from the private-address guard
    article: str | None = None  # the article whose capture brought this URL in
    browser: str | None = None  # when to render it (auto, always, never); None: the setting's


@dataclass(frozen=True, slots=True)  # slots: a run holds one of these for every URL
class Captured:
    """What happened to one URL: the stored capture, summarised."""

    job: Job
    capture_id: int
    status: str  # captured | failed
    error: str | None
    error_detail: str | None
    http_status: int | None
    final_url: str | None
    sha256: str | None
    text_sha256: str | None
    title: str | None
    record_type: str | None
    warc: str | None
    offset: int | None
    length: int | None
    truncated: str | None
    citations: tuple[Citation, ...] = ()
    requisites: tuple[str, ...] = ()
    citation_count: int | None = None  # set when `citations` were let go (see _kept)
    kind: str | None = None  # html, text, pdf, other
    text_words: int | None = None  # words of main text (`preserve.coverage`)
    rendered: str | None = None  # how its render ended (complete, cut off…); None: not rendered

    @property
    def text_gap(self) -> str | None:
        """What this capture lacks as text (`preserve.coverage`), when it is a good one."""
        return text_gap(self.kind, self.text_words) if self.ok else None

    @classmethod
    def from_row(
        cls,
        row: Capture,
        *,
        article: str,
        citations: tuple[Citation, ...] = (),
        citation_count: int | None = None,
    ) -> Captured:
        """A stored capture (a `captures` row), as part of what was captured for `article`."""
        return cls(
            job=Job(row.url, row.role, row.depth, row.parent_id, article=article),
            capture_id=row.id,
            status=row.status,
            error=row.error,
            error_detail=row.error_detail,
            http_status=row.http_status,
            final_url=row.final_url,
            sha256=row.payload_sha256,
            text_sha256=row.text_sha256,
            title=row.title,
            record_type=row.record_type,
            warc=row.warc,
            offset=row.offset,
            length=row.length,
            truncated=row.truncated,
            citations=citations,
            citation_count=citation_count,
            kind=row.kind,
            text_words=row.text_words,
            rendered=row.rendered,
        )

    @property
    def ok(self) -> bool:
        """A good capture: a final response with a 2xx status."""
        return (
            self.status == "captured"
            and self.http_status is not None
            and (200 <= self.http_status < 300)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.job.url,
            "role": self.job.role,
            "status": self.status,
            "error": self.error,
            "error_detail": self.error_detail,
            "http_status": self.http_status,
            "final_url": self.final_url,
            "sha256": self.sha256,
            "text_sha256": self.text_sha256,
            "title": self.title,
            "record_type": self.record_type,
            "warc": self.warc,
            "offset": self.offset,
            "length": self.length,
            "truncated": self.truncated,
            "capture_id": self.capture_id,
            "citations": len(self.citations)
            if self.citation_count is None
            else self.citation_count,
            "kind": self.kind,
            "text_words": self.text_words,
            "text_gap": self.text_gap,
            "rendered": self.rendered,
        }


@dataclass
class ArticleCapture:
    """An article and everything captured because of it, citations in article order."""

    run_id: int
    article: Captured | None
    citations: list[Captured]
    requisites: list[Captured]

    @property
    def ok(self) -> bool:
        return self.article is not None and self.article.status == "captured"

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "article": self.article.to_json() if self.article else None,
            "citations": [c.to_json() for c in self.citations],
            "requisites": [r.to_json() for r in self.requisites],
        }
