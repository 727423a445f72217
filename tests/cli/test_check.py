"""`preserve check`, `track`, `untrack` and `list` on the command line: --json, exit codes,
two checks at once on one archive, and settings the archive remembers."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from preserve.engine.archive import Archive
from preserve.warc.scan import strict_check
from tests.support.capturing import FAST
from tests.support.checking import (
    BIN,
    NEGATED,
    cli_capture,
    long_paragraphs,
    sentences,
    short_article,
)
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, article_html, redirect


def runs_count(archive: Path) -> int:
    opened = Archive(archive, create=False)
    try:
        return int(next(opened.store.db.query("SELECT count(*) AS n FROM runs"))["n"])
    finally:
        opened.close()


def test_cli_check_json_and_exit_codes(tmp_path: Path, cli_site: Site, preserve: Preserve) -> None:
    archive = tmp_path / "archive"
    url = cli_capture(archive, cli_site)
    source = cli_site.url("/src/one")

    data = preserve.json(archive, "check", "--allow-private", "--timeout", "2", "--exit-code")
    assert isinstance(data["run"], int)
    assert {(r["url"], r["role"], r["outcome"]) for r in data["results"]} == {
        (url, "article", "unchanged"),
        (source, "citation", "unchanged"),
    }
    for result in data["results"]:
        assert {"reason", "confirmed", "http_status"} <= set(result)

    cli_site.pages["/2016/10/story"] = Page(
        article_html(
            "Wiretap inquiry",
            [
                *long_paragraphs(NEGATED, count=4)[:3],
                'See <a href="/src/one">the first report</a>.',
            ],
        )
    )
    plain = preserve.run(archive, "check", "--allow-private", "--timeout", "2")
    assert plain.exit_code == 0, plain.output  # a check that ran exits 0 whatever it found
    assert "edited" in plain.stdout

    del cli_site.pages["/src/one"]
    data = preserve.json(
        archive, "check", "--allow-private", "--timeout", "2", "--exit-code", code=1
    )
    outcomes = {r["url"]: (r["outcome"], r["reason"], r["confirmed"]) for r in data["results"]}
    assert outcomes == {url: ("unchanged", None, True), source: ("gone", "http-404", False)}

    # Only the article, which did not change: exit 0 even with --exit-code.
    only = preserve.json(archive, "check", url, "--allow-private", "--timeout", "2", "--exit-code")
    assert [r["url"] for r in only["results"]] == [url]

    untracked = cli_site.url("/never/captured")
    runs_before = runs_count(archive)
    bad = preserve.run(archive, "check", untracked, "--allow-private")
    assert bad.exit_code == 2
    assert f"not tracked: {untracked}" in bad.stderr
    assert bad.stdout == ""
    assert runs_count(archive) == runs_before  # nothing written

    missing = preserve.run(tmp_path / "nowhere", "check")
    assert missing.exit_code == 2 and "no archive" in missing.stderr
    assert not (tmp_path / "nowhere").exists()

    status = preserve.json(archive, "status")
    states = {t["url"]: (t["state"], t["reason"]) for t in status["targets"]}
    assert states == {url: ("unchanged", None), source: ("gone", "http-404")}


def test_cli_check_due_on_a_fresh_archive(
    tmp_path: Path, cli_site: Site, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    url = cli_capture(archive, cli_site)
    # just captured: nothing is due for a day
    first = preserve.json(archive, "check", "--due", "--allow-private", "--timeout", "2")
    assert first["results"] == []
    everything = preserve.json(archive, "check", "--allow-private", "--timeout", "2")
    assert {r["url"] for r in everything["results"]} == {url, cli_site.url("/src/one")}
    track = preserve.run(archive, "track", url, "--every", "1w")
    assert track.exit_code == 0 and "2 tracked URL(s)" in track.stdout
    status = preserve.json(archive, "status")
    assert {t["every"] for t in status["targets"]} == {"1w"}
    untracked = preserve.run(archive, "track", cli_site.url("/nope"), "--every", "1d")
    assert untracked.exit_code == 2 and "not tracked" in untracked.stderr


def two_checks_at_once(archive: Path) -> list[str]:
    """Run two `preserve check` processes on one archive at once; their stdouts."""
    command = [str(BIN / "preserve"), "--archive", str(archive), "check", "--allow-private"]
    command += ["--timeout", "5", "--json"]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err.lower() and "Traceback" not in err, err
        outputs.append(out)
    return outputs


@pytest.mark.slow
def test_two_checks_at_once_on_one_archive(tmp_path: Path, site: Site, preserve: Preserve) -> None:
    paths = [f"/src/{i}" for i in range(6)]
    links = " ".join(f'See <a href="{p}">source {p}</a>.' for p in paths)
    site.pages["/story"] = Page(article_html("Wiretap inquiry", [*long_paragraphs(count=4), links]))
    for i, path in enumerate(paths):
        site.pages[path] = Page(short_article(f"Source {i}"), delay=0.05)
    archive = tmp_path / "archive"
    data = preserve.json(
        archive, "capture", site.url("/story"), "--allow-private", "--timeout", "2"
    )
    for i, path in enumerate(paths):
        # Slow enough that the two runs surely overlap (each starts in under a second).
        site.pages[path] = Page(short_article(f"Source {i}"), delay=1.0)
    assert len(data["citations"]) == len(paths)
    targets = len(paths) + 1

    outputs = [json.loads(out) for out in two_checks_at_once(archive)]
    runs = [o["run"] for o in outputs]
    assert len(set(runs)) == 2
    # Each URL is checked once, by one run or the other: a run skips what the other holds.
    checked = [r["url"] for output in outputs for r in output["results"]]
    assert sorted(checked) == sorted(set(checked)) and len(checked) == targets
    for output in outputs:
        assert {r["outcome"] for r in output["results"]} <= {"unchanged", "cosmetic"}

    check_archive = Archive(archive, create=False)
    try:
        db = check_archive.store.db
        count = next(db.query("SELECT count(*) AS n FROM checks"))["n"]
        assert count == targets
        files = {
            run: {
                r["name"] for r in db.query("SELECT name FROM warc_files WHERE run_id = ?", [run])
            }
            for run in runs
        }
        assert not files[runs[0]] & files[runs[1]]
        for run in runs:
            used = {
                r["warc"]
                for r in db.query("SELECT DISTINCT warc FROM captures WHERE run_id = ?", [run])
            }
            assert used <= files[run]
        for name in set().union(*files.values()):
            assert strict_check(check_archive.warc_path(name)) == []
    finally:
        check_archive.close()


@pytest.mark.slow
def test_two_checks_at_once_that_both_track_new_urls(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    """Between them, the runs see the article's new citation and the source's move, and
    track both, each URL checked by one of them."""
    rng = random.Random(17)
    text = [sentences(rng, 3) for _ in range(3)]

    def article(links: list[str]) -> Page:
        cited = " ".join(f'See <a href="{p}">source {p}</a>.' for p in links)
        return Page(article_html("Wiretap inquiry", [*text, cited]))

    site.pages["/story"] = article(["/src/a", "/src/b"])
    site.pages["/src/a"] = Page(short_article("Source a"), delay=0.05)
    site.pages["/src/b"] = Page(short_article("Source b"), delay=0.05)
    archive = tmp_path / "archive"
    preserve.json(archive, "capture", site.url("/story"), "--allow-private", "--timeout", "2")
    site.pages["/story"] = article(["/src/a", "/src/b", "/src/c"])
    site.pages["/src/a"] = Page(short_article("Source a"), delay=1.5)  # the runs overlap
    site.pages["/src/c"] = Page(short_article("Source c"), delay=0.2)
    site.pages["/src/b"] = redirect(site.url("/src/b-moved"), 301)
    site.pages["/src/b-moved"] = Page(short_article("Source b"), delay=0.05)

    outputs = [json.loads(out) for out in two_checks_at_once(archive)]
    outcomes = {r["url"]: r["outcome"] for output in outputs for r in output["results"]}
    assert outcomes[site.url("/story")] == "edited"
    assert outcomes[site.url("/src/b")] == "moved"
    checked = [r["url"] for output in outputs for r in output["results"]]
    assert len(checked) == len(set(checked))  # one run or the other, never both
    status = preserve.json(archive, "status")
    urls = [t["url"] for t in status["targets"]]
    assert sorted(urls) == sorted(
        site.url(p) for p in ("/story", "/src/a", "/src/b", "/src/c", "/src/b-moved")
    )


def test_pause_resume_untrack_and_list(tmp_path: Path, site: Site, preserve: Preserve) -> None:
    """What users asked for first: stop checking a URL for a while, or for good, keeping its
    history; and a list of what is tracked and when it is next checked."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(article_html("A", ['See <a href="/src">the source</a>.']))
    site.pages["/src"] = Page(article_html("Source", ["The source's words."]))
    site.pages["/b"] = Page(article_html("B", ["Another article."]))
    for path in ("/a", "/b"):
        assert (
            preserve.run(archive, "capture", "--allow-private", "-q", site.url(path)).exit_code == 0
        )
    a, source, b = site.url("/a"), site.url("/src"), site.url("/b")

    paused = preserve.run(archive, "track", a, "--pause")
    listed = {e["url"]: e for e in preserve.json(archive, "list")["targets"]}
    checked = {r["url"] for r in preserve.json(archive, "check", "--allow-private")["results"]}

    assert paused.exit_code == 0 and "2 tracked URL(s) paused" in paused.stdout
    assert listed[a]["paused"] and listed[source]["paused"] and not listed[b]["paused"]
    assert listed[a]["next_check"] is None and listed[b]["next_check"]
    assert (listed[a]["role"], listed[a]["every"]) == ("article", "1d")
    assert checked == {b}  # the paused article and its source were left out
    text = preserve.run(archive, "list").stdout
    assert any(line.split()[2] == "paused" for line in text.splitlines() if a in line)

    assert preserve.run(archive, "track", a, "--resume").exit_code == 0
    resumed = {r["url"] for r in preserve.json(archive, "check", "--allow-private")["results"]}
    assert resumed == {a, source, b}

    untracked = preserve.run(archive, "untrack", a)
    assert untracked.exit_code == 0 and "2 URL(s) no longer tracked" in untracked.stdout
    assert [e["url"] for e in preserve.json(archive, "list")["targets"]] == [b]
    history = preserve.json(archive, "history", a)["captures"]
    assert len(history) == 2  # its capture and its check: the history stays
    assert preserve.run(archive, "check", a).exit_code == 2  # not tracked any more
    assert preserve.run(archive, "track", a, "--every", "6h").exit_code == 2
    assert preserve.run(archive, "track", b).exit_code == 2  # nothing to change


