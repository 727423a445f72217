"""Capture URLs into a run: fetch concurrently (politely per host), write every hop to WARC,
extract text and citations, store the capture; and follow an article's citations and
requisites. `check` records its recaptures through the same `Recorder`."""

from __future__ import annotations

import ctypes
import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from preserve.archive import Run
from preserve.extract import NORMALISATION_VERSION, Citation, Extracted, extract
from preserve.fetch import Fetched, Fetcher
from preserve.store import CitationRow, NewCapture, RecordRow, Store, iso, parse_iso
from preserve.urls import canonical, host_key
from preserve.warc import OPEN_SUFFIX, OriginalRef, RecordLocation

Progress = Callable[[int, int], None]
# Bodies bigger than this (or compressed, so of unknown size) are extracted one at a time.
HEAVY_BODY = 1 << 20

try:  # glibc: freed memory otherwise stays with the thread that used it
    _malloc_trim: Callable[[int], int] | None = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):
    _malloc_trim = None


def _release_memory() -> None:
    """Hand freed heap memory back to the system after a heavy page, so that heavy pages
    extracted on different threads do not add up."""
    if _malloc_trim is not None:
        _malloc_trim(0)


@dataclass(frozen=True)
class Job:
    """One URL to fetch, and why."""

    url: str
    role: str  # article | citation | requisite | probe
    depth: int = 0
    parent_id: int | None = None
    typed: bool = False  # typed by the user: exempt from the private-address guard
    article: str | None = None  # the article whose capture brought this URL in


@dataclass(frozen=True)
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
    extracted: Extracted | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """A good capture: a final response with a 2xx status."""
        return self.status == "captured" and self.http_status is not None and (
            200 <= self.http_status < 300)

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
            "citations": len(self.citations),
        }


