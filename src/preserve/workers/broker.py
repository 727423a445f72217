"""The broker: Dramatiq's Redis broker, set so that a dead worker's message comes back within
seconds of its heartbeat going stale (see docs/servers.md), and the one message preserve
sends through it: check job N."""

from __future__ import annotations

from typing import Any

QUEUE = "preserve-checks"
ACTOR = "preserve_check_job"
NAMESPACE = "preserve"
# Dramatiq requeues a dead worker's messages during "maintenance", which a broker runs on a
# random share of its commands (this many per million; Dramatiq's default is 1,000): with
# its default a killed worker's job came back after minutes; with a quarter, within a second
# or two of the heartbeat timeout.
MAINTENANCE_CHANCE = 250_000


def redis_broker(url: str, heartbeat_seconds: float) -> Any:
    """A RedisBroker on `url` (the `broker` setting), made the process's broker."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=url,
        namespace=NAMESPACE,
        heartbeat_timeout=int(heartbeat_seconds * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
    )
    dramatiq.set_broker(broker)
    return broker


def send_jobs(broker: Any, job_ids: list[int]) -> None:
    """A message per job: its id, and nothing else (the job's row holds the rest)."""
    from dramatiq import Message

    broker.declare_queue(QUEUE)
    for job_id in job_ids:
        broker.enqueue(
            Message(queue_name=QUEUE, actor_name=ACTOR, args=(job_id,), kwargs={}, options={})
        )
