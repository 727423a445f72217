"""extract on hostile input: deep nesting, huge pages, random bytes and links."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preserve.extract import extractor as extract_module
from tests.extract.helpers import HTML, MiB, html_doc, run, urls


def test_deep_nesting_finishes() -> None:
    for opener, closer in (("<div>", "</div>"), ("<span><b>", "</b></span>"), ("<a href=/x>", "")):
        raw = ("<html><body>" + opener * 100_000 + "deep" + closer * 100_000).encode()
        started = time.monotonic()
        result = run(raw)
        assert time.monotonic() - started < 10
        assert all(c.url.startswith("http") for c in result.citations)


def test_fifty_megabytes_of_links() -> None:
    raw = b"<html><body><article><p>" + b'<a href="/l?n=1">a link</a> ' * 2_000_000
    assert len(raw) > 50 * MiB
    started = time.monotonic()
    result = run(raw)
    assert time.monotonic() - started < 30
    assert urls(result) == ["http://news.example.com/l?n=1"]


def test_many_distinct_links_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_module, "MAX_LINKS", 20)
    links = "".join(f'<a href="/s/{i}">source {i}</a>, ' for i in range(100))
    result = run(html_doc(f"<article><p>Sources: {links}</p></article>"))
    assert urls(result) == [f"http://news.example.com/s/{i}" for i in range(20)]


HREFS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "#x",
            "/a",
            "//h.example/b",
            "mailto:x@y",
            "http://[::1",
            "https://h/%zz",
            "http://h.example:99999/",
            "javascript:x",
            " http://h.example/ok ",
        ]
    ),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.binary(max_size=2000),
    content_type=st.sampled_from(
        [HTML, "text/plain", None, "application/pdf", "text/html; charset=x"]
    ),
    encoding=st.sampled_from([None, "gzip", "deflate"]),
)
def test_random_bytes_never_raise(
    raw: bytes, content_type: str | None, encoding: str | None
) -> None:
    result = run(raw, content_type=content_type, content_encoding=encoding)
    for citation in result.citations:
        assert citation.url.startswith(("http://", "https://")) and "#" not in citation.url


@settings(max_examples=50, deadline=None)
@given(hrefs=st.lists(HREFS, max_size=6), text=st.text(max_size=200))
def test_random_links_are_absolute_http_without_fragments(hrefs: list[str], text: str) -> None:
    anchors = "".join(f'<a href="{h.replace(chr(34), "")}">{text[:9]}</a> ' for h in hrefs)
    raw = html_doc(f"<article><p>{text} {anchors} {text}</p></article>")
    for citation in run(raw, url="http://h.example/page").citations:
        assert citation.url.startswith(("http://", "https://")) and "#" not in citation.url
