"""changes.links: URL keys, and the citations an edit adds, removes or retargets."""

from __future__ import annotations

import pytest

from preserve.changes.links import link_changes, url_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://example.org/a", "https://example.org/a"),
        ("https://www.example.org/a", "https://example.org/a"),
        ("https://example.org/a/", "https://example.org/a"),
        ("https://example.org/a?utm_source=x&id=3&fbclid=y", "https://example.org/a?id=3"),
        ("https://Example.org:443/a#top", "https://example.org/a"),
        ("https://example.org/a?gclid=1", "https://example.org/a"),
    ],
)
def test_url_key_equal(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.org/A", "https://example.org/a"),
        ("https://example.org/a?id=3", "https://example.org/a?id=4"),
        ("https://example.org:8080/a", "https://example.org/a"),
    ],
)
def test_url_key_different(a: str, b: str) -> None:
    assert url_key(a) != url_key(b)


def test_link_changes() -> None:
    old = [("https://a.example/1", "the report"), ("https://b.example/2", "a memo")]
    new = [
        ("http://www.a.example/1/", "the report"),  # the same citation
        ("https://c.example/3", "A  memo"),  # same anchor, another URL
        ("https://d.example/4", "new source"),
    ]
    changes = link_changes(old, new)
    assert [r.new_url for r in changes.retargeted] == ["https://c.example/3"]
    assert [link.url for link in changes.added] == ["https://d.example/4"]
    assert changes.removed == () and changes.reanchored == ()
    assert not link_changes(old, list(reversed(old)))
    reanchored = link_changes(old, [("https://a.example/1", "the full report"), old[1]])
    assert [(r.old_anchor, r.new_anchor) for r in reanchored.reanchored] == [
        ("the report", "the full report")
    ]
