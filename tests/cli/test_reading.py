"""The commands that read an archive, on the command line: `diff`, `history` and
`status`, as text and as --json."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from preserve.store.database import Store
from preserve.times import iso
from tests.support.checking import NEGATED, cli_capture, long_paragraphs
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, article_html
from tests.support.stored import T0, URL, add, check, new_run


def test_cli_diff_history_and_status(tmp_path: Path, cli_site: Site, preserve: Preserve) -> None:
    archive = tmp_path / "archive"
    url = cli_capture(archive, cli_site)
    assert preserve.run(archive, "check", "--allow-private", "-q").exit_code == 0
    cli_site.pages["/2016/10/story"] = Page(
        article_html(
            "Wiretap inquiry",
            [
                *long_paragraphs(NEGATED, count=4)[:3],
                'See <a href="/src/one">the first report</a>.',
            ],
        )
    )
    assert preserve.run(archive, "check", "--allow-private", "-q").exit_code == 0

    plain = preserve.run(archive, "diff", url)
    assert plain.exit_code == 0, plain.output
    assert "[-confirmed-] {+did not confirm+}" in plain.stdout
    assert "\x1b[" not in plain.stdout  # no colour when not on a terminal

    data = preserve.json(archive, "diff", url)
    (hunk,) = data["hunks"]
    assert (hunk["old"], hunk["new"]) == ("confirmed", "did not confirm")
    assert hunk["negations"] is True
    assert data["from"]["sha256"] != data["to"]["sha256"]

    history = preserve.json(archive, "history", url)
    assert history["url"] == url
    outcomes = [c["outcome"] for c in history["captures"]]
    assert outcomes[0] in ("new", "captured") and outcomes[1:] == ["unchanged", "edited"]
    assert [c["record_type"] for c in history["captures"]] == ["response", "revisit", "response"]
    for entry in history["captures"]:
        assert {
            "captured_at",
            "http_status",
            "sha256",
            "text_sha256",
            "warc",
            "offset",
            "length",
        } <= set(entry)
    times = [c["captured_at"] for c in history["captures"]]
    assert times == sorted(times)

    text = preserve.run(archive, "history", url)
    assert text.exit_code == 0 and "edited" in text.stdout

    status = preserve.run(archive, "status")
    assert status.exit_code == 0 and url in status.stdout and "edited" in status.stdout


def test_diff_shows_a_sentence_with_two_changes_as_one_line(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    """Two words changed in one sentence: one line with both marked, as the report shows
    it, not two lines each showing the other change's words as unchanged."""
    archive = tmp_path / "archive"
    sentence = "The minister said on Tuesday that {} soldiers had crossed the {} border."
    site.pages["/s"] = Page(article_html("S", [sentence.format("forty", "northern"), "Other."]))
    assert preserve.run(archive, "capture", "--allow-private", "-q", site.url("/s")).exit_code == 0
    site.pages["/s"] = Page(article_html("S", [sentence.format("four", "southern"), "Other."]))
    assert preserve.run(archive, "check", "--allow-private", "-q").exit_code == 0

    out = preserve.run(archive, "diff", site.url("/s"))

    assert out.exit_code == 0, out.output
    changed = [line for line in out.stdout.splitlines() if "[-" in line]
    assert changed == [
        "The minister said on Tuesday that [-forty-] {+four+} soldiers had crossed the "
        "[-northern-] {+southern+} border."
    ]