class Recorder:
    """Fetches jobs on a thread pool and records each result, in the calling thread, as WARC
    records and one capture row. WARC records are synced to disk before their row commits,
    so no row ever points at bytes that are not there."""

    def __init__(self, run: Run, stop: threading.Event | None = None) -> None:
        self.run = run
        self.stop = stop or threading.Event()
        self.store = run.archive.store
        config = run.config
        self.fetcher = Fetcher(config.fetch, clock=run.clock)
        self.pool = ThreadPoolExecutor(max_workers=config.workers,
                                       thread_name_prefix="preserve-fetch")
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()
        self._heavy = threading.Lock()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.fetcher.close()

    def submit(self, job: Job) -> Future[tuple[Job, Fetched, Extracted | None]]:
        return self.pool.submit(self._fetch, job)

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        key = host_key(url)
        with self._hosts_lock:
            if key not in self._hosts:
                self._hosts[key] = threading.BoundedSemaphore(self.run.config.per_host)
            return self._hosts[key]

    def _fetch(self, job: Job) -> tuple[Job, Fetched, Extracted | None]:
        with self._host_slot(job.url):
            fetched = self.fetcher.fetch(job.url, typed=job.typed)
        final = fetched.final
        extracted = None
        if final is not None:
            limit = self.run.config.max_inflated
            # Big or compressed bodies are extracted one at a time: one can take a few hundred
            # MB while parsed, and a hostile site can serve many at once.
            heavy = final.body.length > HEAVY_BODY or final.header("Content-Encoding")
            with self._heavy if heavy else nullcontext():
                extracted = extract(final.body.read(limit), url=final.url,
                                    content_type=final.header("Content-Type"),
                                    content_encoding=final.header("Content-Encoding"),
                                    max_inflated=limit)
                if heavy:
                    _release_memory()
        return job, fetched, extracted

    def _on_disk(self, warc: str) -> bool:
        path = self.run.archive.warc_path(warc)
        return path.exists() or path.with_name(path.name + OPEN_SUFFIX).exists()

    def record(self, job: Job, fetched: Fetched, extracted: Extracted | None) -> Captured:
        """Write a fetch to WARC and store it; closes the fetched bodies."""
        try:
            return self._record(job, fetched, extracted)
        finally:
            fetched.close()

    def _record(self, job: Job, fetched: Fetched, extracted: Extracted | None) -> Captured:
        writer = self.run.writer
        records: list[RecordRow] = []
        final_location: RecordLocation | None = None
        record_type = None
        final = fetched.final
        for hop, exchange in enumerate(fetched.exchanges):
            original = None
            if exchange is final and exchange.truncated is None:
                original = self.store.original_for(exchange.url, exchange.body.sha256)
            if original is not None and not self._on_disk(original["warc"]):
                original = None  # its WARC file is lost: store the payload again
            if original is not None:
                response, request = writer.write_revisit(exchange, OriginalRef(
                    record_id=original["record_id"], target_uri=original["url"],
                    date=parse_iso(original["date"]),
                    payload_digest="sha256:" + exchange.body.sha256))
                kind = "revisit"
            else:
                response, request = writer.write_exchange(exchange)
                kind = "response"
            date = iso(exchange.started_at)
            records.append(_record_row(hop, kind, exchange.url, date, exchange.status,
                                       response, exchange.body.sha256))
            records.append(_record_row(hop, "request", exchange.url, date, None, request, None))
            if exchange is final:
                final_location, record_type = response, kind
        metadata_id = None
        citations = extracted.citations if extracted else ()
        if final_location is not None and job.role == "article" and extracted is not None:
            metadata = writer.write_metadata(final_location.record_id, {
                "url": job.url,
                "title": extracted.title,
                "text_sha256": extracted.text_sha256,
                "norm_version": NORMALISATION_VERSION,
                "citations": [{"url": c.url, "anchor_text": c.anchor_text,
                               "context": c.context, "position": c.position}
                              for c in citations],
            })
            metadata_id = metadata.record_id
            records.append(_record_row(len(fetched.exchanges), "metadata", job.url, None,
                                       None, metadata, None))
        writer.sync()
        capture = _new_capture(self.run.id, job, fetched, extracted, final_location,
                               record_type, metadata_id, tuple(records))
        capture_id = self.store.add_capture(capture)
        return Captured(
            job=job, capture_id=capture_id, status=capture.status, error=capture.error,
            error_detail=capture.error_detail, http_status=capture.http_status,
            final_url=capture.final_url, sha256=capture.payload_sha256,
            text_sha256=capture.text_sha256, title=capture.title, record_type=record_type,
            warc=capture.warc, offset=capture.offset, length=capture.length,
            truncated=capture.truncated, citations=citations,
            requisites=extracted.requisites if extracted else (), extracted=extracted)

    def run_jobs(self, jobs: Iterable[Job], follow: Callable[[Captured], Iterable[Job]],
                 progress: Progress | None = None) -> list[Captured]:
        """Fetch jobs concurrently, record each as it completes, and queue what `follow`
        returns for it. Each URL is fetched once per call; results come in completion order."""
        seen: set[str] = set()
        pending: set[Future[tuple[Job, Fetched, Extracted | None]]] = set()
        results: list[Captured] = []

        def enqueue(job: Job) -> None:
            if job.url not in seen:
                seen.add(job.url)
                pending.add(self.submit(job))

        for job in jobs:
            enqueue(job)
        while pending:
            if self.stop.is_set():
                # Asked to stop: what has not started is dropped, what is in flight is
                # still recorded so that nothing fetched is lost.
                pending = {f for f in pending if not f.cancel()}
                if not pending:
                    break
            done, _ = wait(pending, return_when=FIRST_COMPLETED, timeout=1.0)
            for future in done:
                pending.discard(future)
                captured = self.record(*future.result())
                results.append(captured)
                for job in follow(captured):
                    if not self.stop.is_set():
                        enqueue(job)
                if progress:
                    progress(len(results), len(results) + len(pending))
        return results


def capture_articles(run: Run, urls: list[str], *, every_seconds: int,
                     progress: Progress | None = None) -> list[ArticleCapture]:
    """Capture each article, then its requisites and its citations (to `run.config.depth`),
    and track the articles and their citations for checks."""
    depth_limit = run.config.depth
    store = run.archive.store

    def follow(captured: Captured) -> list[Job]:
        job = captured.job
        if captured.status != "captured" or job.role == "requisite":
            return []
        jobs = []
        # Citations first: a URL both cited and shown (a linked image) is fetched once, as
        # the citation, so that it is tracked.
        if job.depth < depth_limit:
            jobs += [Job(c.url, "citation", job.depth + 1, captured.capture_id,
                         article=job.article) for c in captured.citations]
        if job.role == "article":
            jobs += [Job(url, "requisite", job.depth + 1, captured.capture_id,
                         article=job.article) for url in captured.requisites]
        return jobs

    recorder = Recorder(run)
    try:
        jobs = [Job(canonical(url), "article", 0, None, typed=True, article=canonical(url))
                for url in urls]
        results = recorder.run_jobs(jobs, follow, progress)
    finally:
        recorder.close()

    now = run.clock()
    by_article: dict[str, ArticleCapture] = {}
    for job in jobs:
        by_article[job.url] = ArticleCapture(run.id, None, [], [])
    for captured in results:
        job = captured.job
        entry = by_article[job.article or job.url]
        if job.role == "article":
            entry.article = captured
        elif job.role == "citation":
            entry.citations.append(captured)
        else:
            entry.requisites.append(captured)
        if job.role in ("article", "citation"):
            track_captured(store, captured, every_seconds=every_seconds, now=now)
    if depth_limit >= 1:
        # Each URL is fetched once per run: a source that two articles cite was recorded for
        # the first, and a URL that one article shows, as its requisite. List it under every
        # article that cites it, and track it as a citation.
        fetched = {captured.job.url: captured for captured in results}
        for url, entry in by_article.items():
            listed = {c.job.url for c in entry.citations}
            for citation in entry.article.citations if entry.article else ():
                other = fetched.get(citation.url)
                if other is None or citation.url in listed:
                    continue
                entry.citations.append(other)
                if other.job.role == "requisite":
                    cited = replace(other, job=replace(other.job, role="citation", article=url))
                    track_captured(store, cited, every_seconds=every_seconds, now=now)
    for entry in by_article.values():
        entry.citations.sort(key=lambda c: _position(entry.article, c.job.url))
    return list(by_article.values())


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


