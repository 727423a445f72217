"""Shared fixtures: an environment free of PRESERVE_*, local web sites on 127.0.0.1,
`preserve` run in-process (tests/support/cli.py), an archive captured and checked once for
the session (tests/support/checked_archive.py), and real PostgreSQL, Redis and S3 servers
(tests/support/servers.py), each started the first time a test asks for it."""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.checked_archive import build
from tests.support.cli import PRESERVE, Preserve
from tests.support.servers import PostgresServer, RedisServer, S3Env, S3Server
from tests.support.sites import Site


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PRESERVE_ARCHIVE",
        "PRESERVE_ALLOW_PRIVATE",
        "PRESERVE_CA_BUNDLE",
        "PRESERVE_DATABASE",
        "PRESERVE_WARC_STORE",
        "PRESERVE_BROKER",
    ):
        monkeypatch.delenv(name, raising=False)
    # The test web's pages are small: rendered under the default (auto), every test would
    # start Chromium. Only the tests of rendering render (tests/browser, marked `browser`).
    monkeypatch.setenv("PRESERVE_BROWSER", "never")


@pytest.fixture
def render_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default of a fresh install (`browser = auto`), for the tests of rendering."""
    monkeypatch.delenv("PRESERVE_BROWSER", raising=False)


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


@pytest.fixture
def other_site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


@pytest.fixture(scope="module")
def shared_site() -> Iterator[Site]:
    """One server for a whole module; a module opts in by defining `site` over it."""
    server = Site()
    yield server
    server.close()


@pytest.fixture(scope="session")
def preserve() -> Preserve:
    """`preserve.run(archive, *args)` → click's Result; `preserve.json(archive, *args,
    code=0)` → the parsed document of the same command with `--json`."""
    return PRESERVE


@pytest.fixture(scope="session")
def checked_site() -> Iterator[Site]:
    """The site `pristine` was captured from (a test may add pages to it, never change one)."""
    server = Site()
    yield server
    server.close()


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory, checked_site: Site) -> Path:
    """A story citing two sources, captured, edited and checked: never written to (a test
    takes a copy of its own, the `archive` fixture of tests/engine and tests/evidence)."""
    return build(tmp_path_factory.mktemp("pristine") / "archive", checked_site)


# --- servers ------------------------------------------------------------------------------
# Each server starts the first time a test asks for it, once per session; a test that stops
# or pauses one (a fault test) gets it running again before the next test.


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    reason = PostgresServer.skip_reason()
    if reason:
        pytest.skip(reason)
    server = PostgresServer()
    atexit.register(server.close)  # also when pytest is interrupted
    server.start()
    yield server
    server.close()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for this test (CREATE DATABASE, a few tens of ms)."""
    postgres_server.ensure_running()
    dsn = postgres_server.create_database()
    yield dsn
    postgres_server.ensure_running()
    postgres_server.drop_database(dsn.rsplit("/", 1)[1])


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    reason = RedisServer.skip_reason()
    if reason:
        pytest.skip(reason)
    server = RedisServer()
    atexit.register(server.close)
    server.start()
    yield server
    server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of an emptied Redis (FLUSHALL before the test)."""
    redis_server.ensure_running()
    redis_server.flushall()
    return redis_server.url


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    reason = S3Server.skip_reason()
    if reason:
        pytest.skip(reason)
    server = S3Server()
    atexit.register(server.close)
    server.start()
    yield server
    server.close()


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Env:
    """AWS_* variables set for this test only, and a fresh bucket name (not created)."""
    s3_server.ensure_running()
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    bucket = s3_server.new_bucket_name()
    return S3Env(endpoint=s3_server.endpoint, bucket=bucket, url=f"s3://{bucket}/warcs")
