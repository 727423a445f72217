"""Shared fixtures: local web sites on 127.0.0.1 and an environment free of PRESERVE_*."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server_fixtures import (  # noqa: F401 (fixtures for the tests of real servers)
    postgres_dsn,
    postgres_server,
    redis_server,
    redis_url,
    s3_env,
    s3_server,
)
from tests.sites import Site


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PRESERVE_ARCHIVE", "PRESERVE_ALLOW_PRIVATE", "PRESERVE_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


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
