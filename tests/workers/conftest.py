"""An archive on all three servers (PostgreSQL, the S3 store, Redis), with workers to start
as real processes (`Workers`), and a local site whose pages answer slowly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import S3Env
from tests.workers.helpers import Servers, Workers


@pytest.fixture
def servers(
    tmp_path: Path,
    postgres_dsn: str,
    s3_env: S3Env,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Servers:
    """The archive folder (its preserve.toml only) and the environment that puts it on the
    servers, set for this process too."""
    found = Servers(tmp_path / "archive", postgres_dsn, s3_env, redis_url)
    for name, value in found.env.items():
        monkeypatch.setenv(name, value)
    return found


@pytest.fixture
def workers(servers: Servers) -> Iterator[Workers]:
    started = Workers(servers)
    yield started
    started.stop_all()
