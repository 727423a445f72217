"""The whole path on servers: capture → check → classify → verify → export, and every reading
command, on PostgreSQL with the WARC files in an S3 store; the JSON documents the same as
those of the same story on an SQLite archive, but for what names files, places and times."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from preserve.engine.archive import Archive
from tests.support.checked_archive import NEW, OLD, story
from tests.support.cli import Preserve
from tests.support.servers import S3Env
from tests.support.sites import Page, Site, article_html

pytestmark = pytest.mark.servers

_TIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z")
_WARC = re.compile(r"preserve-\d+-\d+-[\w.-]+\.warc\.gz")
# A capture's id inside a sentence (find-text's "gone since …, capture 4"), blanked as the
# ids themselves are.
_CAPTURE_ID = re.compile(r"\bcapture \d+")
# What differs between two runs of the same story anywhere: where records landed in their
# files (their dates and ids are new each time, so their gzip members too), the hashes over
# them, and which of two pages fetched at once was stored first (their ids: `…_id`); and
# where the archive is, and its files (a WARC store holds a file per commit).
_PLACES = {"offset", "length", "record_id", "record_sha256", "metadata_record_id", "head",
           "entry_hash", "prev_hash", "chain_head", "bytes_read", "bytes", "size",
           "capture_id", "since_capture_id", "archive", "warc_files", "files_checked",
           "records_checked", "entries"}  # fmt: skip


def _blanked(key: str) -> bool:
    return key in _PLACES or key == "id" or key.endswith("_id") and key != "export_id"


def same_shape(value: Any) -> Any:
    """A document with its times, file names and record places blanked, and its lists of
    URLs in the order of their URLs."""
    if isinstance(value, dict):
        return {k: ("…" if _blanked(k) else same_shape(v)) for k, v in value.items()}
    if isinstance(value, list):
        items = [same_shape(v) for v in value]
        # Pages tracked by one capture are listed in the order they were stored: a race.
        if all(isinstance(v, dict) and "url" in v for v in items):
            items.sort(key=lambda v: (v["url"], repr(v)))
        return items
    if isinstance(value, str):
        return _CAPTURE_ID.sub("capture N", _WARC.sub("W", _TIME.sub("T", value)))
    return value


def story_on(preserve: Preserve, archive: Path, site: Site) -> dict[str, Any]:
    """The story captured, edited and checked, and every reading command's document."""
    site.pages["/2016/10/story"] = Page(story(OLD))
    site.pages["/src/report"] = Page(article_html("Report", ["The report runs to forty pages."]))
    site.pages["/src/annex.txt"] = Page("Annex A. Dates.\n", content_type="text/plain")
    url = site.url("/2016/10/story")
    out: dict[str, Any] = {}
    # One fetch at a time: the ids then follow the same order on both.
    out["capture"] = preserve.json(
        archive, "capture", url, "--allow-private", "--quiet", "--workers", "1"
    )
    site.pages["/2016/10/story"] = Page(story(NEW))
    out["check"] = preserve.json(archive, "check", "--quiet", "--workers", "1")
    out["status"] = preserve.json(archive, "status")
    out["history"] = preserve.json(archive, "history", url)
    out["diff"] = preserve.json(archive, "diff", url)
    out["find-text"] = preserve.json(archive, "find-text", "wiretap order was signed")
    out["report"] = preserve.json(archive, "report")
    out["verify"] = preserve.json(archive, "verify")
    shown = preserve.run(archive, "show", url, "--at", out["history"]["captures"][0]["captured_at"])
    assert shown.exit_code == 0, shown.stderr
    out["show"] = shown.stdout
    raw = preserve.run(archive, "show", site.url("/src/annex.txt"), "--raw")
    assert raw.exit_code == 0, raw.stderr
    out["raw"] = raw.stdout
    return out


@pytest.fixture
def on_servers(
    monkeypatch: pytest.MonkeyPatch, postgres_dsn: str, s3_env: S3Env, tmp_path: Path
) -> Path:
    """An archive folder whose database and WARC files are on the servers."""
    monkeypatch.setenv("PRESERVE_DATABASE", postgres_dsn)
    monkeypatch.setenv("PRESERVE_WARC_STORE", s3_env.url)
    return tmp_path / "on-servers"


def test_the_whole_path_on_servers_gives_what_sqlite_gives(
    preserve: Preserve,
    site: Site,
    tmp_path: Path,
    on_servers: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = story_on(preserve, on_servers, site)
    assert served["check"]["results"][0]["outcome"] == "edited"
    assert served["verify"]["ok"], served["verify"]["problems"]
    assert served["find-text"]["urls"][0]["state"] == "gone"
    assert served["raw"] == "Annex A. Dates.\n"
    # Nothing is left in the spool: every file is in the store, and recorded.
    archive = Archive(on_servers, create=False)
    try:
        stored = [f.name for f in archive.store.warc_files()]
        assert stored and not list(archive.spool.iterdir())
        assert all((archive.warcs / name).stat().st_size > 0 for name in stored)
        assert archive.store.dialect == "postgresql"
    finally:
        archive.close()
    wacz = tmp_path / "evidence.wacz"
    exported = preserve.json(on_servers, "export", site.url("/2016/10/story"), "--wacz", str(wacz))
    assert exported["logged"]["export_id"] == 1
    checked = preserve.run(None, "verify-package", str(wacz))
    assert checked.exit_code == 0, checked.stdout

    monkeypatch.delenv("PRESERVE_DATABASE")
    monkeypatch.delenv("PRESERVE_WARC_STORE")
    for path in site.pages:
        site.hits[path] = 0
    local = story_on(preserve, tmp_path / "local", site)
    for command in local:
        assert same_shape(served[command]) == same_shape(local[command]), command