def test_allow_private_is_remembered_for_the_checks_of_the_archive(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    """A check without --allow-private turned every loopback source `unreachable` after a
    capture that used it: the choice is kept in the archive's settings, and said so."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(article_html("A", ['See <a href="/src">the source</a>.']))
    site.pages["/src"] = Page(article_html("Source", ["The source's words."]))

    captured = preserve.run(archive, "capture", "--allow-private", "-q", site.url("/a"))
    again = preserve.run(archive, "capture", "--allow-private", "-q", site.url("/a"))
    results = preserve.json(archive, "check")["results"]  # no --allow-private

    assert "Remembered allow_private = true" in captured.stderr
    assert "Remembered" not in again.stderr  # said once
    assert (archive / "preserve.toml").read_text().count("allow_private = true") == 1
    assert {r["url"]: r["outcome"] for r in results} == {
        site.url("/a"): "unchanged",
        site.url("/src"): "unchanged",
    }


def test_untrack_keeps_the_sources_another_article_cites(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    """An article untracked takes the sources it brought in with it, but not one that
    another tracked article cites too, nor any with --keep-sources."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(
        article_html("A", ['See <a href="/shared">this</a> and <a href="/own">that</a>.'])
    )
    site.pages["/b"] = Page(article_html("B", ['See <a href="/shared">the same source</a>.']))
    site.pages["/c"] = Page(article_html("C", ['See <a href="/kept">a source</a>.']))
    for path in ("/shared", "/own", "/kept"):
        site.pages[path] = Page(article_html(path, ["A source's words."]))
    for path in ("/a", "/b", "/c"):
        assert preserve.run(archive, "capture", *FAST, "-q", site.url(path)).exit_code == 0
    a, shared, own = site.url("/a"), site.url("/shared"), site.url("/own")

    untracked = preserve.run(archive, "untrack", a)
    kept = preserve.run(archive, "untrack", site.url("/c"), "--keep-sources")
    listed = {e["url"]: e for e in preserve.json(archive, "list")["targets"]}

    assert untracked.exit_code == 0 and "2 URL(s) no longer tracked" in untracked.stdout
    assert kept.exit_code == 0 and "1 URL(s) no longer tracked" in kept.stdout
    assert set(listed) == {site.url("/b"), shared, site.url("/kept")}
    assert own not in listed  # it was /a's alone
    # The shared source is /b's now: checked, and paused or untracked with it.
    assert (listed[shared]["role"], listed[shared]["cited_by"]) == ("citation", site.url("/b"))
    checked = {r["url"] for r in preserve.json(archive, "check")["results"]}
    assert checked == set(listed)
    assert (
        "2 tracked URL(s) paused"
        in preserve.run(archive, "track", site.url("/b"), "--pause").stdout
    )


