"""A WARC writer on a temporary folder, and the files it closed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from preserve.warc.writer import ClosedWarc, WarcWriter
from tests.warc.helpers import Clock


@pytest.fixture
def warcs(tmp_path: Path) -> Path:
    return tmp_path / "warcs"


@pytest.fixture
def closed() -> list[ClosedWarc]:
    return []


@pytest.fixture
def writer(warcs: Path, closed: list[ClosedWarc]) -> Iterator[WarcWriter]:
    with WarcWriter(
        warcs, info={"operator": "test suite", "preserve-run": "7"}, clock=Clock(),
        on_closed=closed.append,
    ) as w:  # fmt: skip
        yield w
