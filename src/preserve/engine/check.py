"""Recapture tracked URLs and classify each against its baseline: fetch and record through
the capture engine, probe a random sibling URL where a soft-404 is possible, classify with
`compare`, store the check, move baselines and schedules on, and capture sources that an
edited article newly cites."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from preserve.changes.classify import classify
from preserve.changes.model import Outcome, PastCheck
from preserve.changes.news import is_news
from preserve.config import DEFAULT_EVERY, Config
from preserve.engine.archive import Archive, Run
from preserve.engine.captured import Captured, Job, Progress, Step
from preserve.engine.probe import needs_probe, probe_directories, probe_key
from preserve.engine.recorder import Recorder
from preserve.engine.results import CheckResult, outcome_detail
from preserve.engine.snapshots import (
    needs_visible_text,
    rederived_snapshot,
    reversion,
    snapshot,
    with_visible_text,
)
from preserve.engine.tracking import track_captured
from preserve.errors import UsageError
from preserve.extract.normalise import NORMALISATION_VERSION
from preserve.store.database import Store
from preserve.store.rows import NewCheck, Target
from preserve.times import Clock, iso, parse_iso, utc_now
from preserve.urls import canonical

# Outcomes after which the recapture becomes the new baseline: the page answered with
# content that is what the URL now says. Errors, takedowns and restrictions never are.
BASELINE_OUTCOMES = ("new", "unchanged", "cosmetic", "edited", "moved", "restored")


def check(
    archive: Archive,
    urls: Sequence[str] = (),
    *,
    config: Config,
    due: bool = False,
    clock: Clock = utc_now,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    on_run: Callable[[Run], None] | None = None,
    on_skipped: Callable[[list[str], list[int]], None] | None = None,
) -> Iterator[list[CheckResult]]:
    """Recapture tracked URLs (these, or those due, or all that are not paused) in a new
    run of `archive` and classify each against its baseline; yields the results a chunk at
    a time, each chunk stored before it is handed over. Nothing happens until it is
    iterated, and no run is started when nothing is selected. `stop` set: the URLs in
    flight are still recorded, nothing more is started. URLs that another check is checking
    right now are skipped, and `on_skipped` hears of them (and of the runs holding them)."""
    wanted = [canonical(url) for url in urls]
    for url in wanted:
        if archive.store.target(url) is None:
            raise UsageError(f"not tracked: {url} (capture it first)")
    targets = select_target_urls(archive.store, wanted or None, due=due, now=clock())
    if not targets:
        return
    run = Run(archive, "check", config, clock, {"urls": wanted, "due": due})
    if on_run is not None:
        on_run(run)
    try:
        yield from iter_checks(run, targets, progress, stop=stop, on_skipped=on_skipped)
    finally:
        run.finish()


def select_targets(
    store: Store, urls: Sequence[str] | None, *, due: bool, now: Any
) -> list[Target]:
    if urls:
        return store.targets(urls)
    return store.due(now) if due else store.targets()


def select_target_urls(
    store: Store, urls: Sequence[str] | None, *, due: bool, now: Any
) -> list[str]:
    """`select_targets`, as URLs only: what a check of a million targets holds at once."""
    if urls:
        return [t.url for t in store.targets(urls)]
    return store.due_urls(now) if due else store.target_urls(active_only=True)


# Targets recaptured and classified together: what a check holds in memory at once.
CHECK_CHUNK = 1000


def check_targets(
    run: Run,
    targets: Sequence[Target],
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> list[CheckResult]:
    """Recapture and classify each target; see the module docstring."""
    return [result for chunk in iter_checks(run, targets, progress, stop) for result in chunk]


def iter_checks(
    run: Run,
    targets: Sequence[Target] | Sequence[str],
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    on_skipped: Callable[[list[str], list[int]], None] | None = None,
) -> Iterator[list[CheckResult]]:
    """`check_targets`, CHECK_CHUNK targets at a time: each chunk is recaptured, classified,
    committed and handed over (in the order of `targets`) before the next one starts, so a
    check of a million URLs holds a thousand of them at once. Targets given as URLs are
    read from the database a chunk at a time.

    Each chunk's URLs are held for this run first (`Store.hold`): those another running
    check holds are skipped, so two checks at once never fetch the same URL twice; the
    holds end with the run."""
    store = run.archive.store
    recorder = Recorder(run, stop, reuse_articles=True, visible_text=True)
    probes: dict[str, Captured] = {}  # one random sibling per site directory, for the run
    outcomes: dict[str, str] = {}  # each URL's outcome as it is classified, for `progress`
    total = len(targets)
    try:
        for start in range(0, total, CHECK_CHUNK):
            if recorder.stop.is_set():
                break
            chunk = targets[start : start + CHECK_CHUNK]
            rows = [t for t in chunk if isinstance(t, Target)] or _target_rows(
                store, [t for t in chunk if isinstance(t, str)]
            )
            held = set(store.hold([t.url for t in rows], run.id))
            if len(held) < len(rows):
                skipped = [t.url for t in rows if t.url not in held]
                rows = [t for t in rows if t.url in held]
                if on_skipped is not None:
                    on_skipped(skipped, [r for r in store.holders(skipped) if r != run.id])
            shown = None if progress is None else partial(_step, progress, start, total, outcomes)
            if rows:
                yield _check_chunk(run, recorder, rows, probes, shown, outcomes)
    finally:
        recorder.close()
        store.release(run.id)


def check_held(
    run: Run,
    targets: Sequence[Target],
    host_slot: Callable[[str], AbstractContextManager[None]] | None = None,
    stop: threading.Event | None = None,
) -> list[CheckResult]:
    """Recapture and classify targets that `run` holds already (a worker's job of a check
    that another process started and holds the URLs for), each fetch in a `host_slot`."""
    recorder = Recorder(run, stop, reuse_articles=True, visible_text=True, host_slot=host_slot)
    try:
        return _check_chunk(run, recorder, targets, {}, None, {})
    finally:
        recorder.close()


def _step(progress: Progress, start: int, total: int, outcomes: dict[str, str], step: Step) -> None:
    """A chunk's step as a step of the whole check, with the URL's outcome once known."""
    word = outcomes.pop(step.url, "checking" if step.outcome == "captured" else step.outcome)
    progress(Step(start + step.done, total, step.url, word))


def _target_rows(store: Store, urls: Sequence[str]) -> list[Target]:
    found = store.targets_of(urls)
    return [found[url] for url in urls if url in found]


def _check_chunk(
    run: Run,
    recorder: Recorder,
    targets: Sequence[Target],
    probes: dict[str, Captured],
    progress: Progress | None,
    outcomes: dict[str, str],
) -> list[CheckResult]:
    store = run.archive.store
    by_url = {t.url: t for t in targets}
    jobs = [
        Job(
            t.url,
            t.role,
            0,
            None,
            typed=t.role == "article",
            article=t.cited_by or t.url,
            browser=t.browser,
        )
        for t in targets
    ]
    results: list[_Classified] = []
    unprobed: list[Captured] = []  # 2xx answers that may be soft-404s, in a new directory

    def classify_now(captured: Captured) -> tuple[Job, ...]:
        """Classify a recapture as it is stored (in its transaction), while the rest are
        still being fetched: unless it needs a probe of a directory not yet probed."""
        captured = replace(captured, citations=(), requisites=())  # in the database
        if captured.error == "interrupted":
            return ()  # the run stopped mid-fetch: nothing was seen; the URL stays due
        target = by_url[captured.job.url]
        if probe_key(captured.job.url) not in probes and needs_probe(store, target, captured):
            unprobed.append(captured)
        else:
            results.append(classify_capture(run, target, captured, probes))
            outcomes[captured.job.url] = results[-1].outcome.outcome
        return ()

    recorder.record_jobs(jobs, classify_now, progress)
    probes.update(probe_directories(recorder, store, by_url, unprobed, probes))
    with store.transaction():  # one commit for the checks that waited for a probe
        results += [classify_capture(run, by_url[c.job.url], c, probes) for c in unprobed]
    added = _capture_added_citations(run, recorder, results)
    order = {t.url: i for i, t in enumerate(targets)}
    return [
        CheckResult(
            r.url,
            r.role,
            r.outcome,
            r.captured,
            r.baseline_capture_id,
            r.check_id,
            tuple(added.get(r.url, ())),
            r.news,
        )
        for r in sorted(results, key=lambda r: order[r.url])
    ]


@dataclass(frozen=True)
class _Classified:
    url: str
    role: str
    outcome: Outcome
    captured: Captured
    baseline_capture_id: int | None
    check_id: int
    news: bool


def classify_capture(
    run: Run, target: Target, captured: Captured, probes: dict[str, Captured]
) -> _Classified:
    """Classify a recapture of a tracked URL against its baseline and store the check:
    what `check` does with every URL, and `capture` with a URL it captures again."""
    store = run.archive.store
    baseline_row = store.capture(target.baseline_capture_id) if target.baseline_capture_id else None
    baseline = None
    if baseline_row is not None:
        baseline = snapshot(store, baseline_row)
        if baseline.norm_version != NORMALISATION_VERSION and baseline_row.warc:
            baseline = rederived_snapshot(run, baseline_row)
    current_row = store.capture(captured.capture_id)
    assert current_row is not None
    current = snapshot(store, current_row)
    probe = probes.get(probe_key(captured.job.url))
    probe_row = store.capture(probe.capture_id) if probe else None
    history = [
        PastCheck(parse_iso(c.checked_at), c.outcome, c.reason, bool(c.confirmed))
        for c in store.past_checks(captured.job.url)
    ]
    probed = snapshot(store, probe_row) if probe_row else None
    if needs_visible_text(baseline, current, probed is not None):
        if baseline is not None and baseline_row is not None:
            baseline = with_visible_text(run, baseline, baseline_row)
        current = with_visible_text(run, current, current_row)
        if probed is not None and probe_row is not None:
            probed = with_visible_text(run, probed, probe_row)
    now = run.clock()
    outcome = classify(baseline, current, history=history, probe=probed, now=now)
    if outcome.outcome == "edited" and baseline_row is not None:
        outcome = replace(outcome, reverted_to=reversion(store, baseline_row, current_row))
    new_baseline = captured.ok and outcome.outcome in BASELINE_OUTCOMES
    check_id = store.add_check(
        NewCheck(
            run_id=run.id,
            url=captured.job.url,
            role=target.role,
            checked_at=iso(now),
            capture_id=captured.capture_id,
            baseline_capture_id=baseline_row.id if baseline_row else None,
            probe_capture_id=probe.capture_id if probe else None,
            outcome=outcome.outcome,
            reason=outcome.reason,
            confirmed=int(outcome.confirmed),
            rule=outcome.rule,
            http_status=captured.http_status,
            new_url=outcome.new_url,
            detail=json.dumps(outcome_detail(outcome), ensure_ascii=False),
            new_baseline=new_baseline,
        )
    )
    if outcome.outcome == "moved" and outcome.new_url and store.target(outcome.new_url) is None:
        store.track(
            outcome.new_url,
            role=target.role,
            every_seconds=target.every_seconds,
            now=now,
            cited_by=target.cited_by,
            baseline_capture_id=captured.capture_id,
        )
        store.set_state(outcome.new_url, "new", None, now)
    return _Classified(
        captured.job.url,
        target.role,
        outcome,
        captured,
        baseline_row.id if baseline_row else None,
        check_id,
        is_news(outcome, history[-1] if history else None),
    )


def _capture_added_citations(
    run: Run, recorder: Recorder, results: Sequence[_Classified]
) -> dict[str, list[Captured]]:
    """Sources an edited article newly cites are captured and tracked at once."""
    store = run.archive.store
    jobs: list[Job] = []
    for result in results:
        links = result.outcome.links
        if result.role != "article" or links is None:
            continue
        for url in links.added_urls():
            if store.target(url) is None:
                jobs.append(Job(url, "citation", 1, result.captured.capture_id, article=result.url))
    if not jobs:
        return {}
    added: dict[str, list[Captured]] = {}
    now = run.clock()
    for captured in recorder.run_jobs(jobs):
        article = captured.job.article or ""
        cited_by = store.target(article)
        every = cited_by.every_seconds if cited_by else int(DEFAULT_EVERY.total_seconds())
        track_captured(store, captured, every_seconds=every, now=now)
        added.setdefault(article, []).append(captured)
    return added
