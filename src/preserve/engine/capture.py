"""Capture URLs into a run: fetch concurrently (politely per host), write every hop to WARC,
extract text and citations, store the capture; and follow an article's citations and
requisites. `check` records its recaptures through the same `Recorder`."""

from __future__ import annotations

import ctypes
import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from preserve.engine.archive import Run
from preserve.engine.hostqueue import HostQueue
from preserve.extract import pool as extractpool
from preserve.extract.decode import decode_content
from preserve.extract.extracted import Citation, Extracted
from preserve.extract.normalise import NORMALISATION_VERSION
from preserve.net.fetcher import Fetched, Fetcher
from preserve.store.database import CitationRow, NewCapture, RecordRow, Store
from preserve.times import iso, parse_iso
from preserve.urls import canonical, host_key
from preserve.warc.files import OPEN_SUFFIX
from preserve.warc.records import OriginalRef
from preserve.warc.writer import RecordLocation

Progress = Callable[[int, int], None]
# Bodies bigger than this (once inflated) are extracted one at a time.
HEAVY_BODY = 1 << 20
# Rows are committed, after one fsync of the WARC records they point at, at most this long
# after the first of them was written, or once this many are waiting.
COMMIT_SECONDS = 0.25
COMMIT_CAPTURES = 500

try:  # glibc: freed memory otherwise stays with the thread that used it
    _malloc_trim: Callable[[int], int] | None = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):
    _malloc_trim = None


def _release_memory() -> None:
    """Hand freed heap memory back to the system after a heavy page, so that heavy pages
    extracted on different threads do not add up."""
    if _malloc_trim is not None:
        _malloc_trim(0)


@dataclass(frozen=True, slots=True)  # slots: a run holds one of these for every URL
class Job:
    """One URL to fetch, and why."""

    url: str
    role: str  # article | citation | requisite | probe
    depth: int = 0
    parent_id: int | None = None
    typed: bool = False  # typed by the user: exempt from the private-address guard
    article: str | None = None  # the article whose capture brought this URL in


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

    @classmethod
    def from_row(
        cls,
        row: dict[str, Any],
        *,
        article: str,
        citations: tuple[Citation, ...] = (),
        citation_count: int | None = None,
    ) -> Captured:
        """A stored capture (a `captures` row), as part of what was captured for `article`."""
        return cls(
            job=Job(row["url"], row["role"], row["depth"], row["parent_id"], article=article),
            capture_id=row["id"],
            status=row["status"],
            error=row["error"],
            error_detail=row["error_detail"],
            http_status=row["http_status"],
            final_url=row["final_url"],
            sha256=row["payload_sha256"],
            text_sha256=row["text_sha256"],
            title=row["title"],
            record_type=row["record_type"],
            warc=row["warc"],
            offset=row["offset"],
            length=row["length"],
            truncated=row["truncated"],
            citations=citations,
            citation_count=citation_count,
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
        }


