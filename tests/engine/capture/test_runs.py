"""capture, end to end: capturing again (revisits, the baseline), one WARC file per run,
the library call, several articles in one run, and the extraction workers."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from preserve.config import load_config
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.processes import cpus
from preserve.times import utc_now
from preserve.warc.records import REVISIT_PROFILE
from tests.support.capturing import capture, capture_of, citation_sources, status_of, story
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, redirect
from tests.support.warc_checks import assert_archive_sound, record_at, rows


def test_capturing_twice_writes_revisits_and_compares_with_the_baseline(
    site: Site, archive: Path
) -> None:
    site.pages["/src"] = Page("<html><body><p>Source</p></body></html>")
    site.pages["/a"] = Page(story(("/src", "a source")))
    url = site.url("/a")
    first = capture(archive, url)
    (target,) = rows(archive, "SELECT * FROM targets WHERE url = ?", (url,))

    second = capture(archive, url)

    assert first["article"]["record_type"] == "response"
    assert second["article"]["record_type"] == "revisit"
    assert second["article"]["sha256"] == first["article"]["sha256"]
    assert second["citations"][0]["record_type"] == "revisit"
    assert second["requisites"][0]["record_type"] == "revisit"
    revisit = record_at(
        archive, second["article"]["warc"], second["article"]["offset"], second["article"]["length"]
    )
    original = record_at(
        archive, first["article"]["warc"], first["article"]["offset"], first["article"]["length"]
    )
    assert revisit.rec_type == "revisit" and revisit.payload == b""
    assert revisit.header("WARC-Profile") == REVISIT_PROFILE
    assert revisit.header("WARC-Refers-To") == original.record_id
    assert revisit.header("WARC-Refers-To-Target-URI") == url
    assert revisit.header("WARC-Refers-To-Date") == original.date
    assert revisit.payload_digest == original.payload_digest
    assert revisit.http_status == 200
    # Captured again: compared with the baseline as a check would, which found it the same
    # and made the newer capture the baseline; the schedule and role stay the target's.
    (after,) = rows(archive, "SELECT * FROM targets WHERE url = ?", (url,))
    assert (after["state"], after["baseline_capture_id"]) == (
        "unchanged",
        second["article"]["capture_id"],
    )
    assert {k: after[k] for k in ("role", "every_seconds", "added_at", "cited_by")} == {
        k: target[k] for k in ("role", "every_seconds", "added_at", "cited_by")
    }
    (check,) = rows(archive, "SELECT outcome, capture_id FROM checks WHERE url = ?", (url,))
    assert check == {"outcome": "unchanged", "capture_id": second["article"]["capture_id"]}
    assert (
        len(
            rows(
                archive, "SELECT * FROM texts WHERE sha256 = ?", (first["article"]["text_sha256"],)
            )
        )
        == 1
    )
    assert first["article"]["warc"] != second["article"]["warc"]
    assert_archive_sound(archive)


def test_a_revisit_names_the_record_it_repeats(site: Site, archive: Path) -> None:
    """A source that first answered through a redirect, then directly with the same bytes:
    the revisit must point at a record whose URI and date are the ones it names."""
    body = "<html><body><p>The statement, unchanged.</p></body></html>"
    site.pages["/statement"] = redirect("/archive/statement", 301)
    site.pages["/archive/statement"] = Page(body)
    site.pages["/a"] = Page(story(("/statement", "the statement")))
    capture(archive, site.url("/a"))
    site.pages["/statement"] = Page(body)

    capture(archive, site.url("/a"))

    assert site.hits["/statement"] == 2
    assert_archive_sound(archive)


def test_one_warc_file_per_run(site: Site, archive: Path) -> None:
    site.pages["/src"] = Page("<html><body><p>Source</p></body></html>")
    site.pages["/a"] = Page(story(("/src", "a source")))
    runs = [capture(archive, site.url("/a"))["run"] for _ in range(2)]

    files = sorted((archive / "warcs").iterdir())
    assert len(files) == 2 and all(f.name.endswith(".warc.gz") for f in files)
    closed = rows(archive, "SELECT * FROM warc_files ORDER BY run_id")
    assert [f["run_id"] for f in closed] == runs
    for row in closed:
        path = archive / "warcs" / row["name"]
        assert row["size"] == path.stat().st_size
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert {
            c["warc"]
            for c in rows(archive, "SELECT warc FROM captures WHERE run_id = ?", (row["run_id"],))
        } == {row["name"]}
    for run in rows(archive, "SELECT * FROM runs"):
        assert run["ended_at"] >= run["started_at"]
        assert run["command"] == "capture"
    assert_archive_sound(archive)


def test_library_capture(site: Site, other_site: Site, tmp_path: Path) -> None:
    """The same job without the command line: what `capture` calls."""
    urls, links = citation_sources(site, other_site)
    site.pages["/a"] = Page(story(*links))
    path = tmp_path / "lib-archive"
    config = load_config(path, allow_private=True, timeout=2.0)
    archive = Archive(path)
    try:
        run = Run(archive, "capture", config, utc_now, {"urls": [site.url("/a")]})
        try:
            results = list(capture_articles(run, [site.url("/a")], every_seconds=3600))
        finally:
            run.finish()
    finally:
        archive.close()

    (entry,) = results
    assert entry.ok and entry.article is not None and entry.article.ok
    assert [c.job.url for c in entry.citations] == urls
    assert [c.job.role for c in entry.citations] == ["citation"] * 3
    assert [r.job.url for r in entry.requisites] == [site.url("/static/site.css")]
    assert {t["every_seconds"] for t in rows(path, "SELECT * FROM targets")} == {3600}
    assert_archive_sound(path)


def test_two_articles_citing_the_same_source(site: Site, archive: Path) -> None:
    site.pages["/shared"] = Page("<html><body><p>Shared</p></body></html>")
    site.pages["/one"] = Page(story(("/shared", "the shared source"), ("/only-one", "one's")))
    site.pages["/two"] = Page(story(("/only-two", "two's"), ("/shared", "the shared source")))

    document = capture(archive, site.url("/one"), site.url("/two"))

    one, two = document["articles"]
    assert [c["url"] for c in one["citations"]] == [site.url("/shared"), site.url("/only-one")]
    assert [c["url"] for c in two["citations"]] == [site.url("/only-two"), site.url("/shared")]
    assert site.hits["/shared"] == 1
    assert_archive_sound(archive)


def test_a_source_one_article_shows_and_another_cites(site: Site, archive: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    site.pages["/chart.png"] = Page(png, content_type="image/png")
    site.pages["/shows"] = Page(
        story(("/x", "x")).replace(
            "</main>", '<figure><img src="/chart.png" alt="chart"></figure></main>'
        )
    )
    # Later than /shows, so that the image is first fetched as the requisite of /shows.
    site.pages["/cites"] = Page(story(("/chart.png", "the chart")), delay=0.3)

    document = capture(archive, site.url("/shows"), site.url("/cites"))

    shows, cites = document["articles"]
    assert site.url("/chart.png") in {r["url"] for r in shows["requisites"]}
    assert [c["url"] for c in cites["citations"]] == [site.url("/chart.png")]
    assert site.hits["/chart.png"] == 1
    (target,) = rows(archive, "SELECT * FROM targets WHERE url = ?", (site.url("/chart.png"),))
    assert (target["role"], target["cited_by"], target["state"]) == (
        "citation",
        site.url("/cites"),
        "new",
    )
    assert target["baseline_capture_id"] == capture_of(archive, site.url("/chart.png"))["id"]
    assert_archive_sound(archive)


def test_nothing_a_server_sends_stops_the_run(site: Site, archive: Path) -> None:
    for n in range(12):  # an endless chain, past the 10 redirects allowed
        site.pages[f"/endless/{n}"] = redirect(f"/endless/{n + 1}")
    site.pages["/loop-a"] = redirect("/loop-b")
    site.pages["/loop-b"] = redirect("/loop-a")
    site.pages["/to-ftp"] = redirect("ftp://example.org/file")
    site.pages["/bad-location"] = redirect("http://[broken")
    site.pages["/broken-gzip"] = Page(
        b"\x1f\x8b\x08\x00garbage", content_type="text/html", headers=[("Content-Encoding", "gzip")]
    )
    site.pages["/bad-charset"] = Page(
        "<p>Caf\u00e9 ol\u00e9 and more words</p>".encode(),
        content_type="text/html; charset=no-such-charset",
    )
    site.pages["/garbage"] = Page(bytes(range(256)) * 20, content_type="text/html")
    site.pages["/empty"] = Page(b"")
    sources = [
        ("/endless/0", "too many redirects", "failed", "too-many-redirects"),
        ("/loop-a", "a loop", "failed", "redirect-loop"),
        ("/to-ftp", "an ftp redirect", "failed", "unsupported-scheme"),
        ("/bad-location", "a bad redirect", "failed", "bad-redirect"),
        ("/broken-gzip", "broken gzip", "captured", None),
        ("/bad-charset", "a bad charset", "captured", None),
        ("/garbage", "garbage", "captured", None),
        ("/empty", "nothing at all", "captured", None),
    ]
    site.pages["/a"] = Page(story(*[(path, anchor) for path, anchor, _, _ in sources]))

    document = capture(archive, site.url("/a"))

    assert [(c["url"], c["status"], c["error"]) for c in document["citations"]] == [
        (site.url(path), status, error) for path, _, status, error in sources
    ]
    # The hops received before a failure are kept as evidence.
    endless = capture_of(archive, site.url("/endless/0"))
    assert (
        len(
            rows(
                archive,
                "SELECT * FROM records WHERE capture_id = ? AND type = 'response'",
                (endless["id"],),
            )
        )
        == 11
    )
    assert_archive_sound(archive)


def test_the_archive_check_catches_damage(site: Site, archive: Path) -> None:
    """tests/support/warc_checks.py itself: a wrong hash in the database, or a cut file, fails
    it."""
    site.pages["/a"] = Page(story(("/missing", "a missing page")))
    capture(archive, site.url("/a"))
    assert_archive_sound(archive)

    (good,) = rows(archive, "SELECT payload_sha256 FROM captures WHERE role = 'article'")

    def set_article_hash(value: str) -> None:
        db = sqlite3.connect(archive / "preserve.db")
        try:
            with db:
                db.execute(
                    "UPDATE captures SET payload_sha256 = ? WHERE role = 'article'", (value,)
                )
        finally:
            db.close()

    set_article_hash("0" * 64)
    with pytest.raises(AssertionError):
        assert_archive_sound(archive)
    set_article_hash(good["payload_sha256"])
    assert_archive_sound(archive)

    (path,) = (archive / "warcs").glob("*.warc.gz")
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(AssertionError):
        assert_archive_sound(archive)


def test_a_run_keeps_only_the_count_of_a_sources_citations(site: Site, archive: Path) -> None:
    """A source's own citations are in the database, and its summary in the run's output
    counts them; the run does not hold them in memory until it ends."""
    site.pages["/src/inquiry"] = Page(
        story(("/src/a", "a letter"), ("/src/b", "the minutes"), title="Inquiry report")
    )
    site.pages["/a"] = Page(story(("/src/inquiry", "the inquiry report")))
    document = capture(archive, site.url("/a"))
    (cited,) = document["citations"]
    assert cited["url"] == site.url("/src/inquiry") and cited["citations"] == 2
    stored = rows(
        archive,
        "SELECT url FROM citations WHERE capture_id = ? ORDER BY position",
        (cited["capture_id"],),
    )
    assert [row["url"] for row in stored] == [site.url("/src/a"), site.url("/src/b")]


def test_a_command_ends_its_extraction_workers(site: Site, archive: Path) -> None:
    """The workers hold nothing once a command is done: they are ended with it, not left
    to wind down in the interpreter's exit."""
    from preserve.extract import pool as extractpool

    site.pages["/a"] = Page(story(("/src/inquiry", "the inquiry report")))
    site.pages["/src/inquiry"] = Page(story(title="Inquiry report"))
    if cpus() < 2:
        pytest.skip("one CPU: pages are extracted in the calling thread, with no workers")
    extractpool.start()
    pool = extractpool._pool
    assert pool is not None
    workers = list(pool.processes)
    assert workers and all(worker.is_alive() for worker in workers)
    capture(archive, site.url("/a"))
    for worker in workers:
        worker.join(timeout=10)  # reaped: killed, not waiting for more pages
    assert all(worker.exitcode is not None for worker in workers)
    assert extractpool._pool is None


