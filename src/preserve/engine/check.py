"""Recapture tracked URLs and classify each against its baseline: fetch and record through
the capture engine, probe a random sibling URL where a soft-404 is possible, classify with
`compare`, store the check, move baselines and schedules on, and capture sources that an
edited article newly cites."""

from __future__ import annotations

import json
import random
import string
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from preserve.changes.classify import (
    Outcome,
    PastCheck,
    Reversion,
    Snapshot,
    classify,
    metadata_json,
)
from preserve.engine.archive import Run
from preserve.engine.capture import Captured, Job, Progress, Recorder, track_captured
from preserve.engine.notify import is_news
from preserve.errors import PreserveError
from preserve.extract.extracted import Extracted
from preserve.extract.normalise import NORMALISATION_VERSION
from preserve.store.database import NewCheck, Store
from preserve.times import iso, parse_iso
from preserve.warc.reader import read_record

# Outcomes after which the recapture becomes the new baseline: the page answered with
# content that is what the URL now says. Errors, takedowns and restrictions never are.
BASELINE_OUTCOMES = ("new", "unchanged", "cosmetic", "edited", "moved", "restored")
CHANGE_OUTCOMES = ("edited", "gone")


@dataclass(frozen=True)
class CheckResult:
    """One URL's check: the outcome and where its evidence is."""

    url: str
    role: str
    outcome: Outcome
    captured: Captured
    baseline_capture_id: int | None
    check_id: int
    added_citations: tuple[Captured, ...] = field(default=())
    news: bool = False  # a change since this URL's last check (`notify.is_news`)

    def to_json(self) -> dict[str, Any]:
        outcome = self.outcome
        return {
            "url": self.url,
            "role": self.role,
            "outcome": outcome.outcome,
            "reason": outcome.reason,
            "confirmed": outcome.confirmed,
            "news": self.news,
            "http_status": self.captured.http_status,
            "error": self.captured.error,
            "rule": outcome.rule,
            "new_url": outcome.new_url,
            "text_equal": outcome.text_equal,
            "blocked_by": outcome.blocked_by,
            "edit": outcome_detail(outcome).get("edit"),
            "links": outcome_detail(outcome).get("links"),
            "metadata": metadata_json(outcome.metadata),
            "silent_edit": outcome.silent_edit,
            "reverted_to": outcome.reverted_to.to_json() if outcome.reverted_to else None,
            "sha256": self.captured.sha256,
            "record_type": self.captured.record_type,
            "warc": self.captured.warc,
            "offset": self.captured.offset,
            "capture_id": self.captured.capture_id,
            "baseline_capture_id": self.baseline_capture_id,
            "check_id": self.check_id,
            "added_citations": [c.to_json() for c in self.added_citations],
        }


def outcome_detail(outcome: Outcome) -> dict[str, Any]:
    """The parts of an outcome that go into the check's JSON `detail` column."""
    detail: dict[str, Any] = {}
    if outcome.edit is not None:
        detail["edit"] = outcome.edit.to_json()
    if outcome.links is not None:
        detail["links"] = outcome.links.to_json()
    if outcome.blocked_by:
        detail["blocked_by"] = outcome.blocked_by
    if outcome.text_equal is not None:
        detail["text_equal"] = outcome.text_equal
    if outcome.reverted_to is not None:
        detail["reverted_to"] = outcome.reverted_to.to_json()
    if outcome.metadata:
        detail["metadata"] = metadata_json(outcome.metadata)
    if outcome.silent_edit:
        detail["silent_edit"] = True
    return detail


def select_targets(
    store: Store, urls: Sequence[str] | None, *, due: bool, now: Any
) -> list[dict[str, Any]]:
    if urls:
        return store.targets(urls)
    return store.due(now) if due else store.targets()


def select_target_urls(
    store: Store, urls: Sequence[str] | None, *, due: bool, now: Any
) -> list[str]:
    """`select_targets`, as URLs only: what a check of a million targets holds at once."""
    if urls:
        return [t["url"] for t in store.targets(urls)]
    return store.due_urls(now) if due else store.target_urls()


