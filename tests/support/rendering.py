"""Rendering in tests: pages whose text a script builds, the skip for machines without
Chromium or Playwright, and what a rendered capture stored (its render metadata, its resource
records)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from preserve.browser.chromium import find_chromium, playwright_missing
from tests.support.warc_checks import record_at, rows

_MISSING = playwright_missing() or (
    None if find_chromium() else "no Chromium here (apt-get install chromium; .ci/run does)"
)
# Every test of rendering runs real Chromium: marked `browser`, skipped only where it cannot be.
needs_chromium = [
    pytest.mark.browser,
    pytest.mark.usefixtures("render_by_default"),
    pytest.mark.skipif(_MISSING is not None, reason=f"cannot render: {_MISSING}"),
]

WORDS = "the minister signed the accord on the fourth of May before the council met again"


def api_paragraphs(count: int = 6, claim: str = "signed") -> dict[str, Any]:
    """The JSON a scripted page builds its article from."""
    return {
        "title": "Accord signed in the capital",
        "paras": [
            f"Paragraph {n}: {WORDS.replace('signed', claim)}, officials said."
            for n in range(count)
        ],
    }


def scripted_page(api: str = "/api.json", extra: str = "", head: str = "") -> str:
    """A script shell: 'Loading…' until a script fetches `api` and builds the article from
    it (title, paragraphs, and a link to `cite` when the JSON names one)."""
    return f"""<!doctype html><html><head><title>Loading</title>{head}</head><body>
<div id="root">Loading...</div>
<script>
fetch({json.dumps(api)}).then(r => r.json()).then(d => {{
  document.title = d.title;
  const root = document.getElementById('root');
  root.textContent = '';
  const article = document.createElement('article');
  const h = document.createElement('h1'); h.textContent = d.title; article.appendChild(h);
  for (const text of d.paras) {{
    const p = document.createElement('p'); p.textContent = text; article.appendChild(p);
  }}
  if (d.cite) {{
    const p = document.createElement('p'); p.append('As the ministry put it in ');
    const a = document.createElement('a'); a.href = d.cite; a.textContent = 'its statement';
    p.appendChild(a); p.append(', the accord holds.'); article.appendChild(p);
  }}
  root.appendChild(article);
}});
</script>{extra}</body></html>"""


def latest(archive: Path, url: str) -> dict[str, Any]:
    """The latest capture of `url`."""
    found = rows(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id DESC LIMIT 1", (url,))
    assert found, f"no capture of {url}"
    return found[0]


def render_of(archive: Path, url: str) -> dict[str, Any]:
    """What the latest capture of `url`'s metadata record says of its render."""
    row = latest(archive, url)
    (meta,) = rows(
        archive,
        "SELECT * FROM records WHERE capture_id = ? AND type = 'metadata'",
        (row["id"],),
    )
    record = record_at(archive, meta["warc"], meta["offset"], meta["length"])
    about: dict[str, Any] = json.loads(record.payload)
    render: dict[str, Any] = about["render"]
    return render


def resource(archive: Path, capture_id: int, prefix: str) -> tuple[dict[str, Any], bytes]:
    """A capture's resource record whose URI starts with `prefix`: its row and payload."""
    (row,) = rows(
        archive,
        "SELECT * FROM records WHERE capture_id = ? AND type = 'resource' AND url LIKE ?",
        (capture_id, prefix + "%"),
    )
    record = record_at(archive, row["warc"], row["offset"], row["length"])
    return row, record.payload


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def outcomes(render: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The render's requests by how they were answered."""
    found: dict[str, list[dict[str, Any]]] = {}
    for seen in render["requests"]:
        found.setdefault(seen["outcome"], []).append(seen)
    return found