class Recorder:
    """Fetches jobs on a thread pool, has each page extracted in a worker process
    (`extractpool`), and records each result, in the calling thread, as WARC records and
    one capture row.

    At most `workers` fetches run at once, and at most `per_host` of them to one host: the
    calling thread starts each fetch when a slot is free (`schedule.HostQueue`), so no
    thread ever waits for a busy host while others have work, and a fetch thread hands its
    page to extraction without waiting for it. Rows are written into a transaction that
    stays open while results keep coming, for up to COMMIT_SECONDS; then the WARC records
    are synced to disk, once, and the rows committed. So no row ever points at bytes that
    are not on disk, and one fsync serves many captures."""

    def __init__(
        self,
        run: Run,
        stop: threading.Event | None = None,
        *,
        reuse_articles: bool = False,
        visible_text: bool = False,
    ) -> None:
        """`reuse_articles`: an article whose bytes are unchanged may reuse its earlier
        extraction too, which has no requisites (for checks, which do not follow them). The
        extraction workers are then started only once a page needs them: a check mostly
        finds the same bytes again. `visible_text`: extract and store each page's visible
        text too, which a check compares by (a capture leaves it to the check that needs it,
        see `extract.extract`)."""
        self.run = run
        self.stop = stop or threading.Event()
        self.store = run.archive.store
        self.reuse_articles = reuse_articles
        self.visible_text = visible_text
        config = run.config
        self.fetcher = Fetcher(config.fetch, clock=run.clock)
        self.pool = ThreadPoolExecutor(
            max_workers=config.workers, thread_name_prefix="preserve-fetch"
        )
        # Big pages are extracted one at a time, on this thread, rather than in a worker.
        self._heavy = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preserve-heavy")
        if not reuse_articles:
            extractpool.start()  # now, so that they are up when the first page arrives
        self._transaction: ExitStack | None = None
        self._opened_at = 0.0
        self._uncommitted = 0

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._heavy.shutdown(wait=True, cancel_futures=True)
        self.fetcher.close()

    def _fetch(self, job: Job, free_slot: Callable[[], None], events: _Events) -> None:
        """Fetch (on a fetch thread), give the slot back (which starts the next fetch at
        once, from this thread), and read the body for extraction; the recording thread
        hears of the page through `events`."""
        try:
            fetched = self.fetcher.fetch(job.url, typed=job.typed)
        finally:
            free_slot()
        try:
            body = None
            if (final := fetched.final) is not None:
                limit = self.run.config.max_inflated
                raw = final.body.read(limit)
                options: dict[str, Any] = dict(
                    url=final.url,
                    content_type=final.header("Content-Type"),
                    content_encoding=final.header("Content-Encoding"),
                    max_inflated=limit,
                    visible=self.visible_text,
                )
                body = (raw, options, _heavy(raw, options["content_encoding"]))
        except BaseException:
            fetched.close()
            raise
        events.put(("fetched", (job, fetched, body)))

    def _extract(
        self, job: Job, fetched: Fetched, body: _Body | None
    ) -> Future[Extracted | None] | None:
        """The extraction of a fetched page: None if there is no final response; done at
        once if these bytes were extracted before (see `Store.extraction`); else under way,
        in a worker process."""
        final = fetched.final
        if final is None or body is None:
            return None
        if job.role != "article" or self.reuse_articles:
            earlier = self.store.extraction(final.url, final.body.sha256, NORMALISATION_VERSION)
            if earlier is not None:
                reused: Future[Extracted | None] = Future()
                reused.set_result(_reused(earlier))
                return reused
        raw, options, heavy = body
        # Big bodies (once inflated) are extracted one at a time: one can take a few hundred
        # MB while parsed, and a hostile site can serve many at once.
        if heavy:
            return self._heavy.submit(_extract_heavy, raw, options)
        return extractpool.submit(raw, **options)

    def _on_disk(self, warc: str) -> bool:
        path = self.run.archive.warc_path(warc)
        return path.exists() or path.with_name(path.name + OPEN_SUFFIX).exists()

    def _begin(self) -> None:
        if self._transaction is None:
            transaction = ExitStack()
            transaction.enter_context(self.store.transaction())
            self._transaction, self._opened_at, self._uncommitted = (
                transaction,
                time.monotonic(),
                0,
            )

    def _commit(self) -> None:
        """Sync the WARC records written so far, then commit the rows that point at them."""
        if self._transaction is not None:
            self.run.writer.sync()
            transaction, self._transaction = self._transaction, None
            transaction.close()
            # What the pages of this group took is free now; give it back (sixteen fetch
            # threads each keep an allocator arena, which otherwise only ever grows).
            _release_memory()

    def _rollback(self) -> None:
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            error = RuntimeError("capture failed")
            transaction.__exit__(type(error), error, None)

    def _record(self, job: Job, fetched: Fetched, extracted: Extracted | None) -> Captured:
        """Write the WARC records and insert the rows, in the open transaction (begun if
        none is): not durable until `_commit`. Closes the fetched bodies."""
        try:
            self._begin()
            self._uncommitted += 1
            return self._write(job, fetched, extracted)
        finally:
            fetched.close()

    def _write(self, job: Job, fetched: Fetched, extracted: Extracted | None) -> Captured:
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
                response, request = writer.write_revisit(
                    exchange,
                    OriginalRef(
                        record_id=original["record_id"],
                        target_uri=original["url"],
                        date=parse_iso(original["date"]),
                        payload_digest="sha256:" + exchange.body.sha256,
                    ),
                )
                kind = "revisit"
            else:
                response, request = writer.write_exchange(exchange)
                kind = "response"
            date = iso(exchange.started_at)
            records.append(
                _record_row(
                    hop, kind, exchange.url, date, exchange.status, response, exchange.body.sha256
                )
            )
            records.append(_record_row(hop, "request", exchange.url, date, None, request, None))
            if exchange is final:
                final_location, record_type = response, kind
        metadata_id = None
        citations = extracted.citations if extracted else ()
        about: dict[str, Any] = {}
        if final_location is not None and job.role == "article" and extracted is not None:
            about = {
                "url": job.url,
                "title": extracted.title,
                "byline": extracted.byline,
                "modified": extracted.modified,
                "text_sha256": extracted.text_sha256,
                "norm_version": NORMALISATION_VERSION,
                "citations": [
                    {
                        "url": c.url,
                        "anchor_text": c.anchor_text,
                        "context": c.context,
                        "position": c.position,
                    }
                    for c in citations
                ],
            }
        if final_location is not None and final is not None and final.tls is not None:
            # Who the server proved to be, beside the page: in the WARC file with it.
            about = {"url": job.url, **about, "tls": final.tls.to_json()}
        if final_location is not None and about:
            metadata = writer.write_metadata(final_location.record_id, about)
            metadata_id = metadata.record_id
            records.append(
                _record_row(len(fetched.exchanges), "metadata", job.url, None, None, metadata, None)
            )
        capture = _new_capture(
            self.run.id,
            job,
            fetched,
            extracted,
            final_location,
            record_type,
            metadata_id,
            tuple(records),
        )
        capture_id = self.store.add_capture(capture)
        # The texts are in the database now; results keep only what callers read, so that
        # a run's memory does not grow with its pages.
        return Captured(
            job=job,
            capture_id=capture_id,
            status=capture.status,
            error=capture.error,
            error_detail=capture.error_detail,
            http_status=capture.http_status,
            final_url=capture.final_url,
            sha256=capture.payload_sha256,
            text_sha256=capture.text_sha256,
            title=capture.title,
            record_type=record_type,
            warc=capture.warc,
            offset=capture.offset,
            length=capture.length,
            truncated=capture.truncated,
            citations=citations,
            requisites=extracted.requisites if extracted else (),
        )

    def run_jobs(self, jobs: Iterable[Job], progress: Progress | None = None) -> list[Captured]:
        """`record_jobs`, following nothing, with what was captured, in completion order."""
        results: list[Captured] = []

        def keep(captured: Captured) -> tuple[Job, ...]:
            results.append(_kept(captured))
            return ()

        self.record_jobs(jobs, keep, progress)
        return results

    def record_jobs(
        self,
        jobs: Iterable[Job],
        follow: Callable[[Captured], Iterable[Job]],
        progress: Progress | None = None,
    ) -> None:
        """Fetch jobs concurrently, record each as it completes, then call `follow` with it
        (in the transaction that stores it) and queue the jobs it returns, unless the run
        was asked to stop. Each URL is fetched once per call. Nothing is kept here: what
        was recorded is in the database, committed when this returns, or rolled back if it
        raises.

        A fetch thread that finishes starts the next fetch itself, rather than waiting for
        this thread to notice, which may be busy recording (or syncing to disk): the slots
        of a slow web stay full."""
        config = self.run.config
        queue_: HostQueue[Job] = HostQueue(total=config.workers, per_host=config.per_host)
        seen: set[str] = set()
        events: _Events = queue.SimpleQueue()
        lock = threading.Lock()  # guards queue_, seen and unrecorded
        unrecorded = 0  # started, not yet recorded
        recorded = 0

        def enqueue(job: Job) -> None:
            if job.url not in seen:
                seen.add(job.url)
                queue_.add(host_key(job.url), job)

        # Pages fetched and not yet recorded, at most: when extraction falls behind the
        # network, fetching waits for it instead of piling bodies up in memory. Room for
        # several rounds of fetches, so that on a slow web a busy moment of the recording
        # thread (a commit's fsync, a big page) never leaves a fetch slot idle.
        most = 8 * config.workers

        def start() -> None:  # with the lock held
            nonlocal unrecorded
            while (
                not self.stop.is_set() and unrecorded < most and (item := queue_.next()) is not None
            ):
                host, job = item
                future = self.pool.submit(self._fetch, job, partial(free_slot, host), events)
                future.add_done_callback(lambda f: _report_failure(f, events))
                unrecorded += 1

        def free_slot(host: str) -> None:
            with lock:
                queue_.done(host)
                start()

        with lock:
            for job in jobs:
                enqueue(job)
            start()
        try:
            while True:
                with lock:
                    if not unrecorded:
                        break
                    if self.stop.is_set():
                        # Asked to stop: what has not started is dropped, what is in flight
                        # is still recorded so that nothing fetched is lost.
                        queue_.clear()
                arrived = self._wait(events)
                ready: list[tuple[Job, Fetched, Future[Extracted | None] | None]] = []
                for kind, value in arrived:
                    if kind == "fetched":
                        job, fetched, body = value
                        try:
                            extraction = self._extract(job, fetched, body)
                        except BaseException:
                            fetched.close()
                            raise
                        if extraction is None or extraction.done():
                            ready.append((job, fetched, extraction))
                        else:
                            extraction.add_done_callback(
                                lambda f, job=job, fetched=fetched: events.put(
                                    ("ready", (job, fetched, f))
                                )
                            )
                    elif kind == "ready":
                        ready.append(value)
                    else:
                        raise value  # a bug in a fetch thread
                for job, fetched, extraction in ready:
                    try:
                        extracted = extraction.result() if extraction is not None else None
                    except BaseException:
                        fetched.close()
                        raise
                    captured = self._record(job, fetched, extracted)
                    followed = list(follow(captured))
                    recorded += 1
                    with lock:
                        unrecorded -= 1
                        if not self.stop.is_set():
                            for job in followed:
                                enqueue(job)
                        start()
                        left = unrecorded + queue_.waiting
                    if progress:
                        progress(recorded, recorded + left)
                if self._transaction is not None and (
                    not unrecorded
                    or self._uncommitted >= COMMIT_CAPTURES
                    or time.monotonic() - self._opened_at >= COMMIT_SECONDS
                ):
                    self._commit()
        except BaseException:
            with lock:  # the fetches under way finish; none starts after them
                queue_.clear()
            self._rollback()
            raise
        self._commit()

    def _wait(self, events: _Events) -> list[tuple[str, Any]]:
        """What happened since the last look: at least one event, unless it is time to
        commit (or a second passed, to look at `stop`)."""
        timeout = 1.0
        if self._transaction is not None:
            timeout = max(0.0, self._opened_at + COMMIT_SECONDS - time.monotonic())
        try:
            arrived = [events.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                arrived.append(events.get_nowait())
            except queue.Empty:
                return arrived


_Events = queue.SimpleQueue[tuple[str, Any]]
_Body = tuple[bytes, dict[str, Any], bool]  # raw body, extraction options, heavy


def _reused(earlier: dict[str, Any]) -> Extracted:
    """An extraction read back from the database (`Store.extraction`)."""
    return Extracted(
        kind=earlier["kind"],
        charset=None,
        title=earlier["title"],
        byline=earlier["byline"] or None,
        modified=earlier["modified"] or None,
        text=earlier["text"],
        visible_text=earlier["visible_text"] or "",
        citations=tuple(
            Citation(c["url"], c["anchor_text"] or "", c["context"] or "", c["position"])
            for c in earlier["citations"]
        ),
        requisites=(),
        text_sha256=earlier["text_sha256"],
        links_sha256=earlier["links_sha256"],
        loose_sha256=earlier["loose_sha256"],
        decoded_sha256=earlier["decoded_sha256"],
        extractor="reused",
    )


def _report_failure(future: Future[None], events: _Events) -> None:
    """A fetch thread that raised (a bug: fetching never raises for what a server does)
    must stop the run, not leave it waiting for the page forever."""
    if not future.cancelled() and future.exception() is not None:
        events.put(("error", future.exception()))


def _kept(captured: Captured) -> Captured:
    """What a run keeps of a capture until it ends, once what it cites has been queued: all
    of it for an article (its citations are listed and tracked with it), and for the rest
    only how many citations it had (they are in the database), so that a run's memory stays
    flat in its pages."""
    if captured.job.role == "article":
        return captured
    return replace(captured, citations=(), requisites=(), citation_count=len(captured.citations))


def _extract_heavy(raw: bytes, options: dict[str, Any]) -> Extracted:
    from preserve.extract.extractor import extract  # lxml: only a process that extracts imports it

    try:
        return extract(raw, **options)
    finally:
        _release_memory()


def _heavy(raw: bytes, content_encoding: str | None) -> bool:
    """More than HEAVY_BODY bytes once inflated (a compressed body is inflated that far to
    know: a few KB of gzip can hold many MB)."""
    if len(raw) > HEAVY_BODY:
        return True
    return (
        bool(content_encoding)
        and len(decode_content(raw, content_encoding, HEAVY_BODY + 1)) > HEAVY_BODY
    )


def capture_articles(
    run: Run, urls: list[str], *, every_seconds: int, progress: Progress | None = None
) -> Iterator[ArticleCapture]:
    """Capture each article, then its requisites and its citations (to `run.config.depth`),
    and track the articles and their citations for checks, each as it is stored.

    Returns what was captured for each article, read back from the database as it is
    iterated (so iterate before the archive closes): a run holds nothing of its pages once
    they are stored, and its memory stays flat in their number."""
    depth_limit = run.config.depth
    store = run.archive.store

    def follow(captured: Captured) -> list[Job]:
        job = captured.job
        if job.role in ("article", "citation"):
            track_captured(store, captured, every_seconds=every_seconds, now=run.clock())
        if captured.status != "captured" or job.role == "requisite":
            return []
        jobs = []
        # Citations first: a URL both cited and shown (a linked image) is fetched once, as
        # the citation, so that it is tracked.
        if job.depth < depth_limit:
            jobs += [
                Job(c.url, "citation", job.depth + 1, captured.capture_id, article=job.article)
                for c in captured.citations
            ]
        if job.role == "article":
            jobs += [
                Job(url, "requisite", job.depth + 1, captured.capture_id, article=job.article)
                for url in captured.requisites
            ]
        return jobs

    articles = list(dict.fromkeys(canonical(url) for url in urls))
    recorder = Recorder(run)
    try:
        jobs = [Job(url, "article", 0, None, typed=True, article=url) for url in articles]
        recorder.record_jobs(jobs, follow, progress)
    finally:
        recorder.close()
    if depth_limit >= 1:
        # Each URL is fetched once per run: a URL that one article shows and another cites
        # may have been fetched as the first one's requisite. Track it as a citation too.
        now = run.clock()
        with store.transaction():
            for article, row in store.cited_requisites(run.id, articles):
                cited = Captured.from_row(row, article=article)
                cited = replace(cited, job=replace(cited.job, role="citation"))
                track_captured(store, cited, every_seconds=every_seconds, now=now)
    return (_article_capture(store, run.id, url, depth_limit) for url in articles)


def _article_capture(store: Store, run_id: int, url: str, depth_limit: int) -> ArticleCapture:
    """What a run captured for one article, read back from the database."""
    entry = ArticleCapture(run_id, None, [], [])
    row = store.run_captures_of(run_id, [url]).get(url)
    if row is None or row["role"] != "article":
        return entry
    cited = tuple(
        Citation(c["url"], c["anchor_text"] or "", c["context"] or "", c["position"])
        for c in store.citations(row["id"])
    )
    entry.article = Captured.from_row(row, article=url, citations=cited)
    below = store.descendants(row["id"])
    counts = store.citation_counts([r["id"] for r in below])
    for child in below:
        captured = Captured.from_row(child, article=url, citation_count=counts.get(child["id"], 0))
        (entry.citations if child["role"] == "citation" else entry.requisites).append(captured)
    if depth_limit >= 1:
        # A source that two articles cite was fetched for the first, a URL that one shows
        # and another cites, as the first one's requisite: list it under every article that
        # cites it.
        listed = {c.job.url for c in entry.citations}
        missing = [c.url for c in cited if c.url not in listed]
        others = store.run_captures_of(run_id, missing)
        counts = store.citation_counts([r["id"] for r in others.values()])
        for citation_url in dict.fromkeys(missing):
            if (other := others.get(citation_url)) is not None:
                entry.citations.append(
                    Captured.from_row(other, article=url, citation_count=counts.get(other["id"], 0))
                )
    positions = {c.url: c.position for c in reversed(cited)}
    entry.citations.sort(key=lambda c: positions.get(c.job.url, 1 << 30))
    return entry


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


def track_captured(store: Store, captured: Captured, *, every_seconds: int, now: datetime) -> None:
    """Track a captured article or citation for checks. Its first good capture becomes the
    baseline; a capture of something already tracked never moves the baseline (that is what
    checks do, after comparing)."""
    job = captured.job
    target = store.target(job.url)
    baseline = (
        captured.capture_id
        if captured.ok and (target is None or target["baseline_capture_id"] is None)
        else None
    )
    store.track(
        job.url,
        role=job.role,
        every_seconds=every_seconds,
        now=now,
        cited_by=None if job.role == "article" else job.article,
        baseline_capture_id=baseline,
        first_state=("new", None) if captured.ok else ("failed", failure_reason(captured)),
    )


def failure_reason(captured: Captured) -> str:
    if captured.error:
        return captured.error
    return f"http-{captured.http_status}"


def _record_row(
    hop: int,
    kind: str,
    url: str,
    date: str | None,
    status: int | None,
    location: RecordLocation,
    payload_sha256: str | None,
) -> RecordRow:
    return RecordRow(
        hop=hop,
        type=kind,
        url=url,
        date=date,
        http_status=status,
        warc=location.warc,
        offset=location.offset,
        length=location.length,
        record_id=location.record_id,
        record_sha256=location.record_sha256,
        payload_sha256=payload_sha256,
    )


def _new_capture(
    run_id: int,
    job: Job,
    fetched: Fetched,
    extracted: Extracted | None,
    location: RecordLocation | None,
    record_type: str | None,
    metadata_id: str | None,
    records: tuple[RecordRow, ...],
) -> NewCapture:
    final = fetched.final
    first = fetched.exchanges[0] if fetched.exchanges else None
    last = fetched.exchanges[-1] if fetched.exchanges else None
    started = first.started_at if first else fetched.started_at
    common: dict[str, Any] = dict(
        run_id=run_id,
        url=job.url,
        role=job.role,
        depth=job.depth,
        parent_id=job.parent_id,
        started_at=iso(started),
        ended_at=iso(fetched.ended_at),
        redirects=json.dumps([[e.url, e.status] for e in fetched.redirects]),
        final_url=last.url if last else None,
        records=records,
    )
    if final is None:
        return NewCapture(
            status="failed", error=fetched.error, error_detail=fetched.detail, **common
        )
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
        tls=json.dumps(final.tls.to_json()) if final.tls else None,
        byline=(extracted.byline or "") if extracted else None,
        modified=(extracted.modified or "") if extracted else None,
        record_type=record_type,
        warc=location.warc,
        offset=location.offset,
        length=location.length,
        record_id=location.record_id,
        record_sha256=location.record_sha256,
        metadata_record_id=metadata_id,
        text=extracted.text if extracted else None,
        visible_text=(extracted.visible_text or None) if extracted else None,
        citations=tuple(
            CitationRow(c.position, c.url, c.anchor_text, c.context) for c in citations
        ),
        **common,
    )
