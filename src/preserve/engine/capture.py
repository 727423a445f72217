"""Capture URLs into a run: fetch concurrently (politely per host), write every hop to WARC,
extract text and citations, store the capture; and follow an article's citations and
requisites. `check` records its recaptures through the same `Recorder`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from preserve.config import Config
from preserve.engine.archive import Archive, Run
from preserve.engine.captured import ArticleCapture, Captured, Job, Progress
from preserve.engine.check import classify_capture
from preserve.engine.recorder import Recorder
from preserve.engine.tracking import track_captured
from preserve.errors import UsageError
from preserve.extract.extracted import Citation
from preserve.store.database import Store
from preserve.times import Clock, utc_now
from preserve.urls import canonical


def capture(
    archive: Archive,
    urls: Sequence[str],
    *,
    config: Config,
    clock: Clock = utc_now,
    progress: Progress | None = None,
    on_run: Callable[[Run], None] | None = None,
    stop: threading.Event | None = None,
    browser: str | None = None,
) -> Iterator[ArticleCapture]:
    """Capture articles with everything they cite and show, in a new run of `archive`, and
    track the articles and their sources for checks every `config.every`. `stop` set: the
    fetches under way end at once and are recorded, and what was not fetched yet is
    tracked as `failed`/`interrupted` for the next check.

    Returns what was captured for each article, read back from the database as it is
    iterated: iterate before closing the archive. `on_run` hears of the run as it starts
    (its id, and what it repaired of runs that died). `browser`: when to render pages in a
    browser (auto, always, never), for this capture and remembered for the checks of every
    URL it tracks; None: as `config.browser` says, remembering nothing."""
    articles = list(dict.fromkeys(canonical(url) for url in urls))
    if not articles:
        raise UsageError("no URL given (pass URLs or --from-file FILE)")
    if browser is not None:
        config = replace(config, browser=browser)
    run = Run(archive, "capture", config, clock, {"urls": articles})
    if on_run is not None:
        on_run(run)
    try:
        every = int(config.every.total_seconds())
        return capture_articles(
            run, articles, every_seconds=every, progress=progress, stop=stop, browser=browser
        )
    finally:
        run.finish()


def capture_articles(
    run: Run,
    urls: list[str],
    *,
    every_seconds: int,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    browser: str | None = None,
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
            known = store.target(job.url)
            track_captured(
                store, captured, every_seconds=every_seconds, now=run.clock(), known=known
            )
            if browser is not None:  # remembered for its checks
                store.set_browser(job.url, browser, include_citations=False)
            if known is not None and known.baseline_capture_id is not None:
                # Captured again: compared with its baseline as a check would, so that the
                # state says what the newer capture found (an edit, a return, a takedown).
                target = store.target(job.url)
                assert target is not None
                classify_capture(run, target, captured, {})
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

    def never_fetched(jobs: list[Job]) -> None:
        """The run was stopped: what it meant to capture and did not is tracked all the
        same, `failed`/`interrupted`, so that the next check fetches it."""
        now = run.clock()
        for job in jobs:
            if job.role in ("article", "citation") and store.target(job.url) is None:
                store.track(
                    job.url,
                    role=job.role,
                    every_seconds=every_seconds,
                    now=now,
                    cited_by=None if job.role == "article" else job.article,
                    first_state=("failed", "interrupted"),
                )

    articles = list(dict.fromkeys(canonical(url) for url in urls))
    recorder = Recorder(run, stop)
    try:
        jobs = [Job(url, "article", 0, None, typed=True, article=url) for url in articles]
        recorder.record_jobs(jobs, follow, progress, on_dropped=never_fetched)
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
    if row is None or row.role != "article":
        return entry
    cited = tuple(
        Citation(c.url, c.anchor_text or "", c.context or "", c.position)
        for c in store.citations(row.id)
    )
    entry.article = Captured.from_row(row, article=url, citations=cited)
    below = store.descendants(row.id)
    counts = store.citation_counts([r.id for r in below])
    for child in below:
        captured = Captured.from_row(child, article=url, citation_count=counts.get(child.id, 0))
        (entry.citations if child.role == "citation" else entry.requisites).append(captured)
    if depth_limit >= 1:
        # A source that two articles cite was fetched for the first, a URL that one shows
        # and another cites, as the first one's requisite: list it under every article that
        # cites it.
        listed = {c.job.url for c in entry.citations}
        missing = [c.url for c in cited if c.url not in listed]
        others = store.run_captures_of(run_id, missing)
        counts = store.citation_counts([r.id for r in others.values()])
        for citation_url in dict.fromkeys(missing):
            if (other := others.get(citation_url)) is not None:
                entry.citations.append(
                    Captured.from_row(other, article=url, citation_count=counts.get(other.id, 0))
                )
    positions = {c.url: c.position for c in reversed(cited)}
    entry.citations.sort(key=lambda c: positions.get(c.job.url, 1 << 30))
    return entry