def test_diff_of_a_page_that_never_changed_says_so(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    site.pages["/s"] = Page(article_html("S", ["The same words, every time."]))
    assert preserve.run(archive, "capture", "--allow-private", "-q", site.url("/s")).exit_code == 0

    once = preserve.run(archive, "diff", site.url("/s"))
    assert preserve.run(archive, "check", "--allow-private", "-q").exit_code == 0
    twice = preserve.run(archive, "diff", site.url("/s"))
    data = preserve.json(archive, "diff", site.url("/s"))

    assert (once.exit_code, twice.exit_code) == (0, 0)
    assert "No change: this is the only good capture." in once.stdout
    assert "No change: the main texts are equal." in twice.stdout
    assert data["changed"] is False and data["hunks"] == []


def test_status_keeps_the_last_change_after_a_quiet_check(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    """After an edit and one more quiet check, status said only `unchanged` while report
    said `edited`: one look at status must tell what happened."""
    archive = tmp_path / "archive"
    site.pages["/s"] = Page(article_html("S", ["The minister confirmed the order."]))
    assert preserve.run(archive, "capture", "--allow-private", "-q", site.url("/s")).exit_code == 0
    site.pages["/s"] = Page(article_html("S", ["The minister denied the order."]))
    assert preserve.run(archive, "check", "--allow-private", "-q").exit_code == 0
    assert preserve.run(archive, "check", "--allow-private", "-q").exit_code == 0  # quiet

    text = preserve.run(archive, "status")
    (target,) = preserve.json(archive, "status")["targets"]

    (line,) = [line for line in text.stdout.splitlines() if site.url("/s") in line]
    assert line.split()[:2] == ["unchanged", "edited"]
    assert (target["state"], target["last_event"], target["last_event_reason"]) == (
        "unchanged",
        "edited",
        "text",
    )
    assert target["last_event_at"] and target["last_event_at"][:10] in line


def test_status_puts_long_reasons_last_so_columns_stay_aligned(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(
        article_html("A", ['See <a href="/gone">this</a> and <a href="/ok">that</a>.'])
    )
    site.pages["/ok"] = Page(article_html("OK", ["Fine."]))
    assert preserve.run(archive, "capture", "--allow-private", "-q", site.url("/a")).exit_code == 0

    lines = preserve.run(archive, "status").stdout.splitlines()

    header, rows = lines[0], lines[1:]
    column = header.index("url")
    assert all(row[column : column + 4] == "http" for row in rows), lines
    assert any(row.endswith("(http-404)") for row in rows)


# --- history and status on the command line -------------------------------------------------


def test_history_and_status_need_an_archive(tmp_path: Path, preserve: Preserve) -> None:
    missing = tmp_path / "nothing-here"
    for args in (["history", URL], ["status"], ["status", "--json"]):
        result = preserve.run(missing, *args)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: no archive at"), result.stderr
        assert not missing.exists()


def test_history_and_status_of_an_empty_archive(tmp_path: Path, preserve: Preserve) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    Store(archive / "preserve.db").close()

    def output(*args: str) -> str:
        result = preserve.run(archive, *args)
        assert result.exit_code == 0, result.output
        return result.stdout

    assert json.loads(output("history", "--json", URL)) == {"url": URL, "captures": []}
    assert json.loads(output("status", "--json")) == {"targets": []}
    assert "No captures" in output("history", URL)
    # URLs are compared in their canonical form.
    assert (
        json.loads(
            output("history", "--json", "HTTPS://Example.org:443/2016/10/some-article#comments")
        )["url"]
        == URL
    )
    result = preserve.run(archive, "history", "ftp://x/")
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")


def test_history_and_status_from_a_populated_archive(tmp_path: Path, preserve: Preserve) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    store = Store(archive / "preserve.db")
    try:
        run_id = new_run(store)
        first = add(store, run_id)
        failed = add(store, run_id, at=T0 + timedelta(days=1), status="failed", error="dns")
        store.track(URL, role="article", every_seconds=86400, now=T0, baseline_capture_id=first)
        store.set_state(URL, "new", None, T0)
        check(
            store,
            run_id,
            failed,
            at=T0 + timedelta(days=1),
            outcome="gone",
            reason="dns",
            baseline=first,
        )
    finally:
        store.close()

    result = preserve.run(archive, "history", "--json", URL)
    assert result.exit_code == 0, result.output
    captures = json.loads(result.stdout)["captures"]
    assert [(c["outcome"], c["http_status"], c["error"]) for c in captures] == [
        ("new", 200, None),
        ("gone", None, "dns"),
    ]
    assert captures[0]["captured_at"] == iso(T0)
    assert (captures[0]["warc"], captures[0]["offset"], captures[0]["length"]) == (
        "preserve-x.warc.gz",
        100,
        50,
    )
    assert captures[1]["sha256"] is None and captures[1]["warc"] is None

    result = preserve.run(archive, "status", "--json")
    assert result.exit_code == 0, result.output
    (target,) = json.loads(result.stdout)["targets"]
    assert (target["url"], target["role"], target["state"], target["reason"]) == (
        URL,
        "article",
        "gone",
        "dns",
    )
    assert target["every"] == "1d" and target["confirmed"] is False
    assert target["last_checked_at"] == iso(T0 + timedelta(days=1))


def test_status_columns_and_keys(tmp_path: Path, site: Site, preserve: Preserve) -> None:
    """status's columns, in their order (state, last change, last check, role, url, then
    the reason), and every key of `status --json` that docs/json.md lists."""
    archive = tmp_path / "archive"
    links = 'See <a href="/thin">the first report</a> and <a href="/missing">the second</a>.'
    site.pages["/a"] = Page(article_html("A", [*long_paragraphs(count=3), links]))
    site.pages["/thin"] = Page(article_html("Thin", ["Loading…"]))
    assert preserve.run(archive, "capture", "--allow-private", "-q", site.url("/a")).exit_code == 0
    site.pages["/a"] = Page(article_html("A", [*long_paragraphs(NEGATED, count=3), links]))
    assert preserve.run(archive, "check", "--allow-private", "-q", site.url("/a")).exit_code == 0
    assert preserve.run(archive, "track", site.url("/a"), "--pause").exit_code == 0

    text = preserve.run(archive, "status")
    targets = {t["url"]: t for t in preserve.json(archive, "status")["targets"]}

    header, *lines = text.stdout.splitlines()
    assert header.split() == ["state", "last", "change", "last", "check", "role", "url", "(reason)"]
    row = {next(w for w in line.split() if w.startswith("http")): line for line in lines}
    article = targets[site.url("/a")]
    assert set(article) == {
        "url", "role", "state", "reason", "confirmed", "every", "next_due", "last_checked_at",
        "last_change_at", "cited_by", "last_event", "last_event_reason", "last_event_at",
        "paused", "text_gap",
    }  # fmt: skip
    assert (article["state"], article["last_event"], article["last_event_reason"]) == (
        "edited",
        "edited",
        "text",
    )
    assert article["paused"] is True and article["text_gap"] is None
    assert row[site.url("/a")].split() == [
        "edited",
        "edited",
        article["last_event_at"][:10],
        article["last_checked_at"][:19],
        "article",
        site.url("/a"),
        "(text,",
        "paused)",
    ]
    thin, missing = targets[site.url("/thin")], targets[site.url("/missing")]
    assert (thin["state"], thin["text_gap"], thin["paused"]) == ("new", "no-text", True)
    assert (missing["state"], missing["reason"], missing["text_gap"]) == (
        "failed",
        "http-404",
        None,
    )
    assert missing["last_event"] is None and missing["cited_by"] == site.url("/a")
    assert row[site.url("/thin")].split()[:2] == ["new", "-"]
    assert row[site.url("/thin")].endswith(f"citation  {site.url('/thin')}  (paused, no text)")
    assert row[site.url("/missing")].endswith(f"{site.url('/missing')}  (http-404, paused)")
