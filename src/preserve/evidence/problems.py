"""A problem `verify` found in an archive: its kind, where it is, and what it affects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong: what (`kind`), where (`warc` file and `offset` of the record, when
    it is about one), which URL and capture it affects, and a sentence for people."""

    kind: str
    warc: str | None
    offset: int | None
    url: str | None
    detail: str
    capture_id: int | None = None
    captured_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "warc": self.warc,
            "offset": self.offset,
            "url": self.url,
            "detail": self.detail,
            "capture_id": self.capture_id,
            "captured_at": self.captured_at,
        }
