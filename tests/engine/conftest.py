"""The archive find-text and show read: a fresh copy, for each test, of the archive
captured and checked once for the session (`pristine`, in tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def archive(pristine: Path, tmp_path: Path) -> Path:
    """A fresh copy of the captured-and-checked archive (`pristine`), to read or damage."""
    return Path(shutil.copytree(pristine, tmp_path / "archive"))
