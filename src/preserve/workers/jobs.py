"""What a worker does with one message: check the URLs of one job, once, whatever the broker
delivers twice.

The job is claimed for the worker's connection (a session lock the server drops if the
worker dies), its URLs are recaptured and classified in one transaction, and that
transaction marks the job done: a second attempt that commits after the first changes
nothing (first commit wins). With a WARC store, the job's WARC file is sealed and stored
before it commits. The message is acknowledged only when this returns, after the commit: a
worker killed before leaves it to be delivered again, and nothing of its attempt in the
database."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

from preserve.config import load_config
from preserve.engine.archive import Archive, Run
from preserve.engine.check import check_held
from preserve.errors import ServerUnavailable
from preserve.times import iso, utc_now
from preserve.workers.limiter import HostSlots

RETRY_CLAIMED_MS = 5_000  # a job another worker holds now: look again after this long

_local = threading.local()  # each worker thread's own archive (its own connection)


class _AlreadyDone(Exception):
    """Another attempt stored this job first: this one's work is rolled back."""


def archive_for_thread(path: Path) -> Archive:
    """This thread's archive, opened again when its database connection was lost."""
    archive: Archive | None = getattr(_local, "archive", None)
    if archive is not None and getattr(archive.store.conn, "broken", False):
        archive.close()
        archive = None
    if archive is None:
        archive = _local.archive = Archive(path)
    return archive


def _host_slots(broker_url: str, limit: int, fetch_seconds: float) -> HostSlots:
    """This thread's host slots for these settings (one Redis connection, kept)."""
    key = (broker_url, limit, fetch_seconds)
    found: dict[tuple[str, int, float], HostSlots] = _local.__dict__.setdefault("slots", {})
    if key not in found:
        found[key] = HostSlots(broker_url, limit, fetch_seconds)
    return found[key]


def check_job(path: Path, broker_url: str, job_id: int) -> str:
    """Check job `job_id` of the archive at `path`; what became of it (`done`, `was done`,
    `claimed`: another worker has it now, `gone`). Raises what the servers raise (the
    message is then delivered again, after a pause)."""
    try:
        archive = archive_for_thread(path)
    except ServerUnavailable:
        _local.archive = None
        raise
    store = archive.store
    job = store.job(job_id)
    if job is None:
        return "gone"
    if job.state == "done":
        return "was done"
    if not store.claim_job(job_id):
        return "claimed"
    try:
        config = load_config(path, **job.option_values)
        slots = _host_slots(broker_url, config.per_host, config.fetch.total_deadline)
        found = store.targets_of(job.url_list)
        targets = [found[url] for url in job.url_list if url in found]
        run = Run(archive, "check", config, utc_now, {}, joining=job.run_id)
        try:
            with store.transaction():
                results = check_held(run, targets, host_slot=slots)
                stored = store.finish_job(
                    job_id,
                    [r.to_json() for r in results],
                    now=iso(utc_now()),
                    worker=f"{socket.gethostname()}:{os.getpid()}",
                )
                if not stored:
                    raise _AlreadyDone
        except _AlreadyDone:
            return "was done"
        finally:
            run.finish()
        store.end_finished_runs(iso(utc_now()))
        return "done"
    finally:
        if not getattr(store.conn, "broken", True):
            store.unclaim_job(job_id)


def actor(path: Path, broker_url: str, broker: Any) -> Any:
    """The Dramatiq actor that checks a job, declared on `broker`."""
    import dramatiq

    from preserve.workers.broker import ACTOR, QUEUE

    def preserve_check_job(job_id: int) -> None:
        if check_job(path, broker_url, job_id) == "claimed":
            raise dramatiq.Retry(delay=RETRY_CLAIMED_MS)

    return dramatiq.actor(
        broker=broker,
        actor_name=ACTOR,
        queue_name=QUEUE,
        # A failure (a server down, a deadlock) is tried again, waiting longer each time, for
        # about a day; a job is never dropped for being slow.
        max_retries=40,
        min_backoff=1_000,
        max_backoff=300_000,
        time_limit=6 * 3600 * 1000,
    )(preserve_check_job)
