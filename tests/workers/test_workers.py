"""workers: a check handed to `preserve worker` processes through Redis, on PostgreSQL and the
S3 store: the results printed as a check run here prints them, each URL checked once, each
host's limit held across workers, and a worker killed mid-capture losing nothing."""

from __future__ import annotations

import pytest

from tests.support.cli import Preserve
from tests.support.sites import Page, Site, article_html
from tests.workers.helpers import DEADLINE, HEARTBEAT, Servers, Workers, checks_per_url, wait_until

pytestmark = [pytest.mark.servers, pytest.mark.slow]


def slow_pages(site: Site, count: int, delay: float) -> list[str]:
    for n in range(count):
        site.pages[f"/news/{n}"] = Page(
            article_html(f"Story {n}", [f"Story number {n} says what it says, word for word."]),
            delay=delay,
        )
    return [site.url(f"/news/{n}") for n in range(count)]


def test_two_workers_share_a_check_and_hold_the_per_host_limit(
    preserve: Preserve, site: Site, servers: Servers, workers: Workers
) -> None:
    urls = slow_pages(site, 12, 0.3)
    captured = preserve.json(servers.path, "capture", *urls, "--depth", "0")
    assert all(a["article"]["status"] == "captured" for a in captured["articles"])
    workers.start(threads=4)
    workers.start(threads=4)
    site.most_busy = 0
    checked = preserve.json(servers.path, "check", "--wait", "--per-host", "2")
    # As a check run here prints it: every URL, in the order of the tracked URLs, unchanged.
    listed = preserve.json(servers.path, "list")
    assert [r["url"] for r in checked["results"]] == [t["url"] for t in listed["targets"]]
    assert sorted(r["url"] for r in checked["results"]) == sorted(urls)
    assert {r["outcome"] for r in checked["results"]} == {"unchanged"}
    # Eight threads wanted the one host; it never saw more than its limit at once.
    assert site.most_busy == 2, workers.logs()
    assert all(site.hits[f"/news/{n}"] == 2 for n in range(12))  # captured, then checked once
    assert checks_per_url(servers, checked["run"]) == {url: 1 for url in urls}
    assert servers.scalar("SELECT count(DISTINCT worker) FROM jobs") == 2
    assert servers.scalar("SELECT ended_at IS NOT NULL FROM runs WHERE id = ?", (checked["run"],))
    text = preserve.run(servers.path, "check", "--wait")
    assert text.exit_code == 0 and "12 unchanged" in text.stdout, text.stdout
    verified = preserve.json(servers.path, "verify")
    assert verified["ok"], verified["problems"]


def test_check_without_wait_only_queues(
    preserve: Preserve, site: Site, servers: Servers, workers: Workers
) -> None:
    urls = slow_pages(site, 3, 0.0)
    preserve.json(servers.path, "capture", *urls, "--depth", "0")
    queued = preserve.run(servers.path, "check")
    assert queued.exit_code == 0 and queued.stdout == ""
    assert "Queued 3 URL(s) in 2 job(s)" in queued.stderr
    (run,) = [r["id"] for r in servers.store().query("SELECT id FROM runs WHERE command = 'check'")]
    # Held by the queued run: a second check skips them rather than check them twice.
    again = preserve.run(servers.path, "check")
    assert "Skipped 3 URL(s) that another check (run" in again.stderr
    workers.start(threads=2)
    wait_until(
        lambda: servers.scalar("SELECT count(*) FROM jobs WHERE state != 'done'") == 0,
        60,
        "the jobs done",
        workers.logs,
    )
    assert checks_per_url(servers, run) == {url: 1 for url in urls}


def test_a_worker_killed_mid_capture_loses_nothing(
    preserve: Preserve, site: Site, servers: Servers, workers: Workers
) -> None:
    urls = slow_pages(site, 2, 0.0)
    preserve.json(servers.path, "capture", *urls, "--depth", "0")
    for n in range(2):
        site.pages[f"/news/{n}"].delay = 4.0  # long enough to be killed in the middle
    first = workers.start(threads=1)
    queued = preserve.run(servers.path, "check")
    assert queued.exit_code == 0, queued.stderr
    wait_until(lambda: site.busy > 0, 30, "a fetch under way", workers.logs)
    workers.kill(first)
    for n in range(2):
        site.pages[f"/news/{n}"].delay = 0.0
    workers.start(threads=1)
    wait_until(
        lambda: servers.scalar("SELECT count(*) FROM jobs WHERE state = 'done'") == 1,
        # Redelivered after HEARTBEAT; the dead worker's two slots of the host come back
        # once the host has been idle for a fetch's deadline (helpers.DEADLINE) and a bit.
        30 + 4 * HEARTBEAT + DEADLINE,
        "the job done again by the other worker",
        workers.logs,
    )
    (run,) = [r["id"] for r in servers.store().query("SELECT id FROM runs WHERE command = 'check'")]
    assert checks_per_url(servers, run) == {url: 1 for url in urls}  # once, not twice
    assert servers.scalar("SELECT attempts FROM jobs") == 2
    verified = preserve.json(servers.path, "verify")
    assert verified["ok"], verified["problems"]
    assert verified["in_progress"] == []
