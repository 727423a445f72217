"""The engine under capture and check: fetch jobs concurrently (politely per host), have each
page extracted in a worker process, and record it as WARC records and one capture row."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import replace
from functools import partial
from typing import Any

from preserve.browser.rendered import Rendered
from preserve.engine.archive import Run
from preserve.engine.captured import Captured, Job, Progress, Step
from preserve.engine.capturerows import (
    metadata_about,
    new_capture,
    record_row,
    reused_extraction,
)
from preserve.engine.heavy import extract_heavy, is_heavy, release_memory
from preserve.engine.hostqueue import HostQueue
from preserve.engine.rendering import Rendering
from preserve.engine.renderrecords import write_hop, write_render
from preserve.extract import pool as extractpool
from preserve.extract.extracted import Extracted
from preserve.extract.normalise import NORMALISATION_VERSION
from preserve.net.fetcher import Fetched, Fetcher
from preserve.store.rows import RecordRow
from preserve.urls import host_key
from preserve.warc.writer import RecordLocation

# Rows are committed, after one fsync of the WARC records they point at, at most this long
# after the first of them was written, or once this many are waiting.
COMMIT_SECONDS = 0.25
COMMIT_CAPTURES = 500


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
        host_slot: Callable[[str], AbstractContextManager[None]] | None = None,
    ) -> None:
        """`reuse_articles`: an article whose bytes are unchanged may reuse its earlier
        extraction too, which has no requisites (for checks, which do not follow them). The
        extraction workers are then started only once a page needs them: a check mostly
        finds the same bytes again. `visible_text`: extract and store each page's visible
        text too, which a check compares by (a capture leaves it to the check that needs it,
        see `extract.extract`)."""
        self.run = run
        self.stop = stop or threading.Event()
        # Around each fetch, a slot of its host shared with other processes (a worker's: the
        # per-host limit held across all workers); this process's own limit is HostQueue's.
        self.host_slot = host_slot
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
        # Pages that need a browser are rendered (docs/browser.md); it starts on the first.
        self.rendering = Rendering(config, self.fetcher)
        if not reuse_articles:
            extractpool.start()  # now, so that they are up when the first page arrives
        self._transaction: ExitStack | None = None
        # With a WARC store, each commit stores a file: they come less often (archive.Run).
        self.commit_seconds = run.commit_seconds or COMMIT_SECONDS
        self._opened_at = 0.0
        self._uncommitted = 0

    def close(self) -> None:
        # Whatever is still being fetched (a run stopped at once, or failing) ends now,
        # rather than at its deadline: closing never waits on a slow server.
        self.fetcher.interrupt()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._heavy.shutdown(wait=True, cancel_futures=True)
        self.rendering.close()
        self.fetcher.close()

    def _fetch(self, job: Job, free_slot: Callable[[], None], events: _Events) -> None:
        """Fetch (on a fetch thread), give the slot back (which starts the next fetch at
        once, from this thread), and read the body for extraction; the recording thread
        hears of the page through `events`."""
        try:
            with self.host_slot(host_key(job.url)) if self.host_slot else nullcontext():
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
                body = (raw, options, is_heavy(raw, options["content_encoding"]))
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
                reused.set_result(reused_extraction(earlier))
                return reused
        raw, options, heavy = body
        # Big bodies (once inflated) are extracted one at a time: one can take a few hundred
        # MB while parsed, and a hostile site can serve many at once.
        if heavy:
            return self._heavy.submit(extract_heavy, raw, options)
        return extractpool.submit(raw, **options)

    def _on_disk(self, warc: str) -> bool:
        return self.run.archive.has_warc(warc)

    # The transaction is handed over so that a second Ctrl-C (a KeyboardInterrupt between
    # any two steps) never leaves it open with nobody to end it: `_transaction` names it
    # before it begins and until it has ended. One left open would be joined by the run's
    # last transaction (the WARC file's row), and rolled back with it when the archive
    # closes: a sealed file that no row names.

    def _begin(self) -> None:
        if self._transaction is None:
            transaction = ExitStack()
            self._transaction, self._opened_at, self._uncommitted = (
                transaction,
                time.monotonic(),
                0,
            )
            try:
                transaction.enter_context(self.store.transaction())
            except Exception:  # it did not begin (the database is locked, gone…)
                self._transaction = None
                raise

    def _commit(self) -> None:
        """Sync the WARC records written so far, then commit the rows that point at them."""
        if self._transaction is not None:
            self.run.writer.sync()
            self._transaction.close()  # closed again by `_rollback` if interrupted: a no-op
            self._transaction = None
            # What the pages of this group took is free now; give it back (sixteen fetch
            # threads each keep an allocator arena, which otherwise only ever grows).
            release_memory()

    def _rollback(self) -> None:
        if self._transaction is not None:
            error = RuntimeError("capture failed")
            self._transaction.__exit__(type(error), error, None)
            self._transaction = None

    def _record(
        self, job: Job, fetched: Fetched, extracted: Extracted | None, rendered: Rendered | None
    ) -> Captured:
        """Write the WARC records and insert the rows, in the open transaction (begun if
        none is): not durable until `_commit`. Closes the fetched bodies."""
        try:
            self._begin()
            self._uncommitted += 1
            return self._write(job, fetched, extracted, rendered)
        finally:
            fetched.close()
            if rendered is not None:
                rendered.close()

    def _write(
        self, job: Job, fetched: Fetched, extracted: Extracted | None, rendered: Rendered | None
    ) -> Captured:
        writer = self.run.writer
        records: list[RecordRow] = []
        final_location: RecordLocation | None = None
        record_type = None
        final = fetched.final
        for hop, exchange in enumerate(fetched.exchanges):
            rows, response, kind = write_hop(
                writer, self.store, self._on_disk, exchange, hop, may_revisit=exchange is final
            )
            records += rows
            if exchange is final:
                final_location, record_type = response, kind
        render = None
        if rendered is not None:
            render = write_render(
                writer,
                self.store,
                self._on_disk,
                rendered,
                job.url,
                final_location.record_id if final_location else None,
                len(fetched.exchanges),
                self.run.clock(),
            )
            records += render.rows
        metadata_id = None
        citations = extracted.citations if extracted else ()
        about = metadata_about(job, final, extracted, render.about if render else None)
        if final_location is not None and about:
            metadata = writer.write_metadata(final_location.record_id, about)
            metadata_id = metadata.record_id
            hop = max((r.hop for r in records), default=-1) + 1
            records.append(record_row(hop, "metadata", job.url, None, None, metadata, None))
        capture = new_capture(
            self.run.id,
            job,
            fetched,
            extracted,
            final_location,
            record_type,
            metadata_id,
            tuple(records),
            rendered=rendered.state if rendered is not None else None,
            dom_sha256=render.dom_sha256 if render else None,
            screenshot_sha256=render.screenshot_sha256 if render else None,
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
            # A rendered page's requisites were loaded by the browser, and are its records.
            requisites=extracted.requisites if extracted and not capture.rendered else (),
            kind=capture.kind,
            text_words=capture.text_words,
            rendered=capture.rendered,
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
        on_dropped: Callable[[list[Job]], None] | None = None,
    ) -> None:
        """Fetch jobs concurrently, record each as it completes, then call `follow` with it
        (in the transaction that stores it) and queue the jobs it returns, unless the run
        was asked to stop. Each URL is fetched once per call. Nothing is kept here: what
        was recorded is in the database, committed when this returns, or rolled back if it
        raises.

        Asked to stop (`stop` set), the fetches under way end at once (as `interrupted`
        failures, recorded like any), none starts after them, and `on_dropped` is told of
        the jobs that never started, in the transaction that stores the last captures.

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

        dropped: list[Job] = []
        options: dict[str, dict[str, Any]] = {}  # each page's extraction options, for a render
        with lock:
            for job in jobs:
                enqueue(job)
            start()
        try:
            while True:
                with lock:
                    if self.stop.is_set():
                        # Asked to stop: what has not started is dropped (and told), what
                        # is in flight ends now and is recorded, so that nothing is lost.
                        dropped += queue_.clear()
                        self.fetcher.interrupt()
                        self.rendering.interrupt()
                    if not unrecorded:
                        break
                arrived = self._wait(events)
                ready: list[_Ready] = []
                for kind, value in arrived:
                    if kind == "fetched":
                        job, fetched, body = value
                        if body is not None:
                            options[job.url] = body[1]
                        try:
                            extraction = self._extract(job, fetched, body)
                        except BaseException:
                            fetched.close()
                            raise
                        if extraction is None or extraction.done():
                            ready.append((job, fetched, extraction, None))
                        else:
                            extraction.add_done_callback(
                                partial(_ready, events, job, fetched, None)
                            )
                    elif kind == "ready":
                        ready.append(value)
                    else:
                        raise value  # a bug in a fetch or render thread
                for job, fetched, extraction, rendered in ready:
                    try:
                        extracted = extraction.result() if extraction is not None else None
                        if rendered is None and self.rendering.reason(job, fetched, extracted):
                            # Rendered first (docs/browser.md); recorded when that is done.
                            self.rendering.submit(
                                fetched,
                                extracted,
                                options.get(job.url, {}),
                                partial(_rendered, events, job, fetched),
                            )
                            continue
                    except BaseException:
                        fetched.close()
                        if rendered is not None:
                            rendered.close()
                        raise
                    options.pop(job.url, None)
                    captured = self._record(job, fetched, extracted, rendered)
                    followed = list(follow(captured))
                    recorded += 1
                    with lock:
                        unrecorded -= 1
                        if not self.stop.is_set():
                            for job in followed:
                                enqueue(job)
                        else:
                            dropped += [job for job in followed if job.url not in seen]
                            seen.update(job.url for job in followed)
                        start()
                        left = unrecorded + queue_.waiting
                    if progress:
                        word = "captured" if captured.status == "captured" else "failed"
                        progress(Step(recorded, recorded + left, captured.job.url, word))
                if self._transaction is not None and (
                    not unrecorded
                    or self._uncommitted >= COMMIT_CAPTURES
                    or time.monotonic() - self._opened_at >= self.commit_seconds
                ):
                    self._commit()
            if dropped and on_dropped is not None:
                self._begin()
                on_dropped(dropped)
        except BaseException:
            with lock:  # the fetches under way finish; none starts after them
                queue_.clear()
            self._rollback()
            raise
        self._commit()

    def _wait(self, events: _Events) -> list[tuple[str, Any]]:
        """What happened since the last look: at least one event, unless it is time to
        commit (or a second passed, to look at `stop`)."""
        timeout = 0.2  # how soon a stop is seen
        if self._transaction is not None:
            timeout = max(0.0, self._opened_at + self.commit_seconds - time.monotonic())
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


_Ready = tuple[Job, Fetched, "Future[Extracted | None] | None", Rendered | None]


def _ready(
    events: _Events,
    job: Job,
    fetched: Fetched,
    rendered: Rendered | None,
    extraction: Future[Extracted | None],
) -> None:
    """An extraction is done: the recording thread may store its page."""
    events.put(("ready", (job, fetched, extraction, rendered)))


def _rendered(
    events: _Events,
    job: Job,
    fetched: Fetched,
    extraction: Future[Extracted | None],
    rendered: Rendered,
) -> None:
    """A page is rendered and its DOM extracted (on a render or extraction thread)."""
    events.put(("ready", (job, fetched, extraction, rendered)))


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
