"""The soft-404 probe: one random sibling URL per site directory, fetched to learn how the site
answers for a page that does not exist."""

from __future__ import annotations

import random
import string
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

from preserve.engine.captured import Captured, Job
from preserve.engine.recorder import Recorder
from preserve.store.database import Store
from preserve.store.rows import Target


def needs_probe(store: Store, target: Target, captured: Captured) -> bool:
    """Only a 2xx that differs from the baseline, or that was redirected, can be a soft-404;
    everything else is decided without asking the site about a missing page."""
    if not captured.ok:
        return False
    baseline = store.capture(target.baseline_capture_id) if target.baseline_capture_id else None
    redirected = captured.final_url not in (None, captured.job.url)
    return redirected or baseline is None or baseline.payload_sha256 != captured.sha256


def probe_url(url: str) -> str:
    """A URL beside `url` that surely does not exist: its directory + 25 random letters."""
    parts = urlsplit(url)
    directory = parts.path.rsplit("/", 1)[0] + "/"
    name = "".join(random.choices(string.ascii_lowercase, k=25))
    return urlunsplit((parts.scheme, parts.netloc, directory + name, "", ""))


def probe_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path.rsplit('/', 1)[0]}/"


def probe_directories(
    recorder: Recorder,
    store: Store,
    targets: dict[str, Target],
    captured: Sequence[Captured],
    known: Mapping[str, Captured] | None = None,
) -> dict[str, Captured]:
    """Fetch one random sibling per host and directory (cached for the run: none for a
    directory in `known`)."""
    wanted: dict[str, Job] = {}
    for item in captured:
        if item.job.url not in targets or not needs_probe(store, targets[item.job.url], item):
            continue
        key = probe_key(item.job.url)
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
    # A run told to stop fetches none of them: what it leaves unprobed is judged without.
    return {key: by_probe_url[job.url] for key, job in wanted.items() if job.url in by_probe_url}
