"""A fresh store in a temporary folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from preserve.store.database import Store


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store(tmp_path / "preserve.db")
    yield opened
    opened.close()
