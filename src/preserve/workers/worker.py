"""`preserve worker`: a Dramatiq worker in this process, taking check jobs off the broker
until told to stop; each thread checks one job at a time, on its own database connection."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from preserve.config import load_config, load_places
from preserve.errors import UsageError
from preserve.store.database import Store
from preserve.times import iso, utc_now
from preserve.workers.broker import QUEUE, redis_broker, send_jobs
from preserve.workers.jobs import actor

STOP_SECONDS = 600  # a stopping worker finishes the jobs it has started for up to this long


def requeue(database: str, broker: Any, heartbeat: float) -> int:
    """Send again the jobs still queued that were queued before the last few heartbeats: a
    broker restarted without its messages (Redis without persistence) loses no job. A job
    sent twice is checked once (`workers.jobs`); how many were sent."""
    store = Store(database)
    try:
        before = iso(utc_now() - timedelta(seconds=2 * heartbeat))
        stale = [job.id for job in store.queued_jobs() if job.enqueued_at < before]
    finally:
        store.close()
    if stale:
        send_jobs(broker, stale)
    return len(stale)


def serve(path: Path, threads: int, stop: threading.Event) -> None:
    """Take jobs until `stop` is set, then finish those started and return."""
    from dramatiq import Worker

    places = load_places(path)
    if not places.broker:
        raise UsageError(
            'preserve worker needs a broker: broker = "redis://…" in preserve.toml, or '
            "PRESERVE_BROKER"
        )
    if threads < 1:
        raise UsageError("--threads must be at least 1")
    config = load_config(path)
    # Dramatiq's own lines (a job failed, a server unreachable) go to stderr; they name
    # hosts and ports, never passwords.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    broker = redis_broker(places.broker, config.broker_heartbeat)
    actor(path, places.broker, broker)
    requeue(places.database or "", broker, config.broker_heartbeat)
    worker = Worker(broker, worker_threads=threads, queues={QUEUE})
    # Hold only the messages being worked on: a dead worker's prefetched messages would
    # wait out its heartbeat too.
    worker.queue_prefetch = threads
    worker.start()
    try:
        stop.wait()
    finally:
        worker.stop(timeout=STOP_SECONDS * 1000)
        broker.close()