def test_extraction_workers_killed_between_pages_cost_no_page(site: Site, archive: Path) -> None:
    """A worker the kernel kills (the out-of-memory killer, an operator's kill -9) breaks
    the pool: the pages given to it go to a new one, and every page still gets its text."""
    import signal

    from preserve.extract import pool as extractpool

    if cpus() < 2:
        pytest.skip("one CPU: pages are extracted in the calling thread, with no workers")
    sources = [(f"/src/{n}", f"document {n}") for n in range(6)]
    site.pages["/a"] = Page(story(*sources))
    for path, _ in sources:
        site.pages[path] = Page(story(title=f"Source {path}"))
    extractpool.start()
    pool = extractpool._pool
    assert pool is not None
    for worker in list(pool.processes):
        assert worker.pid is not None  # started
        # Seen once under heavy load: a worker already gone and reaped before this kill (why
        # is not known). Dead either way; what is tested is that its pages are redone.
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGKILL)
        worker.join(timeout=10)
    document = capture(archive, site.url("/a"))
    assert pool.broken  # it was found broken, and its pages redone
    pages = {site.url("/a"), *(site.url(path) for path, _ in sources)}
    texts = {r["url"]: r["text_sha256"] for r in rows(archive, "SELECT * FROM captures")}
    assert pages <= set(texts) and all(texts[url] for url in pages), texts
    assert len(document["citations"]) == len(sources)


