"""Property tests: URL normalisation and citation extraction on random input."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preserve.errors import BadURL
from preserve.extract.extractor import extract
from preserve.urls import canonical
from tests.hostile.helpers import cite

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_HTML = settings(
    max_examples=25,
    deadline=None,  # each runs the whole extractor
    suppress_health_check=[HealthCheck.too_slow],
)
URL_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs"])
hosts = st.one_of(
    st.sampled_from(
        [
            "example.org",
            "EXAMPLE.org.",
            "127.0.0.1",
            "[::1]",
            "xn--bcher-kva.example",
            "bücher.example",
            "a-b.c",
            "2130706433",
            "[::ffff:10.0.0.1]",
            "exa mple.org",
            "",
        ]
    ),
    st.text(URL_CHARS, max_size=20),
)
urlish = st.one_of(
    st.text(URL_CHARS, max_size=200),
    st.builds(
        lambda scheme, host, port, path, query, fragment: (
            f"{scheme}://{host}{port}{path}{query}{fragment}"
        ),
        st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", "file", ""]),
        hosts,
        st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":x"]),
        st.text(URL_CHARS, max_size=60).map(lambda s: "/" + s),
        st.one_of(st.just(""), st.text(URL_CHARS, max_size=40).map(lambda s: "?" + s)),
        st.one_of(st.just(""), st.text(URL_CHARS, max_size=20).map(lambda s: "#" + s)),
    ),
)


def assert_canonical_form(url: str) -> None:
    assert url.isascii()
    assert url.startswith(("http://", "https://"))
    assert "#" not in url and " " not in url
    assert not any(ord(c) < 0x21 or ord(c) == 0x7F for c in url)
    assert canonical(url) == url  # idempotent


@FUZZ
@given(urlish)
def test_canonical_never_crashes_and_is_idempotent(url: str) -> None:
    try:
        result = canonical(url)
    except BadURL:
        return
    assert_canonical_form(result)


@FUZZ_HTML
@given(
    st.lists(
        st.one_of(
            urlish,
            st.sampled_from(
                [
                    "#top",
                    "",
                    "/",
                    "?q=1",
                    "../x",
                    "//other.example/p",
                    "mailto:a@b",
                    "javascript:void(0)",
                ]
            ),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["http://example.org/a/b", "https://bücher.example/x?y=1"]),
)
def test_citations_are_absolute_http_urls_without_fragments(
    hrefs: list[str], page_url: str
) -> None:
    escape = {"&": "&amp;", '"': "&quot;", "<": "&lt;"}
    html = cite(*("".join(escape.get(c, c) for c in href) for href in hrefs))
    found = extract(html, url=canonical(page_url), content_type="text/html; charset=utf-8")
    own = canonical(page_url)
    for citation in found.citations:
        assert_canonical_form(citation.url)
        assert citation.url != own
    assert len({c.url for c in found.citations}) == len(found.citations)


@FUZZ_HTML
@given(
    st.binary(max_size=4000),
    st.sampled_from(
        [
            None,
            "text/html",
            "text/html; charset=utf-16",
            "text/plain",
            "application/octet-stream",
            "text/html; charset=bogus",
        ]
    ),
    st.sampled_from([None, "gzip", "deflate", "br", "gzip, gzip"]),
)
def test_the_extractor_survives_random_bytes(
    raw: bytes, content_type: str | None, encoding: str | None
) -> None:
    for body in (raw, b"<html><body><p>" + raw + b"</p><a href='" + raw[:50] + b"'>x</a>"):
        found = extract(
            body, url="http://example.org/p", content_type=content_type, content_encoding=encoding
        )
        for citation in found.citations:
            assert_canonical_form(citation.url)
