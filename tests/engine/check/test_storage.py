"""check, end to end: what unchanged recaptures cost in the WARC files (revisits), and
revisits of a payload seen before."""

from __future__ import annotations

import hashlib
import random
import subprocess

import pytest

from preserve.warc.reader import read_record
from preserve.warc.scan import strict_check
from tests.support.checking import BIN, HOUR, Lab, long_paragraphs, sentences, short_article
from tests.support.sites import Page, Site, article_html


def test_unchanged_recaptures_are_small_revisit_records_that_resolve(
    lab: Lab, site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    links = "".join(f' See <a href="/sources/{i}">source number {i}</a>.' for i in range(1, 5))
    paragraphs = long_paragraphs()
    paragraphs[1] += links
    site.pages["/2016/10/story"] = Page(article_html("Wiretap inquiry", paragraphs))
    for i in range(1, 5):
        rng = random.Random(i)
        site.pages[f"/sources/{i}"] = Page(
            article_html(f"Source {i}", [sentences(rng, 30) for _ in range(4)])
        )
    url = site.url("/2016/10/story")
    (captured,) = lab.capture(url)
    assert len(captured.citations) == 4 and all(c.ok for c in captured.citations)
    warcs_before = {p.name: p.stat().st_size for p in lab.archive.warcs.iterdir()}

    lab.clock.advance(HOUR)
    results = lab.check()
    assert len(results) == 5
    assert {r.outcome.outcome for r in results.values()} == {"unchanged"}
    rows = lab.rows("SELECT * FROM captures WHERE run_id = ? AND role != 'probe'", [lab.last_run])
    assert len(rows) == 5
    assert {row["record_type"] for row in rows} == {"revisit"}

    for row in rows:
        record = read_record(lab.archive.warc_path(row["warc"]), row["offset"], row["length"])
        assert record.rec_type == "revisit"
        refers_to = record.header("WARC-Refers-To")
        assert refers_to is not None
        originals = lab.rows(
            "SELECT * FROM captures WHERE record_id = ? AND record_type = 'response'",
            [refers_to],
        )
        assert len(originals) == 1, refers_to
        original = originals[0]
        assert original["url"] == row["url"] == record.header("WARC-Refers-To-Target-URI")
        assert original["payload_sha256"] == row["payload_sha256"]
        body = read_record(
            lab.archive.warc_path(original["warc"]), original["offset"], original["length"]
        ).payload
        assert hashlib.sha256(body).hexdigest() == row["payload_sha256"]
        assert record.payload_digest == f"sha256:{row['payload_sha256']}"

    files = sorted(lab.archive.warcs.glob("*.warc.gz"))
    assert len(files) >= 2
    for path in files:
        checked = subprocess.run(
            [str(BIN / "warcio"), "check", "-v", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert strict_check(path) == [], path

    # What an unchanged recapture costs: the revisit (WARC and HTTP headers, no payload)
    # and its request record, gzipped; against the full response records of the capture.
    ids = [row["id"] for row in rows]
    marks = ",".join("?" * len(ids))
    records = lab.rows(f"SELECT type, length FROM records WHERE capture_id IN ({marks})", ids)
    revisit = sum(r["length"] for r in records if r["type"] == "revisit") / len(rows)
    request = sum(r["length"] for r in records if r["type"] == "request") / len(rows)
    originals = lab.rows(
        f"SELECT length FROM captures WHERE url IN ({marks}) AND record_type = 'response'",
        [row["url"] for row in rows],
    )
    original = sum(r["length"] for r in originals) / len(originals)
    new_files = [p for p in files if p.name not in warcs_before]
    file_bytes = sum(p.stat().st_size for p in new_files) / len(rows)
    with capsys.disabled():
        print(
            f"\n[revisit cost per unchanged URL] revisit {revisit:.0f} B + request "
            f"{request:.0f} B; {file_bytes:.0f} B of new WARC file with its warcinfo "
            f"(a full response record here: {original:.0f} B)"
        )
    # One revisit and one request per URL, and the article's metadata record.
    types = [r["type"] for r in records]
    assert (types.count("revisit"), types.count("request"), len(types)) == (5, 5, 11)
    assert revisit + request < 2048
    assert file_bytes < 2048 + 512


def test_a_payload_seen_before_is_a_revisit_of_its_first_capture(lab: Lab, site: Site) -> None:
    first, second = short_article("Headline A", seed="s"), short_article("Headline B", seed="s")
    site.pages["/doc"] = Page(first)
    url = site.url("/doc")
    (captured,) = lab.capture(url)
    original = lab.store.capture(captured.article.capture_id)
    assert original is not None
    outcomes = []
    for html in (second, first, second):
        site.pages["/doc"] = Page(html)
        lab.clock.advance(HOUR)
        result = lab.check_one(url)
        outcomes.append(
            (result.outcome.outcome, result.outcome.reason, result.captured.record_type)
        )
    assert outcomes == [
        ("edited", "title-only", "response"),
        ("edited", "title-only", "revisit"),
        ("edited", "title-only", "revisit"),
    ]
    row = lab.store.capture(result.captured.capture_id)
    assert row is not None and row.warc and row.offset is not None and row.length is not None
    record = read_record(lab.archive.warc_path(row.warc), row.offset, row.length)
    b_rows = lab.rows(
        "SELECT record_id FROM captures WHERE url = ? AND record_type = 'response'"
        " AND payload_sha256 = ?",
        [url, row.payload_sha256],
    )
    assert [r["record_id"] for r in b_rows] == [record.header("WARC-Refers-To")]
    assert row.payload_sha256 != original.payload_sha256