def test_pausing_an_article_leaves_checked_the_sources_another_article_cites(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    """A source two articles cite goes on being checked while one of them is paused (it is
    the other's now); once both are paused it is paused too."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(
        article_html("A", ['See <a href="/shared">this</a> and <a href="/own">that</a>.'])
    )
    site.pages["/b"] = Page(article_html("B", ['See <a href="/shared">the same source</a>.']))
    for path in ("/shared", "/own"):
        site.pages[path] = Page(article_html(path, ["A source's words."]))
    for path in ("/a", "/b"):
        assert preserve.run(archive, "capture", *FAST, "-q", site.url(path)).exit_code == 0
    a, b, shared, own = (site.url(p) for p in ("/a", "/b", "/shared", "/own"))

    paused = preserve.run(archive, "track", a, "--pause")
    listed = {e["url"]: e for e in preserve.json(archive, "list")["targets"]}

    assert paused.exit_code == 0 and "2 tracked URL(s) paused" in paused.stdout
    assert [u for u, e in listed.items() if e["paused"]] == [a, own]
    assert listed[shared]["cited_by"] == b
    checked = {r["url"] for r in preserve.json(archive, "check")["results"]}
    assert checked == {b, shared}

    preserve.run(archive, "track", b, "--pause")
    listed = {e["url"]: e for e in preserve.json(archive, "list")["targets"]}
    assert all(e["paused"] for e in listed.values())
