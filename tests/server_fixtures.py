"""pytest fixtures over tests/servers.py: servers per session, clean state per test."""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.servers import PostgresServer, RedisServer, S3Server

# Each server starts the first time a test asks for it, once per session; a test that
# stops or pauses one (a fault test) gets it running again before the next test.


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


@dataclass(frozen=True)
class S3Env:
    """Where a test's objects go: the endpoint and a bucket name that does not exist yet."""

    endpoint: str
    bucket: str
    url: str  # s3://bucket/prefix, as `warc_store` takes it


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
