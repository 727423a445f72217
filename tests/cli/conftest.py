"""The path of a new archive, and a site whose story cites one source."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.checking import long_paragraphs, short_article
from tests.support.sites import Page, Site, article_html


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def cli_site(site: Site) -> Site:
    site.pages["/2016/10/story"] = Page(
        article_html(
            "Wiretap inquiry",
            [*long_paragraphs(count=4)[:3], 'See <a href="/src/one">the first report</a>.'],
        )
    )
    site.pages["/src/one"] = Page(short_article("First report"))
    return site
