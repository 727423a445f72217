"""What a capture lacks as text (preserve/coverage.py), end to end: a page built by scripts
is captured as evidence of what was served, and `capture`, `status` and `report` say that
it is no archive of what a reader sees; an error page is failed, never said to lack text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from preserve.coverage import GAPS, THIN_WORDS, text_gap
from tests.support.capturing import FAST, capture, story
from tests.support.checking import long_paragraphs
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, article_html

# A single-page app: everything a reader sees is written by a script the capture never runs.
SHELL = (
    "<!DOCTYPE html><html><head><title>Harbour news</title>"
    '<script src="/static/app.js" defer></script></head>'
    '<body><div id="app">Loading...</div></body></html>'
)


@pytest.mark.parametrize(
    ("kind", "words", "gap"),
    [
        ("html", 0, "no-text"),
        ("html", THIN_WORDS - 1, "no-text"),
        ("html", THIN_WORDS, None),
        ("text", 3, "no-text"),
        ("pdf", 0, "no-text-layer"),
        ("pdf", 3, None),  # a short document still has its words
        ("other", 0, None),  # an image: never text
        ("html", None, None),  # counted by no one: a capture made before preserve counted
    ],
)
def test_text_gap(kind: str, words: int | None, gap: str | None) -> None:
    assert text_gap(kind, words) == gap


def status_of(preserve: Preserve, archive: Path) -> dict[str, dict[str, Any]]:
    return {t["url"]: t for t in preserve.json(archive, "status")["targets"]}


def status_line(preserve: Preserve, archive: Path, url: str) -> str:
    out = preserve.run(archive, "status")
    assert out.exit_code == 0, out.output
    (line,) = [line for line in out.stdout.splitlines() if f" {url}" in line]
    return line


def test_a_page_built_by_scripts_is_captured_and_said_to_lack_its_text(
    site: Site, archive: Path, preserve: Preserve, tmp_path: Path
) -> None:
    site.pages["/app/story"] = Page(SHELL)
    url = site.url("/app/story")

    data = capture(archive, url)
    text = preserve.run(tmp_path / "text", "capture", *FAST, url)

    article = data["article"]
    assert (article["status"], article["http_status"], article["kind"]) == ("captured", 200, "html")
    assert article["text_words"] < THIN_WORDS
    assert article["text_gap"] == "no-text"
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    at = next(
        n for n, line in enumerate(lines) if line.strip().startswith("captured") and url in line
    )
    assert lines[at + 1].strip() == f"warning: {GAPS['no-text']}"

    assert status_of(preserve, archive)[url]["text_gap"] == "no-text"
    assert status_line(preserve, archive, url).endswith("(no text)")

    report = preserve.json(archive, "report", url)
    (dossier,) = report["articles"]
    assert dossier["badge"] == "no-text"
    assert dossier["last_capture"]["text_gap"] == "no-text"
    plain = preserve.run(archive, "report", url).stdout
    assert f"The article: {GAPS['no-text']}" in plain
    assert "Article unchanged since first capture" in plain  # nothing changed: it is not ok
    html_file = tmp_path / "report.html"
    assert preserve.run(archive, "report", url, "--html", str(html_file)).exit_code == 0
    assert "The article: no main text to speak of" in html_file.read_text()


def test_once_its_text_is_served_the_page_no_longer_lacks_it(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/app/story"] = Page(SHELL)
    url = site.url("/app/story")
    capture(archive, url)
    # Served with its text now (rendered on the server).
    site.pages["/app/story"] = Page(article_html("Harbour news", long_paragraphs(count=3)))

    checked = preserve.json(archive, "check", *FAST)

    (result,) = checked["results"]
    # Not "gone/replaced": there was no text to replace.
    assert (result["outcome"], result["reason"], result["rule"]) == (
        "edited",
        "text",
        "text.edited",
    )
    assert status_of(preserve, archive)[url]["text_gap"] is None
    assert "no text" not in status_line(preserve, archive, url)
    (dossier,) = preserve.json(archive, "report", url)["articles"]
    assert dossier["badge"] == "edited"
    assert dossier["last_capture"]["text_gap"] is None


@pytest.mark.parametrize("status", [404, 410, 500])
def test_an_error_page_is_failed_never_said_to_lack_text(
    site: Site, archive: Path, preserve: Preserve, status: int
) -> None:
    site.pages["/gone"] = Page("<html><body><h1>Not here</h1></body></html>", status=status)
    url = site.url("/gone")

    data = capture(archive, url)  # an answer was recorded: the run did its job

    assert (data["article"]["http_status"], data["article"]["text_gap"]) == (status, None)
    target = status_of(preserve, archive)[url]
    assert (target["state"], target["text_gap"]) == ("failed", None)
    assert "no text" not in status_line(preserve, archive, url)
    (dossier,) = preserve.json(archive, "report", url)["articles"]
    assert dossier["badge"] == "failed"
    assert dossier["last_capture"]["text_gap"] is None
    assert "no main text" not in preserve.run(archive, "report", url).stdout


def test_an_article_with_its_text_lacks_nothing_and_a_source_without_text_is_named(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/app/notice"] = Page(SHELL)
    site.pages["/story"] = Page(story(("/app/notice", "the port's notice")))
    url, source = site.url("/story"), site.url("/app/notice")

    data = capture(archive, url)

    assert (data["article"]["kind"], data["article"]["text_gap"]) == ("html", None)
    assert data["article"]["text_words"] >= THIN_WORDS
    (cited,) = data["citations"]
    assert cited["text_gap"] == "no-text"
    targets = status_of(preserve, archive)
    assert (targets[url]["text_gap"], targets[source]["text_gap"]) == (None, "no-text")
    (dossier,) = preserve.json(archive, "report", url)["articles"]
    assert dossier["badge"] == "ok"  # the article's own text is archived
    plain = preserve.run(archive, "report", url).stdout
    assert f"Source 1 “the port's notice”: {GAPS['no-text']}" in plain
    assert "The article: " not in plain
