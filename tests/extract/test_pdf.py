"""extract.pdf and PDFs through extract: the text layer of a document's pages, its title and
links; a scan gives no text and says so; a broken file gives what could be read, never an
exception."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter
from pypdf.annotations import Link

from preserve.demo.sample import simple_pdf
from preserve.extract.pdf import pdf_text
from tests.extract.helpers import run

URL = "http://gov.example/docs/annex-2015.pdf"
LINES = [
    "Technical annex, 2015",
    "The crossing point near the river was surveyed in March 2015.",
    "Observers counted forty vehicles on the northern road.",
]
ANNEX = simple_pdf(LINES, title="Technical annex, 2015")


def linked(document: bytes, url: str) -> bytes:
    """The document saved again by pypdf with a link annotation to `url` on its page."""
    writer = PdfWriter(clone_from=io.BytesIO(document))
    writer.add_annotation(page_number=0, annotation=Link(rect=(40, 700, 300, 720), url=url))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_text_layer_of_a_pdf_is_its_text() -> None:
    document = pdf_text(ANNEX)

    assert document.text.splitlines() == LINES
    assert (document.title, document.pages, document.has_text_layer) == (
        "Technical annex, 2015",
        1,
        True,
    )
    assert document.links == ()


def test_a_pdf_is_extracted_as_a_document_with_its_text_title_and_links() -> None:
    raw = simple_pdf([*LINES, "The full survey is at https://gov.example/survey/2015 online."])
    raw = linked(raw, "https://court.example/ruling/42")

    result = run(raw, url=URL, content_type="application/pdf")

    assert result.kind == "pdf"
    assert result.text.splitlines()[:3] == LINES
    assert result.visible_text == result.text  # all of a document is its text
    assert result.extractor == "pypdf"
    assert [c.url for c in result.citations] == [
        "https://court.example/ruling/42",  # a link a reader can click
        "https://gov.example/survey/2015",  # a URL written in the text
    ]


def test_a_pdf_is_known_by_its_first_bytes_whatever_it_is_served_as() -> None:
    for content_type in ("application/octet-stream", None, "text/html"):
        result = run(ANNEX, url=URL, content_type=content_type)
        assert (result.kind, result.text.splitlines()[0]) == ("pdf", LINES[0]), content_type


def test_the_same_lines_saved_again_read_the_same() -> None:
    """Another producer and date, or another writer's object order: other bytes, one text."""
    again = [
        simple_pdf(LINES, title="Technical annex, 2015", producer="Other Writer 9.1"),
        simple_pdf(LINES, title="Technical annex, 2015", created="D:20240101000000Z"),
        linked(ANNEX, "https://gov.example/"),
    ]

    assert all(raw != ANNEX for raw in again)
    texts = {run(raw, url=URL, content_type="application/pdf").text for raw in [ANNEX, *again]}
    assert len(texts) == 1


def test_a_pdf_without_a_text_layer_has_no_text_and_says_so() -> None:
    scan = simple_pdf(LINES, text_layer=False)

    document = pdf_text(scan)
    result = run(scan, url=URL, content_type="application/pdf")

    assert (document.text, document.pages, document.has_text_layer) == ("", 1, False)
    assert (result.kind, result.text, result.citations) == ("pdf", "", ())


def damaged() -> list[tuple[str, bytes]]:
    flipped = bytearray(ANNEX)
    at = ANNEX.index(b"stream\n") + len(b"stream\n")
    flipped[at : at + 40] = b"\x00\xff" * 20
    return [
        ("empty", b""),
        ("header-only", b"%PDF-1.4\n"),
        ("cut-in-the-header", ANNEX[:10]),
        ("cut-in-the-objects", ANNEX[: len(ANNEX) // 3]),
        ("cut-before-the-trailer", ANNEX[: ANNEX.index(b"trailer")]),
        ("cut-before-the-end", ANNEX[:-30]),
        ("garbage-in-the-content-stream", bytes(flipped)),
        ("xref-pointing-nowhere", ANNEX.replace(b"startxref\n", b"startxref\n99999")),
        ("random-bytes-after-a-header", b"%PDF-1.7\n" + bytes(range(256)) * 8),
    ]


@pytest.mark.parametrize(("raw"), [raw for _, raw in damaged()], ids=[n for n, _ in damaged()])
def test_a_damaged_pdf_gives_what_could_be_read_never_an_exception(raw: bytes) -> None:
    document = pdf_text(raw)
    result = run(raw, url=URL, content_type="application/pdf")

    assert result.kind == "pdf"
    assert document.has_text_layer == bool(document.text.strip())
    assert result.text in ("", "\n".join(LINES))  # what could be read, or nothing
