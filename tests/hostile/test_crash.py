"""Crash safety: `preserve` killed with SIGKILL at random moments, runs that died at each
step of writing, and the write order (records synced before the rows that name them)."""

from __future__ import annotations

import gzip
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from preserve.warc.files import OPEN_SUFFIX
from tests.hostile.helpers import cite, many_pages, rows
from tests.support.cli import Preserve
from tests.support.processes import (
    Proc,
    assert_rows_point_at_bytes,
    assert_verify_clean,
    clean_environment,
    spawn,
)
from tests.support.sites import Page, Site, article_html

KILLS = 12


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    ends = time.monotonic() + seconds
    while not condition() and time.monotonic() < ends:
        time.sleep(0.02)


def has_tables(archive: Path) -> bool:
    """Whether a run got as far as creating the archive's tables before it was killed."""
    return (archive / "preserve.db").exists() and bool(
        rows(archive, "SELECT name FROM sqlite_master WHERE name = 'records'")
    )


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[int]]]:
    """An archive whose captures were killed with SIGKILL KILLS times at random moments,
    checked after each kill; then one capture that is left to finish."""
    site = Site()
    archive = tmp_path_factory.mktemp("killed") / "archive"
    rng = random.Random(6)
    checked = []
    try:
        for generation in range(KILLS):
            urls = many_pages(site, generation)
            left = set(archive.glob("warcs/*" + OPEN_SUFFIX))  # by the run killed before
            proc = Proc(archive, "capture", *urls, "--allow-private", "-q", "--workers", "4")
            if generation % 4 == 0:  # early: opening the archive, starting the run
                time.sleep(rng.uniform(0.1, 1.0))
            else:  # while it writes: once its own WARC file is there, at a random moment

                def opened(left: set[Path] = left) -> bool:
                    return bool(set(archive.glob("warcs/*" + OPEN_SUFFIX)) - left)

                wait_for(opened, 30)
                time.sleep(rng.uniform(0, 1.5))
            proc.kill()
            proc.wait()
            if has_tables(archive):
                checked.append(assert_rows_point_at_bytes(archive))
        last = spawn(archive, "capture", *many_pages(site, KILLS), "--allow-private", "-q")
        assert last.code == 0, last.stderr
        yield archive, checked
    finally:
        site.close()


@pytest.mark.slow
def test_killed_runs_leave_no_row_pointing_at_missing_bytes(killed: tuple[Path, list[int]]) -> None:
    archive, checked = killed
    assert len(checked) >= KILLS // 2
    assert sum(1 for n in checked if n) >= KILLS // 3, checked  # kills after captures
    assert assert_rows_point_at_bytes(archive) > max(checked)


@pytest.mark.slow
def test_the_next_run_seals_what_a_killed_run_left(killed: tuple[Path, list[int]]) -> None:
    archive, _ = killed
    assert_verify_clean(archive)
    runs_left = rows(archive, "SELECT id FROM runs WHERE ended_at IS NULL")
    assert runs_left == []
    recoveries = rows(archive, "SELECT * FROM recoveries")
    kinds = {r["kind"] for r in recoveries}
    assert "dead-run" in kinds and "sealed-warc" in kinds, kinds
    named = {r["name"] for r in rows(archive, "SELECT name FROM warc_files")}
    on_disk = {p.name for p in (archive / "warcs").iterdir()}
    assert named == on_disk
    for r in recoveries:
        if r["kind"] == "sealed-warc":
            assert r["warc"] in named and r["records"] >= 1


CRASHER = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from preserve.engine.archive import Archive, Run
from preserve.config import Config
from preserve.net.exchange import Body, Exchange
archive = Archive(Path(sys.argv[1]))
run = Run(archive, "capture", Config(), lambda: datetime.now(UTC), {})
exchange = Exchange(url="http://example.org/", started_at=datetime.now(UTC), method="GET",
                    request_target="/", request_headers=(("Host", "example.org"),),
                    http_version="HTTP/1.1", status=200, reason="OK",
                    headers=(("Content-Type", "text/plain"),), peer_ip="93.184.215.14",
                    body=Body.of(b"a record that is whole"))
run.writer.write_exchange(exchange)
run.writer.sync()
path = run.writer.current_path
if sys.argv[2] == "renamed":  # died between renaming the file and entering it
    os.rename(path, str(path).removesuffix(".open"))
elif sys.argv[2] == "emptied":  # died before even its warcinfo was whole
    os.truncate(path, 10)
else:  # half of the next record, then death
    with open(path, "ab") as file:
        file.write(bytes.fromhex(sys.argv[2]))
        file.flush()
        os.fsync(file.fileno())
