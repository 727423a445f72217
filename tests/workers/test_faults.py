"""workers under faults: PostgreSQL restarted in the middle of a check, the S3 store gone for
a while and back. Each URL is checked once, nothing is lost, and `verify` is clean."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.cli import Preserve
from tests.support.servers import PostgresServer, S3Server
from tests.support.sites import Site
from tests.workers.helpers import Servers, Workers, checks_per_url, wait_until
from tests.workers.test_workers import slow_pages

pytestmark = [pytest.mark.servers, pytest.mark.slow]


def queued_check(preserve: Preserve, servers: Servers) -> int:
    """`preserve check` handed to the workers; its run."""
    queued = preserve.run(servers.path, "check")
    assert queued.exit_code == 0, queued.stderr
    run = servers.scalar("SELECT max(id) FROM runs")
    assert isinstance(run, int)
    return run


def all_done(servers: Servers, workers: Workers, timeout: float) -> None:
    wait_until(
        lambda: servers.scalar("SELECT count(*) FROM jobs WHERE state != 'done'") == 0,
        timeout,
        "every job done",
        workers.logs,
    )


def clean(preserve: Preserve, servers: Servers) -> None:
    verified = preserve.json(servers.path, "verify")
    assert verified["ok"], verified["problems"]
    assert not any(servers.path.joinpath("warcs").iterdir())  # every file stored


def test_postgresql_restarted_during_a_check(
    preserve: Preserve,
    site: Site,
    servers: Servers,
    workers: Workers,
    postgres_server: PostgresServer,
) -> None:
    urls = slow_pages(site, 8, 0.5)
    preserve.json(servers.path, "capture", *urls, "--depth", "0")
    workers.start(threads=2)
    run = queued_check(preserve, servers)
    wait_until(lambda: site.busy > 0, 30, "a fetch under way", workers.logs)
    postgres_server.restart()
    all_done(servers, workers, 90)
    assert checks_per_url(servers, run) == {url: 1 for url in urls}
    clean(preserve, servers)


def test_the_store_down_and_back(
    preserve: Preserve, site: Site, servers: Servers, workers: Workers, s3_server: S3Server
) -> None:
    urls = slow_pages(site, 6, 0.5)
    preserve.json(servers.path, "capture", *urls, "--depth", "0")
    workers.start(threads=2)
    run = queued_check(preserve, servers)
    wait_until(lambda: site.busy > 0, 30, "a fetch under way", workers.logs)
    s3_server.stop()
    time.sleep(5)  # uploads wait (warc_store_wait is 60 s in these tests)
    assert servers.scalar("SELECT count(*) FROM jobs WHERE state = 'done'") == 0
    s3_server.start()
    all_done(servers, workers, 90)
    assert checks_per_url(servers, run) == {url: 1 for url in urls}
    clean(preserve, servers)


def test_a_capture_waits_for_the_store(
    preserve: Preserve, site: Site, servers: Servers, s3_server: S3Server
) -> None:
    urls = slow_pages(site, 2, 0.0)
    s3_server.stop()
    back = threading.Event()

    def bring_back() -> None:
        time.sleep(4)
        s3_server.start()
        back.set()

    restarting = threading.Thread(target=bring_back)
    restarting.start()
    try:
        captured = preserve.run(servers.path, "capture", *urls, "--json")
    finally:
        restarting.join(60)
    assert captured.exit_code == 0, captured.stderr
    assert back.is_set()  # it could not be done before the store was back: it waited
    clean(preserve, servers)
