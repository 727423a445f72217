"""A fresh store in a temporary folder, or in a fresh PostgreSQL database: the tests that
take `store` run on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from preserve.store.database import Store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    where: Path | str = tmp_path / "preserve.db"
    if request.param == "postgresql":
        where = request.getfixturevalue("postgres_dsn")
    opened = Store(where)
    yield opened
    opened.close()
