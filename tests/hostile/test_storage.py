"""Storage faults: a full disk, a read-only archive (and copies of one), a machine where
workers cannot start, and a lost WARC file."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.helpers import captured_article, cite, rows
from tests.support.processes import assert_verify_clean, one_line_error, spawn
from tests.support.sites import Page, Site, article_html

# Long end-to-end runs: real processes on full disks and read-only archives (make test-fast
# skips).
pytestmark = pytest.mark.slow

# --- storage faults --------------------------------------------------------------------------


def file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so a write fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize(
    "body_size, message",
    [
        (700_000, "Error: storage failed: File too large;"),  # the WARC file outgrows the limit
        (3_000_000, "Error: cannot keep a response body in a temporary file: File too large"),
    ],
    ids=["warc-write", "body-spool"],
)
def test_a_full_disk_stops_the_run_cleanly(
    tmp_path: Path, site: Site, body_size: int, message: str
) -> None:
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(cite("/first"))
    site.pages["/first"] = Page(article_html("First", ["A small first source."]))
    assert spawn(archive, "capture", site.url("/a"), "--allow-private", "-q").code == 0
    site.pages["/b"] = Page(cite(*(f"/big/{n}" for n in range(4)), title="Big"))
    for n in range(4):
        site.pages[f"/big/{n}"] = Page(
            os.urandom(body_size), content_type="application/octet-stream"
        )
    ran = spawn(
        archive,
        "capture",
        site.url("/b"),
        "--allow-private",
        "--workers",
        "1",
        preexec_fn=file_size_limit(2_000_000),
    )
    assert ran.code == 2
    assert one_line_error(ran).startswith(message)
    assert_verify_clean(archive)  # no row points at bytes that did not make it
    again = spawn(archive, "capture", site.url("/b"), "--allow-private", "--json")
    assert again.code == 0 and all(c["status"] == "captured" for c in again.json()["citations"])
    assert_verify_clean(archive)


def read_only(archive: Path) -> dict[str, Any]:
    """How to run preserve with `archive` read-only: a read-only bind mount in a mount
    namespace of its own when root (root writes through file modes), else file modes."""
    if os.geteuid() != 0:
        for path in (archive, archive / "warcs"):
            path.chmod(0o555)
        return {}
    return {"prefix": in_mount_namespace(f'mount --bind -o ro "{archive}" "{archive}"')}


def in_mount_namespace(script: str) -> tuple[str, ...]:
    """A command prefix that runs `script` (a shell line), then the command, in a mount
    namespace of its own; skips the test where there is none to make (not root)."""
    unshare = shutil.which("unshare")
    if (
        os.geteuid() != 0
        or unshare is None
        or subprocess.run([unshare, "--mount", "true"], capture_output=True).returncode != 0
    ):
        pytest.skip("no mount namespace to change the machine in (needs root and unshare)")
    return (
        unshare,
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'{script} && exec "$@"',
        "sh",
    )


def without_shared_memory() -> tuple[str, ...]:
    """As in containers and function sandboxes with no writable /dev/shm: multiprocessing
    cannot make its locks there, so no worker process can be started."""
    return in_mount_namespace("mount -t tmpfs -o ro tmpfs /dev/shm")


def test_a_machine_where_workers_cannot_start_still_extracts_every_page(
    tmp_path: Path, site: Site
) -> None:
    """Extraction workers that cannot be started (here: no writable /dev/shm) cost speed,
    not pages: each is extracted in the main process. It used to end the run with "storage
    failed: Read-only file system"."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(cite("/b", "/c"))
    for name in ("/b", "/c"):
        site.pages[name] = Page(article_html(name, ["The harbour closed on Monday night."]))
    prefix = without_shared_memory()
    ran = spawn(archive, "capture", site.url("/a"), "--allow-private", "--json", prefix=prefix)
    assert ran.code == 0, ran.stderr
    assert all(c["status"] == "captured" for c in ran.json()["citations"])
    texts = rows(archive, "SELECT url, text_sha256 FROM captures WHERE role != 'requisite'")
    assert len(texts) == 3 and all(row["text_sha256"] for row in texts), texts
    checked = spawn(archive, "check", "--allow-private", "--json", prefix=prefix)
    assert checked.code == 0, checked.stderr
    assert {r["outcome"] for r in checked.json()["results"]} == {"unchanged"}


def test_verify_workers_that_cannot_start_leave_the_work_to_verify() -> None:
    script = (
        "from preserve.evidence.pool import Pool\n"
        "with Pool(2) as pool:\n"
        "    print(list(pool.map(abs, [-1, -2, -3], ahead=2)))\n"
    )
    ran = subprocess.run(
        [*without_shared_memory(), sys.executable, "-c", script], capture_output=True, text=True
    )
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "[1, 2, 3]\n", "")


@contextmanager
def made_read_only(archive: Path) -> Iterator[dict[str, Any]]:
    """`read_only(archive)` for the length of a block (file modes given back after it)."""
    how = read_only(archive)
    try:
        yield how
    finally:
        if not how:
            for path in (archive, archive / "warcs"):
                path.chmod(0o755)


def copied_while_written(archive: Path, copy: Path, *args: str) -> Path:
    """A copy of `archive` taken while another process has it open, just after `preserve
    ARGS` wrote to it: the copy's -wal file still holds those transactions."""
    holder = sqlite3.connect(archive / "preserve.db")  # keeps the -wal from being folded in
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        holder.execute("SELECT count(*) FROM captures").fetchall()
        assert spawn(archive, *args).code == 0
        shutil.copytree(archive, copy)
    finally:
        holder.close()
    assert (copy / "preserve.db-wal").stat().st_size > 0
    return copy


