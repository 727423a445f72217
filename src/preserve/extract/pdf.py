"""PDF documents as text: the text layer of their pages (pypdf), their title, and the links
they carry, so that a cited PDF is compared by what it says, as a page is.

Never raises for what a server sends: a broken or hostile file gives what could be read,
and a file with no text layer (a scan) gives no text and says so."""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass

# A document is read up to this many pages, and for this long: a PDF can hold a million
# pages, or pages built to take minutes each.
MAX_PAGES = 1000
MAX_SECONDS = 20.0


@dataclass(frozen=True)
class PdfText:
    """What a PDF says: the text of its pages, in order (a page a paragraph block), its
    title, the URIs of its links, and whether any page had a text layer at all."""

    text: str
    title: str | None
    links: tuple[str, ...]
    pages: int
    has_text_layer: bool


def pdf_text(body: bytes) -> PdfText:
    """The text layer of a PDF file's pages, as pypdf reads it."""
    # pypdf says what it finds odd in a file on the logging module: a hostile file could
    # fill a log with it.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(body), strict=False)
        pages = list(reader.pages)
    except Exception:  # pypdf fails in many ways on broken files: nothing to read then
        return PdfText("", None, (), 0, False)
    started = time.monotonic()
    texts: list[str] = []
    links: list[str] = []
    for page in pages[:MAX_PAGES]:
        if time.monotonic() - started > MAX_SECONDS:
            break
        try:
            texts.append(page.extract_text() or "")
        except Exception:
            texts.append("")
        links += _uris(page)
    return PdfText(
        "\n".join(texts),
        _title(reader),
        tuple(dict.fromkeys(links)),
        len(pages),
        any(t.strip() for t in texts),
    )


def _title(reader: object) -> str | None:
    try:
        info = reader.metadata  # type: ignore[attr-defined]
        title = info.title if info is not None else None
    except Exception:
        return None
    return str(title).strip() or None if title else None


def _uris(page: object) -> list[str]:
    """The URIs of a page's link annotations: the links a reader can click."""
    found: list[str] = []
    try:
        annotations = page.get("/Annots") or []  # type: ignore[attr-defined]
        for ref in annotations:
            annotation = ref.get_object()
            action = annotation.get("/A")
            action = action.get_object() if action is not None else None
            uri = action.get("/URI") if action is not None else None
            if isinstance(uri, bytes):
                uri = uri.decode("latin-1")
            if isinstance(uri, str) and uri.strip():
                found.append(uri.strip())
    except Exception:  # a broken annotation leaves the page's other links as they were
        pass
    return found
