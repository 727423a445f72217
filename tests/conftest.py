"""Shared fixtures: an environment free of PRESERVE_*, local web sites on 127.0.0.1,
`preserve` run in-process (tests/support/cli.py), and an archive captured and checked once for
the session (tests/support/checked_archive.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.checked_archive import build
from tests.support.cli import PRESERVE, Preserve
from tests.support.sites import Site


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PRESERVE_ARCHIVE", "PRESERVE_ALLOW_PRIVATE", "PRESERVE_CA_BUNDLE"):
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
