"""One local site for each module, emptied for each test; every fetched result closed;
and a fetcher."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from preserve.net.fetcher import Fetched, Fetcher
from tests.net.helpers import LOOPBACK
from tests.support.sites import Site


@pytest.fixture
def site(shared_site: Site) -> Site:
    """One server for the module, emptied for each test."""
    shared_site.reset()
    return shared_site


@pytest.fixture(autouse=True)
def close_results(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Bodies are spooled files: every result is closed, as the capture code must."""
    results: list[Fetched] = []
    original = Fetcher.fetch

    def fetch_and_keep(self: Fetcher, url: str, *, typed: bool = False) -> Fetched:
        results.append(original(self, url, typed=typed))
        return results[-1]

    monkeypatch.setattr(Fetcher, "fetch", fetch_and_keep)
    yield
    for got in results:
        got.close()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(LOOPBACK) as f:
        yield f