os.kill(os.getpid(), signal.SIGKILL)
"""


def crash(archive: Path, how: str) -> None:
    """A run that wrote one exchange to its WARC file and was killed, having done `how`."""
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHER, str(archive), how],
        env=clean_environment(),
        capture_output=True,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr


def test_a_torn_record_is_cut_off_and_the_crash_logged(tmp_path: Path, site: Site) -> None:
    archive = tmp_path / "archive"
    crash(archive, gzip.compress(b"WARC/1.1\r\n" + os.urandom(5000))[:1500].hex())
    (left,) = (archive / "warcs").glob("*" + OPEN_SUFFIX)
    size = left.stat().st_size

    # Until a run seals it, verify names it, and its whole records still read.
    before = spawn(archive, "verify", "--json")
    assert before.code == 1
    assert "file-unfinished" in {p["kind"] for p in before.json()["problems"]}

    site.pages["/a"] = Page(cite("/b"))
    ran = spawn(archive, "capture", site.url("/a"), "--allow-private")
    assert ran.code == 0
    assert f"Recovered: sealed {left.name.removesuffix(OPEN_SUFFIX)}" in ran.stderr
    assert "cut off a torn record of 1500 bytes" in ran.stderr
    assert "died before it ended" in ran.stderr
    sealed = archive / "warcs" / left.name.removesuffix(OPEN_SUFFIX)
    assert sealed.stat().st_size == size - 1500
    (recovery,) = rows(archive, "SELECT * FROM recoveries WHERE kind = 'sealed-warc'")
    assert (recovery["records"], recovery["cut_bytes"], recovery["run_id"]) == (3, 1500, 1)
    (dead,) = rows(archive, "SELECT * FROM runs WHERE id = 1")
    assert dead["ended_at"] == dead["started_at"]  # it stored no capture
    assert_verify_clean(archive)


@pytest.mark.parametrize(
    "how, kind, said, run_id",
    [
        ("renamed", "registered-warc", "Recovered: entered preserve-", 1),
        ("emptied", "dropped-warc", "its writer died before a whole record was in it", None),
    ],
)
def test_other_leftovers_of_a_crash(
    tmp_path: Path, site: Site, how: str, kind: str, said: str, run_id: int | None
) -> None:
    archive = tmp_path / "archive"
    crash(archive, how)
    site.pages["/a"] = Page(cite("/b"))
    ran = spawn(archive, "capture", site.url("/a"), "--allow-private", "-q")
    assert ran.code == 0 and said in ran.stderr, ran.stderr
    (recovery,) = rows(archive, "SELECT * FROM recoveries WHERE kind = ?", (kind,))
    assert recovery["run_id"] == run_id  # as its warcinfo says, when there is one
    assert rows(archive, "SELECT run_id FROM recoveries WHERE kind = 'dead-run'") == [{"run_id": 1}]
    assert_verify_clean(archive)


def test_write_order_records_synced_before_rows_commit(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch, preserve: Preserve
) -> None:
    """Every row is committed only after the bytes it points at were flushed and fsynced."""
    from preserve.store.database import Store

    synced: dict[str, int] = {}  # WARC file name → its size at its last fsync
    pending: list[Any] = []  # record rows inserted, not yet committed
    commits: list[int] = []
    real_fsync, real_add, real_init = os.fsync, Store.add_capture, Store.__init__

    def fsync(fd: int) -> None:
        real_fsync(fd)
        name = os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1].removesuffix(OPEN_SUFFIX)
        synced[name] = os.fstat(fd).st_size

    def add_capture(store: Store, capture: Any) -> int:
        pending.extend(capture.records)
        return real_add(store, capture)

    def on_statement(sql: str) -> None:
        if sql.strip().upper().startswith(("COMMIT", "END")):
            for record in pending:
                assert record.offset + record.length <= synced.get(record.warc, 0), record
            commits.append(len(pending))
            pending.clear()

    def init(store: Store, *args: Any, **kwargs: Any) -> None:
        real_init(store, *args, **kwargs)
        store.db.conn.set_trace_callback(on_statement)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(Store, "add_capture", add_capture)
    monkeypatch.setattr(Store, "__init__", init)
    site.pages["/a"] = Page(cite(*(f"/s/{n}" for n in range(6))))
    for n in range(6):
        site.pages[f"/s/{n}"] = Page(article_html(f"S{n}", [f"Source {n} text " * 50]))
    result = preserve.run(tmp_path / "a", "capture", "-q", "--allow-private", site.url("/a"))
    assert result.exit_code == 0, result.output
    stored = rows(tmp_path / "a", "SELECT count(*) AS n FROM records")[0]["n"]
    assert sum(commits) == stored > 14 and not pending