def test_a_read_only_archive_is_refused_clearly(tmp_path: Path, site: Site) -> None:
    archive = captured_article(tmp_path, site)
    before = {p.name: p.stat().st_mtime_ns for p in archive.rglob("*")}
    with made_read_only(archive) as how:
        for args in (("capture", site.url("/a"), "--allow-private"), ("check", "--allow-private")):
            ran = spawn(archive, *args, **how)
            assert ran.code == 2
            assert "not writable" in one_line_error(ran)
    assert {p.name: p.stat().st_mtime_ns for p in archive.rglob("*")} == before
    assert_verify_clean(archive)


def test_a_read_only_archive_can_still_be_verified_searched_and_reported(
    tmp_path: Path, site: Site
) -> None:
    """Evidence kept on read-only media: every command that only reads works there, and
    nothing in the folder changes."""
    archive = captured_article(
        tmp_path, site, {"/b": Page(article_html("B", ["The harbour closed on Monday night."]))}
    )
    before = {p.name: p.stat().st_mtime_ns for p in archive.rglob("*")}
    assert not (archive / "preserve.db-wal").exists()  # all of it in the file: immutable
    with made_read_only(archive) as how:
        verified = spawn(archive, "verify", "--json", **how)
        assert verified.code == 0 and verified.json()["ok"], verified.stdout + verified.stderr
        status = spawn(archive, "status", "--json", **how)
        assert status.code == 0
        assert {t["url"] for t in status.json()["targets"]} == {site.url("/a"), site.url("/b")}
        for args in (
            ("history", site.url("/b")),
            ("show", site.url("/b")),
            ("find-text", "harbour closed on Monday"),
            ("report", site.url("/a"), "--json"),
            ("export", site.url("/a"), "--wacz", str(tmp_path / "evidence.wacz")),
        ):
            ran = spawn(archive, *args, **how)
            assert ran.code == 0, (args, ran.stderr)
        assert (tmp_path / "evidence.wacz").stat().st_size > 0
        assert "not logged in the archive: it is read-only here" in ran.stdout
        ran = spawn(archive, "check", "--allow-private", **how)
        assert ran.code == 2 and "not writable" in one_line_error(ran)
    assert {p.name: p.stat().st_mtime_ns for p in archive.rglob("*")} == before


def test_a_read_only_copy_taken_while_a_run_wrote_is_read_through_its_wal(
    tmp_path: Path, site: Site
) -> None:
    """A copy of an archive taken while another process had it open holds a -wal file with
    the latest transactions: they are read, not ignored (opened as immutable, SQLite would
    leave them out, and the second capture's WARC file would be unknown)."""
    archive = captured_article(
        tmp_path, site, {"/c": Page(article_html("C", ["A second article, captured later on."]))}
    )
    copy = copied_while_written(
        archive, tmp_path / "copy", "capture", site.url("/c"), "--allow-private", "-q"
    )
    with made_read_only(copy) as how:
        verified = spawn(copy, "verify", "--json", **how)
        assert verified.code == 0 and verified.json()["ok"], verified.stdout + verified.stderr
        status = spawn(copy, "status", "--json", **how)
        assert site.url("/c") in {t["url"] for t in status.json()["targets"]}


def test_a_read_only_copy_whose_wal_lacks_its_shm_is_refused_clearly(
    tmp_path: Path, site: Site
) -> None:
    archive = captured_article(tmp_path, site)
    copy = copied_while_written(
        archive, tmp_path / "copy", "track", site.url("/a"), "--every", "2d"
    )
    (copy / "preserve.db-shm").unlink()
    with made_read_only(copy) as how:
        ran = spawn(copy, "verify", **how)
        assert ran.code == 2
        assert "-wal" in one_line_error(ran) and "preserve.db-shm" in ran.stderr


def test_a_read_only_archive_of_an_older_version_is_refused_clearly(
    tmp_path: Path, site: Site
) -> None:
    archive = captured_article(tmp_path, site)
    with closing(sqlite3.connect(archive / "preserve.db")) as conn, conn:
        # As a preserve from before m007 left it (any migration undone would do):
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_captures_by_parent'")
        conn.execute("DROP INDEX idx_captures_parent_id")
    with made_read_only(archive) as how:
        ran = spawn(archive, "status", **how)
        assert ran.code == 2
        assert "earlier version of preserve" in one_line_error(ran)
    assert spawn(archive, "status").code == 0  # writable again: brought up to date


def test_a_missing_warc_is_explained_and_not_relied_on(tmp_path: Path, site: Site) -> None:
    archive = captured_article(
        tmp_path, site, {"/b": Page(article_html("B", ["The source text stays the same."]))}
    )
    (lost,) = (archive / "warcs").iterdir()
    lost.unlink()

    ran = spawn(archive, "verify", "--json")
    assert ran.code == 1
    kinds = {p["kind"] for p in ran.json()["problems"]}
    assert {"file-missing", "record-missing"} <= kinds
    assert all(lost.name in p["detail"] for p in ran.json()["problems"])

    shown = spawn(archive, "show", site.url("/b"), "--raw")
    assert shown.code != 0 and lost.name in one_line_error(shown)

    # The payloads are unchanged, but their originals are gone: stored in full again, not
    # as revisits pointing at the lost file.
    again = spawn(archive, "capture", site.url("/a"), "--allow-private", "--json")
    assert again.code == 0
    assert again.json()["article"]["record_type"] == "response"
    assert {c["record_type"] for c in again.json()["citations"]} == {"response"}
