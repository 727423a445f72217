"""find-text, end to end: a quotation searched for across the captures of an archive."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from preserve.engine.archive import Archive, Run
from preserve.engine.check import check_targets, select_targets
from tests.support.checked_archive import CONFIG, FILLER, build, sql
from tests.support.cli import Preserve
from tests.support.clock import Clock
from tests.support.sites import Page, Site


def test_find_text_across_an_edited_article(
    archive: Path, checked_site: Site, preserve: Preserve
) -> None:
    url = checked_site.url("/2016/10/story")
    captures = sql(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id", (url,))
    old, new = captures
    assert old["text_sha256"] != new["text_sha256"]

    # Typed with curly quotes and a line break: normalised as the stored texts are.
    found = json.loads(
        preserve.run(
            archive, "find-text", "the wiretap order\nwas signed in March", "--json"
        ).stdout
    )
    assert {"query", "matches"} <= set(found)
    (match,) = found["matches"]
    assert {"url", "captured_at", "sha256", "warc", "offset"} <= set(match)
    assert (
        match["url"],
        match["captured_at"],
        match["sha256"],
        match["warc"],
        match["offset"],
    ) == (url, old["started_at"], old["payload_sha256"], old["warc"], old["offset"])
    (presence,) = found["urls"]
    assert presence["state"] == "gone" and presence["since"] == new["started_at"]
    assert presence["how"] == "edited"

    text = preserve.run(archive, "find-text", "confirmed that the wiretap order")
    assert text.exit_code == 0
    assert f"gone since {new['started_at']}" in text.stdout
    assert old["payload_sha256"] in text.stdout and str(old["offset"]) in text.stdout

    found = json.loads(
        preserve.run(archive, "find-text", "denied that any wiretap order", "--json").stdout
    )
    assert [m["captured_at"] for m in found["matches"]] == [new["started_at"]]
    assert found["urls"][0]["state"] == "present"
    assert (
        "still there in the latest capture"
        in preserve.run(archive, "find-text", "denied that any wiretap order").stdout
    )

    # Text in both captures: both, oldest first, still there.
    found = json.loads(preserve.run(archive, "find-text", FILLER[0], "--json").stdout)
    assert [m["captured_at"] for m in found["matches"]] == [c["started_at"] for c in captures]
    assert found["urls"][0]["state"] == "present"
    # Exact phrase: the words in another order are not a match; case only with -i.
    assert (
        json.loads(preserve.run(archive, "find-text", "order wiretap the", "--json").stdout)[
            "matches"
        ]
        == []
    )
    assert (
        json.loads(
            preserve.run(archive, "find-text", "THE DEPUTY MINISTER DENIED", "--json").stdout
        )["matches"]
        == []
    )
    assert (
        len(
            json.loads(
                preserve.run(
                    archive, "find-text", "THE DEPUTY MINISTER DENIED", "-i", "--json"
                ).stdout
            )["matches"]
        )
        == 1
    )
    assert (
        json.loads(
            preserve.run(
                archive, "find-text", FILLER[0], "--url", checked_site.url("/src/report"), "--json"
            ).stdout
        )["matches"]
        == []
    )


def test_find_text_typography_and_bad_input(archive: Path, preserve: Preserve) -> None:
    # Stored with a curly apostrophe, normalised to a straight one; typed either way.
    for typed in ("the minister's office", "the minister’s  office"):
        found = json.loads(preserve.run(archive, "find-text", typed, "--json").stdout)
        assert len(found["matches"]) == 2, typed
    assert preserve.run(archive, "find-text", "...").exit_code == 2
    assert preserve.run(archive, "find-text", "___").exit_code == 2
    assert preserve.run(archive, "find-text", "").exit_code == 2
    result = preserve.run(archive, "find-text", "no such words anywhere in this archive")
    assert result.exit_code == 1 and result.stdout.startswith("Not found")  # as grep says it
    found = preserve.run(archive, "find-text", "no such words anywhere", "--json")
    assert found.exit_code == 1 and json.loads(found.stdout)["matches"] == []


def test_find_text_says_when_a_page_was_taken_down(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    path = build(tmp_path / "archive", site, edit=False)
    site.pages["/src/report"] = Page("Gone", status=410)
    clock = Clock()
    clock.now += timedelta(days=2)
    handle = Archive(path, create=False)
    try:
        run = Run(handle, "check", CONFIG, clock, {})
        check_targets(
            run, select_targets(handle.store, [site.url("/src/report")], due=False, now=clock.now)
        )
        run.finish()
    finally:
        handle.close()
    found = json.loads(preserve.run(path, "find-text", "runs to forty pages", "--json").stdout)
    assert found["urls"][0]["state"] == "gone" and found["urls"][0]["how"] == "http-410"