def test_capturing_again_updates_the_state_of_what_was_captured(
    site: Site, tmp_path: Path, preserve: Preserve
) -> None:
    """A first capture without --allow-private left every cited source `failed` (refused);
    the same capture with it said `2 of 2 captured`, yet status kept `failed` until a check
    ran. A newer good capture is the state: a stale failure never outlives it."""
    archive = tmp_path / "archive"
    site.pages["/story"] = Page(
        story(("/one", "the first source"), ("/two", "the second source"), title="Story")
    )
    site.pages["/one"] = Page("<html><body><p>One.</p></body></html>")
    site.pages["/two"] = Page("<html><body><p>Two.</p></body></html>")

    refused = preserve.run(archive, "capture", "--json", "--timeout", "2", site.url("/story"))
    states = {t["url"]: t["state"] for t in status_of(archive)}
    assert states[site.url("/one")] == states[site.url("/two")] == "failed"
    assert json.loads(refused.stdout)["articles"][0]["citations"][0]["status"] == "failed"

    capture(archive, site.url("/story"))

    now = {t["url"]: (t["state"], t["reason"]) for t in status_of(archive)}
    assert now[site.url("/one")] == now[site.url("/two")] == ("new", None)
    assert now[site.url("/story")][0] == "unchanged"  # captured again: compared, same text
    report = preserve.run(archive, "report", "--json")
    sources = json.loads(report.stdout)["articles"][0]["citations"]
    assert [s["standing"]["state"] for s in sources] == ["new", "new"]
