"""Two local sites for each module, emptied for each test, and the path of a new archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sites import Site


@pytest.fixture(scope="module")
def shared_sites() -> Iterator[tuple[Site, Site]]:
    """Two servers for the module, started once."""
    one, two = Site(), Site()
    yield one, two
    one.close()
    two.close()


def _fresh(server: Site) -> Site:
    server.pages.clear()
    server.hits.clear()
    server.requests.clear()
    return server


@pytest.fixture
def site(shared_sites: tuple[Site, Site]) -> Site:
    return _fresh(shared_sites[0])


@pytest.fixture
def other_site(shared_sites: tuple[Site, Site]) -> Site:
    return _fresh(shared_sites[1])


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "archive"
