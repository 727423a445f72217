"""extract.decode: charsets, BOMs, gzip and deflate, and decompression bombs."""

from __future__ import annotations

import gzip
import hashlib
import random
import tracemalloc
import zlib

import pytest

from preserve.extract.extractor import decode_content
from tests.extract.helpers import MiB, html_doc, page, run

CYRILLIC = "Порт закрыт после аварии. Министр заявил, что решение было принято не сразу."


def cyrillic_page(meta: str = "") -> bytes:
    paragraph = f"<p>{CYRILLIC} {CYRILLIC}</p>"
    return (
        f"<html><head>{meta}<title>Новости</title></head><body><article>{paragraph * 3}"
        "</article></body></html>"
    ).encode("cp1251")


@pytest.mark.parametrize(
    ("content_type", "meta"),
    [
        ("text/html; charset=windows-1251", ""),
        ("text/html", '<meta charset="windows-1251">'),
        ("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'),
    ],
)
def test_windows_1251_from_header_or_meta(content_type: str, meta: str) -> None:
    result = run(cyrillic_page(meta), content_type=content_type)
    assert result.charset == "cp1251"
    assert CYRILLIC in result.text
    assert result.title == "Новости"


def test_invalid_charset_names_fall_back() -> None:
    body = "<html><body><p>Café crème — déjà vu</p></body></html>".encode()
    for content_type in (
        "text/html; charset=no-such-charset",
        "text/html; charset=base64",
        'text/html; charset="utf-7"',
        "text/html; charset=\x00",
    ):
        result = run(body, content_type=content_type)
        assert result.charset == "utf-8" and "Café crème - déjà vu" in result.text
    meta = html_doc("<p>Café</p>", head='<meta charset="x-bogus">')
    assert run(meta, content_type="text/html").text == "Café"


def test_latin1_label_decodes_as_windows_1252() -> None:
    raw = "<html><body><p>\u201cQuoted\u201d caf\u00e9</p></body></html>".encode("cp1252")
    result = run(raw, content_type="text/html; charset=ISO-8859-1")
    assert result.charset == "cp1252" and result.text == '"Quoted" café'


def test_bom_and_xml_declaration() -> None:
    raw = b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?><html><body><p>Gr\xc3\xbc\xc3\x9fe"
    result = run(raw + b"</p></body></html>", content_type="application/xhtml+xml")
    assert result.text == "Grüße" and result.charset == "utf-8"


def test_gzip_and_deflate_bodies() -> None:
    raw = page()
    gzipped = run(gzip.compress(raw), content_encoding="gzip")
    assert gzipped.text_sha256 == run(raw).text_sha256
    assert gzipped.decoded_sha256 == hashlib.sha256(raw).hexdigest()
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated = raw_deflate.compress(raw) + raw_deflate.flush()
    assert decode_content(zlib.compress(raw), "deflate", 100 * MiB) == raw
    assert decode_content(deflated, "Deflate", 100 * MiB) == raw
    assert decode_content(gzip.compress(gzip.compress(raw)), "gzip, x-gzip", 100 * MiB) == raw
    assert decode_content(raw, "identity", 10) == raw
    assert decode_content(raw, "br", 10) == raw  # unknown: left alone
    assert decode_content(gzip.compress(b""), "gzip", 10) == b""


def test_broken_gzip_gives_what_decoded() -> None:
    raw = page()
    truncated = gzip.compress(raw)[: len(raw) // 4]
    partial = decode_content(truncated, "gzip", 100 * MiB)
    assert partial and raw.startswith(partial)
    assert decode_content(b"not gzip at all", "gzip", 100) == b"not gzip at all"
    rng = random.Random(7)
    words = "harbour notice ferry council quay mooring repair budget".split()
    text = " ".join(f"{rng.choice(words)}{i}" for i in range(200_000)).encode()
    compressed = gzip.compress(text)
    middle = len(compressed) // 2
    corrupt = compressed[:middle] + bytes(500) + compressed[middle + 500 :]
    partial = decode_content(corrupt, "gzip", 100 * MiB)
    # What inflated before the error is kept: the text up to the damage, then whatever
    # garbage zlib produced until its checks failed.
    assert len(partial) > len(text) // 3
    assert partial[: len(text) // 3] == text[: len(text) // 3]


def _zeros_gzip(megabytes: int, *, members: bool) -> bytes:
    """`megabytes` MiB of zeros, gzipped without ever holding them: one member compressed in
    1 MiB steps, or (much faster to build) the same 1 MiB member repeated."""
    chunk = bytes(MiB)
    if members:
        return gzip.compress(chunk, compresslevel=9, mtime=0) * megabytes
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(chunk) for _ in range(megabytes)]
    return b"".join(parts) + compressor.flush()


@pytest.mark.parametrize(("megabytes", "members"), [(1024, True), (64, False)])
def test_decompression_bomb_is_capped(megabytes: int, members: bool) -> None:
    bomb = _zeros_gzip(megabytes, members=members)
    assert len(bomb) < 2 * MiB
    tracemalloc.start()
    try:
        decoded = decode_content(bomb, "gzip", MiB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoded == bytes(MiB)
    assert peak < 8 * MiB
    result = run(bomb, content_encoding="gzip", max_inflated=2 * MiB)
    assert result.decoded_sha256 == hashlib.sha256(bytes(2 * MiB)).hexdigest()