# Targets recaptured and classified together: what a check holds in memory at once.
CHECK_CHUNK = 1000


def check_targets(
    run: Run,
    targets: Sequence[dict[str, Any]],
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> list[CheckResult]:
    """Recapture and classify each target; see the module docstring."""
    return [result for chunk in iter_checks(run, targets, progress, stop) for result in chunk]


def iter_checks(
    run: Run,
    targets: Sequence[dict[str, Any]] | Sequence[str],
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> Iterator[list[CheckResult]]:
    """`check_targets`, CHECK_CHUNK targets at a time: each chunk is recaptured, classified,
    committed and handed over (in the order of `targets`) before the next one starts, so a
    check of a million URLs holds a thousand of them at once. Targets given as URLs are
    read from the database a chunk at a time."""
    store = run.archive.store
    recorder = Recorder(run, stop, reuse_articles=True, visible_text=True)
    probes: dict[str, Captured] = {}  # one random sibling per site directory, for the run
    total = len(targets)
    try:
        for start in range(0, total, CHECK_CHUNK):
            if recorder.stop.is_set():
                break
            chunk = targets[start : start + CHECK_CHUNK]
            rows = [t for t in chunk if isinstance(t, dict)] or _target_rows(
                store, [t for t in chunk if isinstance(t, str)]
            )
            shown = (
                None
                if progress is None
                else (lambda done, _total, start=start: progress(start + done, total))
            )
            yield _check_chunk(run, recorder, rows, probes, shown)
    finally:
        recorder.close()


def _target_rows(store: Store, urls: Sequence[str]) -> list[dict[str, Any]]:
    found = store.targets_of(urls)
    return [found[url] for url in urls if url in found]


def _check_chunk(
    run: Run,
    recorder: Recorder,
    targets: Sequence[dict[str, Any]],
    probes: dict[str, Captured],
    progress: Progress | None,
) -> list[CheckResult]:
    store = run.archive.store
    by_url = {t["url"]: t for t in targets}
    jobs = [
        Job(
            t["url"],
            t["role"],
            0,
            None,
            typed=t["role"] == "article",
            article=t["cited_by"] or t["url"],
        )
        for t in targets
    ]
    results: list[_Classified] = []
    unprobed: list[Captured] = []  # 2xx answers that may be soft-404s, in a new directory

    def classify_now(captured: Captured) -> tuple[Job, ...]:
        """Classify a recapture as it is stored (in its transaction), while the rest are
        still being fetched: unless it needs a probe of a directory not yet probed."""
        captured = replace(captured, citations=(), requisites=())  # in the database
        target = by_url[captured.job.url]
        if _probe_key(captured.job.url) not in probes and _needs_probe(store, target, captured):
            unprobed.append(captured)
        else:
            results.append(_classify(run, target, captured, probes))
        return ()

    recorder.record_jobs(jobs, classify_now, progress)
    probes.update(_probe(recorder, store, by_url, unprobed, probes))
    with store.transaction():  # one commit for the checks that waited for a probe
        results += [_classify(run, by_url[c.job.url], c, probes) for c in unprobed]
    added = _capture_added_citations(run, recorder, results)
    order = {t["url"]: i for i, t in enumerate(targets)}
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


def _needs_probe(store: Store, target: dict[str, Any], captured: Captured) -> bool:
    """Only a 2xx that differs from the baseline, or that was redirected, can be a soft-404;
    everything else is decided without asking the site about a missing page."""
    if not captured.ok:
        return False
    baseline = (
        store.capture(target["baseline_capture_id"]) if target["baseline_capture_id"] else None
    )
    redirected = captured.final_url not in (None, captured.job.url)
    return redirected or baseline is None or baseline["payload_sha256"] != captured.sha256


def probe_url(url: str) -> str:
    """A URL beside `url` that surely does not exist: its directory + 25 random letters."""
    parts = urlsplit(url)
    directory = parts.path.rsplit("/", 1)[0] + "/"
    name = "".join(random.choices(string.ascii_lowercase, k=25))
    return urlunsplit((parts.scheme, parts.netloc, directory + name, "", ""))


def _probe_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path.rsplit('/', 1)[0]}/"


def _probe(
    recorder: Recorder,
    store: Store,
    targets: dict[str, dict[str, Any]],
    captured: Sequence[Captured],
    known: Mapping[str, Captured] | None = None,
) -> dict[str, Captured]:
    """Fetch one random sibling per host and directory (cached for the run: none for a
    directory in `known`)."""
    wanted: dict[str, Job] = {}
    for item in captured:
        if item.job.url not in targets or not _needs_probe(store, targets[item.job.url], item):
            continue
        key = _probe_key(item.job.url)
        if key not in wanted and key not in (known or {}):
            wanted[key] = Job(
                probe_url(item.job.url),
                "probe",
                0,
                item.capture_id,
                typed=item.job.typed,
                article=item.job.article,
            )
    if not wanted:
        return {}
    fetched = recorder.run_jobs(wanted.values())
    by_probe_url = {c.job.url: c for c in fetched}
    return {key: by_probe_url[job.url] for key, job in wanted.items()}


def snapshot(store: Store, row: dict[str, Any]) -> Snapshot:
    """What compare needs to know about a stored capture."""
    texts = store.text(row["text_sha256"]) or ("", "")
    links = tuple((c["url"], c["anchor_text"] or "") for c in store.citations(row["id"]))
    redirects = tuple((u, s) for u, s in json.loads(row["redirects"] or "[]"))
    return Snapshot(
        url=row["url"],
        captured_at=parse_iso(row["started_at"]),
        error=row["error"],
        status=row["http_status"],
        final_url=row["final_url"],
        redirects=redirects,
        headers=tuple((k, v) for k, v in json.loads(row["headers"] or "[]")),
        truncated=row["truncated"],
        payload_sha256=row["payload_sha256"],
        kind=row["kind"] or "other",
        title=row["title"],
        byline=row["byline"],
        modified=row["modified"],
        text=texts[0],
        visible_text=texts[1],
        links=links,
        norm_version=row["norm_version"] or NORMALISATION_VERSION,
        text_sha256=row["text_sha256"],
        loose_sha256=row["loose_sha256"],
        links_sha256=row["links_sha256"],
    )


def rederived_snapshot(run: Run, row: dict[str, Any]) -> Snapshot:
    """A baseline extracted again from its WARC record with today's normaliser, so that a
    better normaliser never shows up as a wave of edits."""
    fresh = _extract_again(run, row)
    return replace(
        snapshot(run.archive.store, row),
        title=fresh.title,
        byline=fresh.byline or "",
        modified=fresh.modified or "",
        text=fresh.text,
        visible_text=fresh.visible_text,
        links=tuple((c.url, c.anchor_text) for c in fresh.citations),
        norm_version=NORMALISATION_VERSION,
        text_sha256=fresh.text_sha256,
        loose_sha256=fresh.loose_sha256,
        links_sha256=fresh.links_sha256,
    )


def _extract_again(run: Run, row: dict[str, Any]) -> Extracted:
    """The capture's page extracted again from its WARC record."""
    from preserve.extract.extractor import extract  # lxml, for the few pages this ever happens to

    store = run.archive.store
    source = row
    if row["record_type"] == "revisit":
        source = store.original_for(row["final_url"] or row["url"], row["payload_sha256"]) or row
    record = read_record(run.archive.warc_path(source["warc"]), source["offset"], source["length"])
    headers = dict((k.lower(), v) for k, v in record.http_headers)
    return extract(
        record.payload,
        url=row["final_url"] or row["url"],
        content_type=headers.get("content-type"),
        content_encoding=headers.get("content-encoding"),
        max_inflated=run.config.max_inflated,
    )


def _with_visible_text(run: Run, snap: Snapshot, row: dict[str, Any]) -> Snapshot:
    """`snap` with its page's visible text, extracted again from its WARC record if the
    archive does not hold it (a capture leaves it out: see `extract.extract`). Without its
    record (a lost file) it stays without: the comparisons that read it then explain less
    and report more, never less."""
    if snap.visible_text or snap.kind != "html" or not row["warc"]:
        return snap
    try:
        visible = _extract_again(run, row).visible_text
    except (OSError, PreserveError):
        return snap
    return replace(snap, visible_text=visible)


def _version(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a capture says, as edits are told: its main text, title and links (for a page
    without text, its bytes)."""
    if row["text_sha256"] or row["kind"] in ("html", "text"):
        return (row["text_sha256"], row["title"], row["links_sha256"])
    return (row["payload_sha256"],)


def _reversion(
    store: Store, baseline_row: dict[str, Any], current_row: dict[str, Any]
) -> Reversion | None:
    """Whether an edit brings back a version from before the baseline (NewsDiffs' flip-flop
    guard): the latest earlier capture that said what the page says now, and whether the
    baseline's version came before that one too (A, B, A, B: alternating)."""
    mine, theirs = _version(current_row), _version(baseline_row)
    earlier = store.versions_before(current_row["url"], baseline_row["id"])
    for at, row in enumerate(earlier):
        if _version(row) == mine:
            alternating = any(_version(r) == theirs for r in earlier[at + 1 :])
            return Reversion(row["id"], row["started_at"], alternating)
    return None


def _needs_visible_text(baseline: Snapshot | None, current: Snapshot, probed: bool) -> bool:
    """Whether `classify` may read visible texts: only a changed main text (boundary shifts,
    paywalls) or a soft-404 probe compares them."""
    return probed or (baseline is not None and baseline.text_sha256 != current.text_sha256)


@dataclass(frozen=True)
class _Classified:
    url: str
    role: str
    outcome: Outcome
    captured: Captured
    baseline_capture_id: int | None
    check_id: int
    news: bool


def _classify(
    run: Run, target: dict[str, Any], captured: Captured, probes: dict[str, Captured]
) -> _Classified:
    store = run.archive.store
    baseline_row = (
        store.capture(target["baseline_capture_id"]) if target["baseline_capture_id"] else None
    )
    baseline = None
    if baseline_row is not None:
        baseline = snapshot(store, baseline_row)
        if baseline.norm_version != NORMALISATION_VERSION and baseline_row["warc"]:
            baseline = rederived_snapshot(run, baseline_row)
    current_row = store.capture(captured.capture_id)
    assert current_row is not None
    current = snapshot(store, current_row)
    probe = probes.get(_probe_key(captured.job.url))
    probe_row = store.capture(probe.capture_id) if probe else None
    history = [
        PastCheck(parse_iso(c["checked_at"]), c["outcome"], c["reason"], bool(c["confirmed"]))
        for c in store.past_checks(captured.job.url)
    ]
    probed = snapshot(store, probe_row) if probe_row else None
    if _needs_visible_text(baseline, current, probed is not None):
        if baseline is not None and baseline_row is not None:
            baseline = _with_visible_text(run, baseline, baseline_row)
        current = _with_visible_text(run, current, current_row)
        if probed is not None and probe_row is not None:
            probed = _with_visible_text(run, probed, probe_row)
    now = run.clock()
    outcome = classify(baseline, current, history=history, probe=probed, now=now)
    if outcome.outcome == "edited" and baseline_row is not None:
        outcome = replace(outcome, reverted_to=_reversion(store, baseline_row, current_row))
    new_baseline = captured.ok and outcome.outcome in BASELINE_OUTCOMES
    check_id = store.add_check(
        NewCheck(
            run_id=run.id,
            url=captured.job.url,
            role=target["role"],
            checked_at=iso(now),
            capture_id=captured.capture_id,
            baseline_capture_id=baseline_row["id"] if baseline_row else None,
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
            role=target["role"],
            every_seconds=target["every_seconds"],
            now=now,
            cited_by=target["cited_by"],
            baseline_capture_id=captured.capture_id,
        )
        store.set_state(outcome.new_url, "new", None, now)
    return _Classified(
        captured.job.url,
        target["role"],
        outcome,
        captured,
        baseline_row["id"] if baseline_row else None,
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
        every = (store.target(article) or {}).get("every_seconds") or 86400
        track_captured(store, captured, every_seconds=every, now=now)
        added.setdefault(article, []).append(captured)
    return added