def track_captured(store: Store, captured: Captured, *, every_seconds: int,
                   now: datetime) -> None:
    """Track a captured article or citation for checks. Its first good capture becomes the
    baseline; a capture of something already tracked never moves the baseline (that is what
    checks do, after comparing)."""
    job = captured.job
    target = store.target(job.url)
    baseline = captured.capture_id if captured.ok and (
        target is None or target["baseline_capture_id"] is None) else None
    store.track(job.url, role=job.role, every_seconds=every_seconds, now=now,
                cited_by=None if job.role == "article" else job.article,
                baseline_capture_id=baseline)
    if target is None:
        store.set_state(job.url, "new" if captured.ok else "failed",
                        None if captured.ok else failure_reason(captured), now)


def _position(article: Captured | None, url: str) -> int:
    if article is not None:
        for citation in article.citations:
            if citation.url == url:
                return citation.position
    return 1 << 30


def failure_reason(captured: Captured) -> str:
    if captured.error:
        return captured.error
    return f"http-{captured.http_status}"


def _record_row(hop: int, kind: str, url: str, date: str | None, status: int | None,
                location: RecordLocation, payload_sha256: str | None) -> RecordRow:
    return RecordRow(hop=hop, type=kind, url=url, date=date, http_status=status,
                     warc=location.warc,
                     offset=location.offset, length=location.length,
                     record_id=location.record_id, record_sha256=location.record_sha256,
                     payload_sha256=payload_sha256)


def _new_capture(run_id: int, job: Job, fetched: Fetched, extracted: Extracted | None,
                 location: RecordLocation | None, record_type: str | None,
                 metadata_id: str | None, records: tuple[RecordRow, ...]) -> NewCapture:
    final = fetched.final
    first = fetched.exchanges[0] if fetched.exchanges else None
    last = fetched.exchanges[-1] if fetched.exchanges else None
    started = first.started_at if first else fetched.started_at
    common: dict[str, Any] = dict(
        run_id=run_id, url=job.url, role=job.role, depth=job.depth, parent_id=job.parent_id,
        started_at=iso(started), ended_at=iso(fetched.ended_at),
        redirects=json.dumps([[e.url, e.status] for e in fetched.redirects]),
        final_url=last.url if last else None, records=records,
    )
    if final is None:
        return NewCapture(status="failed", error=fetched.error, error_detail=fetched.detail,
                          **common)
    assert location is not None
    citations = extracted.citations if extracted else ()
    return NewCapture(
        status="captured",
        http_status=final.status,
        headers=json.dumps([list(h) for h in final.headers]),
        peer_ip=final.peer_ip,
        content_type=final.header("Content-Type"),
        kind=extracted.kind if extracted else None,
        truncated=final.truncated,
        payload_sha256=final.body.sha256,
        payload_length=final.body.length,
        decoded_sha256=extracted.decoded_sha256 if extracted else None,
        text_sha256=extracted.text_sha256 if extracted else None,
        loose_sha256=extracted.loose_sha256 if extracted else None,
        links_sha256=extracted.links_sha256 if extracted else None,
        norm_version=NORMALISATION_VERSION if extracted else None,
        title=extracted.title if extracted else None,
        record_type=record_type,
        warc=location.warc,
        offset=location.offset,
        length=location.length,
        record_id=location.record_id,
        record_sha256=location.record_sha256,
        metadata_record_id=metadata_id,
        text=extracted.text if extracted else None,
        visible_text=extracted.visible_text if extracted else None,
        citations=tuple(CitationRow(c.position, c.url, c.anchor_text, c.context)
                        for c in citations),
        **common,
    )
