"""One local site for each module, emptied for each test, and a `Lab`: an archive with a
clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.checking import Lab
from tests.support.sites import Site


@pytest.fixture
def site(shared_site: Site) -> Site:
    """One server for the module, emptied for each test."""
    shared_site.reset()
    return shared_site


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    env = Lab(tmp_path / "archive")
    yield env
    env.archive.close()
