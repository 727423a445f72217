"""A check handed to workers: its run started and its URLs held here, cut into jobs of
`job_urls` URLs, a message each on the broker; and, for `check --wait`, its results read
back as the jobs are done, in the check's order."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from preserve import __version__
from preserve.config import Config
from preserve.engine.archive import Archive
from preserve.engine.check import select_target_urls
from preserve.engine.results import CheckResult, result_from_json
from preserve.errors import UsageError
from preserve.times import Clock, iso, utc_now
from preserve.urls import canonical
from preserve.workers.broker import redis_broker, send_jobs

POLL_SECONDS = 0.2  # how often `check --wait` looks for jobs done


@dataclass(frozen=True)
class Queued:
    """A check handed to workers: its run, its jobs, the URLs they hold."""

    run_id: int
    job_ids: tuple[int, ...]
    urls: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run_id, "jobs": list(self.job_ids), "queued": list(self.urls)}


def enqueue_check(
    archive: Archive,
    urls: Sequence[str] = (),
    *,
    config: Config,
    options: dict[str, Any],
    due: bool = False,
    clock: Clock = utc_now,
    on_skipped: Callable[[list[str], list[int]], None] | None = None,
) -> Queued | None:
    """Start a check run, hold its URLs (as `engine.check.check` selects them) and queue
    them in jobs; None when nothing is selected. `options`: the fetch options given on the
    command line, which the workers apply over their own settings."""
    import os
    import socket

    assert archive.places.broker is not None
    store = archive.store
    wanted = [canonical(url) for url in urls]
    for url in wanted:
        if store.target(url) is None:
            raise UsageError(f"not tracked: {url} (capture it first)")
    targets = select_target_urls(store, wanted or None, due=due, now=clock())
    if not targets:
        return None
    run_id = store.start_run(
        "check",
        {"urls": wanted, "due": due, "workers": True, "options": options},
        started_at=clock(),
        tool_version=__version__,
        host=socket.gethostname(),
        pid=os.getpid(),
    )
    held = store.hold(targets, run_id)
    if len(held) < len(targets) and on_skipped is not None:
        skipped = [url for url in targets if url not in set(held)]
        on_skipped(skipped, [r for r in store.holders(skipped) if r != run_id])
    size = config.job_urls
    batches = [held[i : i + size] for i in range(0, len(held), size)]
    job_ids = store.add_jobs(run_id, batches, options, iso(clock()))
    if not job_ids:
        store.end_run(run_id, clock())
        return Queued(run_id, (), ())
    broker = redis_broker(archive.places.broker, config.broker_heartbeat)
    try:
        send_jobs(broker, job_ids)
    finally:
        broker.close()
    return Queued(run_id, tuple(job_ids), tuple(held))


def results_of(
    archive: Archive, queued: Queued, *, poll: float = POLL_SECONDS
) -> Iterator[list[CheckResult]]:
    """Each job's results as it is done (and every job before it), in the check's order:
    what `check --wait` prints, as a check that ran here would."""
    store = archive.store
    given = 0
    while given < len(queued.job_ids):
        jobs = {job.id: job for job in store.jobs_of(queued.run_id)}
        while given < len(queued.job_ids):
            job = jobs.get(queued.job_ids[given])
            if job is None or job.state != "done":
                break
            yield [result_from_json(doc) for doc in job.result_list]
            given += 1
        else:
            return
        time.sleep(poll)
