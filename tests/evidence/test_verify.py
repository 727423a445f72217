"""verify, the hash chain, find-text and show, end to end: an archive captured and checked from
a local site, then damaged on purpose (WARC bytes, files, database rows), and each kind of
damage named exactly, never a traceback and never "ok"."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlite_utils import Database

from preserve.cli.main import cli
from preserve.config import Config, FetchLimits
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.engine.check import check_targets, select_targets
from preserve.evidence import rows as evidence_rows
from preserve.evidence.verify import verify
from preserve.store import chain, integrity
from preserve.store.database import Store
from preserve.store.migrations import migrations
from preserve.store.rows import NewCapture
from preserve.warc.scan import scan
from preserve.warc.writer import WarcWriter
from tests.support.sites import Page, Site, article_html

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
OLD = "The deputy minister confirmed that the wiretap order was signed in March."
NEW = "The deputy minister denied that any wiretap order was ever signed."
FILLER = [
    "The inquiry heard from eleven witnesses over three days in the provincial capital.",
    "Council records show the budget for the harbour station was approved in January.",
]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


CONFIG = Config(
    fetch=FetchLimits(timeout=2.0, deadline=5.0, allow_private=True), workers=2, per_host=2
)


def story(claim: str) -> str:
    return article_html(
        "Wiretap inquiry",
        [
            FILLER[0],
            f"{claim} Officials at the minister’s office would not comment.",
            'The full <a href="/src/report">report</a> and the <a href="/src/annex.txt">annex</a>.',
            FILLER[1],
        ],
    )


def build(path: Path, site: Site, *, edit: bool = True) -> Path:
    """Capture a story citing two sources, then (optionally) edit it and check everything."""
    site.pages["/2016/10/story"] = Page(story(OLD))
    site.pages["/src/report"] = Page(article_html("Report", ["The report runs to forty pages."]))
    site.pages["/src/annex.txt"] = Page(
        "Annex A. Dates of the hearings.\n", content_type="text/plain"
    )
    clock = Clock()
    archive = Archive(path)
    try:
        run = Run(archive, "capture", CONFIG, clock, {})
        try:
            capture_articles(run, [site.url("/2016/10/story")], every_seconds=86400)
        finally:
            run.finish()
        if edit:
            site.pages["/2016/10/story"] = Page(story(NEW))
            clock.now += timedelta(days=1)
            run = Run(archive, "check", CONFIG, clock, {})
            try:
                check_targets(run, select_targets(archive.store, None, due=False, now=clock.now))
            finally:
                run.finish()
    finally:
        archive.close()
    return path


@pytest.fixture(scope="module")
def module_site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, module_site: Site) -> Path:
    return build(tmp_path_factory.mktemp("pristine") / "archive", module_site)


@pytest.fixture
def archive(pristine: Path, tmp_path: Path) -> Path:
    """A fresh copy of a captured-and-checked archive, to damage."""
    return Path(shutil.copytree(pristine, tmp_path / "archive"))


def run_verify(path: Path, **options: Any) -> list[tuple[str, Any, Any]]:
    handle = Archive(path, create=False)
    try:
        result = verify(handle, **options)
    finally:
        handle.close()
    return [(p.kind, p.warc, p.url) for p in result.problems]


def kinds(path: Path, **options: Any) -> set[str]:
    return {kind for kind, _, _ in run_verify(path, **options)}


def sql(path: Path, statement: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """A hand edit: plain sqlite3, foreign keys off (as in the sqlite3 shell)."""
    conn = sqlite3.connect(path / "preserve.db")
    conn.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in conn.execute(statement, params)]
        conn.commit()
        return rows
    finally:
        conn.close()


def capture_row(path: Path, url_part: str, which: int = 0) -> dict[str, Any]:
    rows = sql(
        path,
        "SELECT * FROM captures WHERE url LIKE ? AND warc IS NOT NULL ORDER BY id",
        (f"%{url_part}",),
    )
    return rows[which]


def invoke(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--archive", str(path), *args])


# --- intact archives ----------------------------------------------------------------------


def test_captured_and_checked_archive_verifies_clean(archive: Path) -> None:
    assert run_verify(archive) == []
    result = invoke(archive, "verify", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"ok", "records_checked", "problems"} <= set(data)
    assert data["ok"] is True and data["problems"] == []
    records = sql(archive, "SELECT count(*) AS n FROM records")[0]["n"]
    files = sql(archive, "SELECT count(*) AS n FROM warc_files")[0]["n"]
    assert data["records_checked"] == records + files  # and one warcinfo per file
    assert data["chain"]["head"].startswith("sha256:")
    text = invoke(archive, "verify")
    assert text.exit_code == 0 and text.stdout.startswith("OK: no problems")


def test_demo_archive_verifies_clean(tmp_path: Path) -> None:
    demo = invoke(tmp_path / "demo", "demo")
    assert demo.exit_code == 0, demo.output
    result = invoke(tmp_path / "demo", "verify", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["ok"] is True


def test_every_logged_row_has_one_chain_entry_in_order(archive: Path) -> None:
    entries = sql(archive, "SELECT * FROM chain ORDER BY seq")
    logged = {(e["table_name"], e["row_id"]) for e in entries}
    for table, key in (("captures", "id"), ("checks", "id"), ("warc_files", "name")):
        for row in sql(archive, f"SELECT {key} AS k FROM {table}"):
            assert (table, str(row["k"])) in logged
    assert len(logged) == len(entries)
    assert entries[0]["prev_hash"] is None
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry["prev_hash"] == before["entry_hash"]
    # The documented recipe, recomputed by hand for one capture.
    first = entries[0]
    row = sql(archive, "SELECT * FROM captures WHERE id = ?", (int(first["row_id"]),))[0]
    hashed = {
        "prev": None,
        "table": "captures",
        "row": {c: row[c] for c in chain.COLUMNS["captures"]},
    }
    data = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first["entry_hash"] == "sha256:" + hashlib.sha256(data.encode()).hexdigest()
    # Each closed WARC file's sha256 is in a logged warc_files row.
    for row in sql(archive, "SELECT * FROM warc_files"):
        data_hash = hashlib.sha256((archive / "warcs" / row["name"]).read_bytes()).hexdigest()
        assert row["sha256"] == data_hash


# --- damaged WARC files -------------------------------------------------------------------


def test_truncated_warc(archive: Path) -> None:
    target = capture_row(archive, "/src/report")
    path = archive / "warcs" / target["warc"]
    data = path.read_bytes()
    path.write_bytes(data[: target["offset"] + target["length"] // 2])
    problems = run_verify(archive)
    found = {kind for kind, _, _ in problems}
    assert found == {"truncated", "file-changed", "record-missing"}, problems
    assert ("truncated", target["warc"], target["url"]) in problems
    result = invoke(archive, "verify")
    assert result.exit_code == 1
    assert "truncated" in result.stdout and target["url"] in result.stdout
    assert f"capture {target['id']}" in result.stdout


def test_flipped_byte_in_the_middle_of_a_record(archive: Path) -> None:
    target = capture_row(archive, "/2016/10/story")
    path = archive / "warcs" / target["warc"]
    data = bytearray(path.read_bytes())
    data[target["offset"] + target["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))
    problems = run_verify(archive)
    found = {kind for kind, _, _ in problems}
    # Broken deflate data (its CRC no longer matches): named at that record, with its URL;
    # the records after it are still read (no record-missing).
    assert {"bad-gzip", "file-changed"} <= found, problems
    assert found <= {"bad-gzip", "file-changed", "bad-reference"}, problems
    assert ("bad-gzip", target["warc"], target["url"]) in problems


def test_any_flipped_byte_is_named_at_its_record(archive: Path, tmp_path: Path) -> None:
    """Wherever the flip lands, the damage is one record's: its gzip data (or, in the gzip
    header's spare bytes, its digests), never a ripple of made-up length or header problems
    from what broken deflate data inflated to, and never the records after it. (After the
    break the scan looks for the next gzip header; three bytes of compressed data may look
    like one, so a problem may also be named elsewhere inside the damaged record.)"""
    target = capture_row(archive, "/2016/10/story")
    original = (archive / "warcs" / target["warc"]).read_bytes()
    pristine = tmp_path / "pristine.warc.gz"
    pristine.write_bytes(original)
    start, end = target["offset"], target["offset"] + target["length"]
    after = {m.offset: m for m in scan(pristine).members if m.offset >= end}
    damaged = tmp_path / "damaged.warc.gz"
    for position in range(start + 10, end - 8, max(1, (end - start - 18) // 40)):
        data = bytearray(original)
        data[position] ^= 0x01
        damaged.write_bytes(bytes(data))
        result = scan(damaged)
        found = {problem.kind for problem in result.problems}
        assert found, position
        assert found <= {"bad-gzip", "block-digest", "payload-digest", "bad-reference"}, (
            position,
            result.problems,
        )
        assert all(
            start <= problem.offset < end
            for problem in result.problems
            if problem.kind != "bad-reference"
        ), (position, result.problems)
        assert {m.offset: m for m in result.members if m.offset >= end} == after, position


def test_changed_record_in_a_valid_gzip_member(archive: Path) -> None:
    """Decompress a record, change a byte of its block, recompress it: the gzip is sound,
    so only the digests and hashes tell."""
    (file,) = sql(
        archive,
        "SELECT warc FROM captures WHERE record_type = 'response'"
        " AND url LIKE '%/2016/10/story' ORDER BY id LIMIT 1",
    )
    path = archive / "warcs" / file["warc"]
    last = scan(path).members[-1]  # the file's last record: nothing after it moves
    assert last.rec_type in ("request", "metadata")
    data = path.read_bytes()
    record = gzip.decompress(data[last.offset :])
    head, _, rest = record.partition(b"\r\n\r\n")
    changed = head + b"\r\n\r\n" + bytes([rest[0] ^ 0x20]) + rest[1:]
    path.write_bytes(data[: last.offset] + gzip.compress(changed))
    found = kinds(archive)
    assert {"block-digest", "record-sha256", "file-changed"} <= found, found
    assert found <= {"block-digest", "record-sha256", "record-length", "file-changed"}


def test_deleted_warc_file(archive: Path) -> None:
    target = capture_row(archive, "/src/report")
    (archive / "warcs" / target["warc"]).unlink()
    problems = run_verify(archive)
    assert {kind for kind, _, _ in problems} == {"file-missing", "record-missing"}
    in_file = sql(archive, "SELECT url FROM captures WHERE warc = ?", (target["warc"],))
    missing = {url for kind, _, url in problems if kind == "record-missing"}
    assert missing == {row["url"] for row in in_file}


def test_extra_unknown_warc_file(archive: Path, tmp_path: Path) -> None:
    with WarcWriter(tmp_path / "elsewhere", info={}, clock=Clock(), prefix="other") as writer:
        writer.write_metadata("<urn:uuid:00000000-0000-4000-8000-000000000001>", {"a": 1})
    (stray,) = (tmp_path / "elsewhere").iterdir()
    shutil.copy(stray, archive / "warcs" / stray.name)
    assert run_verify(archive) == [("file-extra", stray.name, None)]


def test_renamed_warc_file(archive: Path) -> None:
    target = capture_row(archive, "/src/report")
    (archive / "warcs" / target["warc"]).rename(archive / "warcs" / "renamed.warc.gz")
    # Found by the name its warcinfo gives it, and its records still checked against it.
    assert run_verify(archive) == [("file-renamed", target["warc"], None)]


def test_open_file_left_by_a_crashed_run(archive: Path, module_site: Site) -> None:
    module_site.pages["/late"] = Page(article_html("Late", ["Captured just before a crash."]))
    script = textwrap.dedent(f"""
        import os, sys
        from preserve.engine.archive import Archive, Run
        from preserve.engine.capture import capture_articles
        from tests.test_verify import CONFIG, Clock
        archive = Archive(__import__("pathlib").Path({str(archive)!r}))
        run = Run(archive, "capture", CONFIG, Clock(), {{}})
        capture_articles(run, [{module_site.url("/late")!r}], every_seconds=86400)
        os._exit(0)  # crash: the WARC file is never closed, the run never ended
    """)
    # Output to a file, not a pipe: helper processes the crashed one started may outlive it.
    log = archive.parent / "crash.log"
    with log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-c", script],
            stdout=out,
            stderr=out,
            cwd=Path(__file__).parent.parent,
            timeout=60,
        )
    assert done.returncode == 0, log.read_text()
    (left,) = (archive / "warcs").glob("*.open")
    problems = run_verify(archive)
    assert problems == [("file-unfinished", left.name.removesuffix(".open"), None)]
    # Its complete records are still readable.
    show = invoke(archive, "show", module_site.url("/late"))
    assert show.exit_code == 0 and "Captured just before a crash." in show.stdout


def test_open_file_of_a_run_still_writing_is_not_a_problem(
    archive: Path, module_site: Site
) -> None:
    handle = Archive(archive, create=False)
    try:
        run = Run(handle, "capture", CONFIG, Clock(), {})
        capture_articles(run, [module_site.url("/src/report")], every_seconds=86400)
        result = verify(handle)
        assert result.ok, result.problems
        assert len(result.in_progress) == 1
        # Told by the writer's lock on the file too, whatever the runs table says.
        handle.store.db.execute("UPDATE runs SET host = 'elsewhere' WHERE id = ?", [run.id])
        assert verify(handle).in_progress == result.in_progress
        run.finish()
        assert verify(handle).ok
    finally:
        handle.close()


def test_since_reads_only_recent_files(archive: Path) -> None:
    files = sql(archive, "SELECT name, closed_at FROM warc_files ORDER BY closed_at")
    assert len(files) == 2
    old, new = files
    path = archive / "warcs" / old["name"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # same size: only reading the file shows it
    path.write_bytes(bytes(data))
    handle = Archive(archive, create=False)
    try:
        recent = verify(handle, since=new["closed_at"])
        assert recent.ok and recent.files_checked == 1
        assert not verify(handle).ok
    finally:
        handle.close()
    path.write_bytes(bytes(data[:-10]))  # a size change is seen without reading
    assert kinds(archive, since=new["closed_at"]) == {"file-changed"}


PARALLEL = """
import json, sys
from pathlib import Path
from preserve.evidence import files, parts, verify
from preserve.engine.archive import Archive
parts.PARALLEL_BYTES = 0
parts._MIN_PART = 0  # every file read in parts, however small
archive = Archive(Path(sys.argv[1]), create=False)
name = sys.argv[2]
known = parts.known_offsets(archive.store.db.conn, files.WarcFile(name, archive.warcs / name))
print(json.dumps({"parts": len(parts.cuts(known, 0)),
                  "answers": [verify.verify(archive, workers=w).to_json() for w in (1, 2)]}))
"""


def one_and_several_processes(archive: Path, warc: str) -> tuple[dict[str, Any], int]:
    """verify's answer read here in one pass, which must be the same read on two workers
    with `warc` in parts; and how many parts that was."""
    done = subprocess.run(
        [sys.executable, "-c", PARALLEL, str(archive), warc],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    one, two = out["answers"]
    assert one == two and one["files_checked"] == 2
    return one, out["parts"]


def test_the_rows_verify_reads_as_tuples_are_in_the_order_its_rows_take_them() -> None:
    """The store reads rows pointing at records as plain tuples (there may be millions);
    verify makes a `Row` of the few it names, by position."""
    names = [f.name for f in dataclasses.fields(evidence_rows.Row)]
    assert names == ["table", *integrity.POINTER_FIELDS]


def test_files_read_on_several_processes_give_the_same_answer(archive: Path) -> None:
    target = capture_row(archive, "/src/report")
    path = archive / "warcs" / target["warc"]
    data = bytearray(path.read_bytes())
    data[target["offset"] + target["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))
    answer, parts = one_and_several_processes(archive, target["warc"])
    assert parts >= 3
    kinds = {p["kind"] for p in answer["problems"]}
    # the broken member may also be the one a request's WARC-Concurrent-To names
    assert {"bad-gzip", "file-changed"} <= kinds <= {"bad-gzip", "file-changed", "bad-reference"}


def test_damage_in_the_last_part_of_a_file_read_in_parts(archive: Path) -> None:
    """The file's last response is read in the last of its parts: its damage, and a row
    edited to point past it, are found there and named as one pass names them."""
    (last,) = sql(
        archive,
        "SELECT * FROM captures WHERE record_type = 'response'"
        " AND warc = (SELECT warc FROM captures WHERE id = 1) ORDER BY offset DESC"
        " LIMIT 1",
    )
    path = archive / "warcs" / last["warc"]
    data = bytearray(path.read_bytes())
    data[last["offset"] + last["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))
    sql(
        archive,
        "UPDATE records SET offset = offset + 3 WHERE warc = ? AND offset = ? AND type = 'request'",
        (last["warc"], last["offset"] + last["length"]),
    )
    answer, parts = one_and_several_processes(archive, last["warc"])
    assert parts >= 3
    found = {(p["kind"], p["offset"]) for p in answer["problems"]}
    assert ("bad-gzip", last["offset"]) in found
    assert ("record-missing", last["offset"] + last["length"] + 3) in found


def test_rows_edited_in_every_part_of_a_file_read_in_parts(archive: Path) -> None:
    """Rows that no longer hold what their records do are found by the worker that reads
    their part, and named (URL, capture) as one pass names them."""
    (warc,) = sql(
        archive,
        "SELECT warc FROM records WHERE type = 'response' GROUP BY warc"
        " ORDER BY count(*) DESC LIMIT 1",
    )
    records = sql(
        archive, "SELECT id, offset FROM records WHERE warc = ? ORDER BY offset", (warc["warc"],)
    )
    edits = [
        "record_sha256 = '0'",
        "record_id = '<urn:x>'",
        "length = length + 1",
        "type = 'resource'",
        "payload_sha256 = 'ab'",
    ]
    for edit, record in zip(edits, records[1:], strict=False):
        sql(archive, f"UPDATE records SET {edit} WHERE id = ?", (record["id"],))
    (last,) = sql(
        archive,
        "SELECT * FROM captures WHERE warc = ? ORDER BY offset DESC LIMIT 1",
        (warc["warc"],),
    )
    sql(archive, "UPDATE captures SET record_sha256 = '1' WHERE id = ?", (last["id"],))
    answer, parts = one_and_several_processes(archive, warc["warc"])
    assert parts >= 3
    found = {p["kind"] for p in answer["problems"]}
    assert {"record-sha256", "record-id", "record-length", "record-type"} <= found, found
    assert ("record-sha256", last["offset"], last["url"], last["id"]) in {
        (p["kind"], p["offset"], p["url"], p["capture_id"]) for p in answer["problems"]
    }
    assert all(
        p["url"] and p["capture_id"] for p in answer["problems"] if p["kind"].startswith("record-")
    ), answer["problems"]


def test_damage_across_the_parts_of_a_file(archive: Path) -> None:
    """Bytes let into a record of the first part move every record after it: the parts,
    cut where the database says records start, no longer meet, so the file is read again
    in one pass."""
    (target,) = sql(
        archive,
        "SELECT * FROM records WHERE type = 'response' AND warc ="
        " (SELECT warc FROM records WHERE type = 'response' GROUP BY warc"
        "  ORDER BY count(*) DESC LIMIT 1) ORDER BY offset LIMIT 1",
    )
    path = archive / "warcs" / target["warc"]
    data = path.read_bytes()
    middle = target["offset"] + target["length"] // 2
    path.write_bytes(data[:middle] + b"let in" + data[middle:])
    answer, parts = one_and_several_processes(archive, target["warc"])
    assert parts >= 3
    found = {p["kind"] for p in answer["problems"]}
    assert {"bad-gzip", "file-changed", "record-missing"} <= found


POOL = """
import os, sys, time
from preserve.evidence.pool import Pool
PARENT = os.getpid()

def square(n):
    if n == 3 and os.getpid() != PARENT:
        os._exit(1)  # the worker dies (as if killed) on this job
    return n * n, os.getpid()

def pid(_):
    time.sleep(0.2)  # both workers get one
    return os.getpid()

with Pool(2) as pool:
    if sys.argv[1] == "die":
        results = list(pool.map(square, range(8), ahead=8))
        print([n for n, _ in results], results[3][1] == PARENT)
    else:
        print(*set(pool.map(pid, range(2), ahead=2)), flush=True)
        time.sleep(60)
"""


def test_a_dead_worker_leaves_its_jobs_to_verify() -> None:
    done = subprocess.run(
        [sys.executable, "-c", POOL, "die"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[0,", "1,", "4,", "9,", "16,", "25,", "36,", "49]", "True"]


def test_workers_die_with_verify() -> None:
    verify_process = subprocess.Popen(
        [sys.executable, "-c", POOL, "wait"], stdout=subprocess.PIPE, text=True
    )
    assert verify_process.stdout is not None
    workers = [int(pid) for pid in verify_process.stdout.readline().split()]
    assert len(workers) == 2
    verify_process.kill()
    verify_process.wait()
    deadline = time.monotonic() + 10
    while any(map(running, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if running(pid)]
    for pid in left:  # not to leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left


def running(pid: int) -> bool:
    """Is the process there and not a zombie (dead, waiting for whoever reaps it)?"""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


# --- database rows edited by hand ---------------------------------------------------------


def test_edited_http_status(archive: Path) -> None:
    target = capture_row(archive, "/src/report")
    sql(archive, "UPDATE captures SET http_status = 404 WHERE id = ?", (target["id"],))
    problems = run_verify(archive)
    assert problems == [("row-edited", None, target["url"])]
    result = invoke(archive, "verify", "--json")
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)["problems"]
    assert {"kind", "warc", "offset", "url", "detail"} <= set(problem)
    assert problem["capture_id"] == target["id"]


def test_edited_payload_sha256(archive: Path) -> None:
    target = capture_row(archive, "/src/report")
    sql(archive, "UPDATE captures SET payload_sha256 = ? WHERE id = ?", ("0" * 64, target["id"]))
    assert kinds(archive) == {"row-edited", "payload-sha256"}


def test_deleted_captures_row(archive: Path) -> None:
    target = capture_row(archive, "/src/annex.txt")
    sql(archive, "DELETE FROM captures WHERE id = ?", (target["id"],))
    assert run_verify(archive) == [("row-deleted", None, None)]


def test_two_rows_swapped(archive: Path) -> None:
    first, second = capture_row(archive, "/src/report", 0), capture_row(archive, "/src/report", 1)
    sql(archive, "UPDATE captures SET id = -1 WHERE id = ?", (first["id"],))
    sql(archive, "UPDATE captures SET id = ? WHERE id = ?", (first["id"], second["id"]))
    sql(archive, "UPDATE captures SET id = ? WHERE id = -1", (second["id"],))
    assert kinds(archive) == {"row-reordered"}


def test_chain_entries_swapped_or_deleted(archive: Path) -> None:
    sql(archive, "UPDATE chain SET seq = -1 WHERE seq = 3")
    sql(archive, "UPDATE chain SET seq = 3 WHERE seq = 4")
    sql(archive, "UPDATE chain SET seq = 4 WHERE seq = -1")
    assert kinds(archive) == {"chain-reordered"}
    sql(archive, "UPDATE chain SET seq = -1 WHERE seq = 3")
    sql(archive, "UPDATE chain SET seq = 3 WHERE seq = 4")
    sql(archive, "UPDATE chain SET seq = 4 WHERE seq = -1")
    assert kinds(archive) == set()
    sql(archive, "DELETE FROM chain WHERE seq = 5")
    assert kinds(archive) == {"chain-broken", "row-unlogged"}


def test_edited_warc_files_row_and_text(archive: Path) -> None:
    (row,) = sql(archive, "SELECT name FROM warc_files ORDER BY name LIMIT 1")
    sql(archive, "UPDATE warc_files SET sha256 = ? WHERE name = ?", ("f" * 64, row["name"]))
    assert kinds(archive) == {"row-edited", "file-changed"}
    sql(archive, "UPDATE texts SET text = replace(text, 'confirmed', 'denied')")
    assert "text-sha256" in kinds(archive)
    sql(archive, "DELETE FROM text_search_keys")
    assert "text-unindexed" in kinds(archive)


def test_rows_written_outside_preserve_are_unlogged(archive: Path) -> None:
    sql(archive, "INSERT INTO checks (url, outcome) VALUES ('http://example.org/', 'gone')")
    assert kinds(archive) == {"row-unlogged"}


def rewrite_log(path: Path, statement: str) -> None:
    """What a forger with write access does: edit a logged row, then recompute every chain
    entry from the rows as they now stand, so that the chain is consistent again."""
    sql(path, statement)
    db = Database(path / "preserve.db")
    try:
        prev = None
        for entry in chain.entries(db):
            key = chain.KEYS[entry.table_name]
            (row,) = db.query(
                f"SELECT * FROM [{entry.table_name}] WHERE [{key}] = ?", [entry.row_id]
            )
            digest = chain.entry_hash(prev, entry.table_name, row)
            db.execute(
                "UPDATE chain SET prev_hash = ?, entry_hash = ? WHERE seq = ?",
                [prev, digest, entry.seq],
            )
            prev = digest
        db.conn.commit()
    finally:
        db.close()


def test_a_head_noted_down_stays_in_the_chain_until_the_log_is_rewritten(
    archive: Path, module_site: Site
) -> None:
    noted = json.loads(invoke(archive, "verify", "--json").stdout)["chain"]["head"]
    (last,) = sql(archive, "SELECT max(seq) AS seq FROM chain")
    # The archive goes on: a check logs more rows after the head was noted.
    checked = invoke(archive, "check", "--allow-private", "--quiet")
    assert checked.exit_code == 0, checked.output
    result = invoke(archive, "verify", "--head", noted, "--json")
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)["chain"]
    assert data["given_heads"] == [{"hash": noted, "seq": last["seq"]}]
    assert data["head"] != noted and data["entries"] > last["seq"]
    text = invoke(archive, "verify", "--head", noted).stdout
    assert f"Head {noted} is chain entry {last['seq']}" in text

    # Rewritten, the log is consistent on its own: only the head noted down tells.
    target = capture_row(archive, "/src/report")
    rewrite_log(archive, f"UPDATE captures SET http_status = 404 WHERE id = {target['id']}")
    assert kinds(archive) == set()
    assert kinds(archive, heads=[noted]) == {"chain-head-missing"}
    result = invoke(archive, "verify", "--head", noted, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["chain"]["given_heads"] == [{"hash": noted, "seq": None}]


def test_a_malformed_head_is_refused_before_anything_is_read(archive: Path) -> None:
    for bad in ("52aaba36", "sha256:" + "G" * 64, "sha256:" + "a" * 63, "md5:" + "a" * 64):
        result = invoke(archive, "verify", "--head", bad)
        assert result.exit_code == 2
        assert result.stderr.startswith("Error: --head") and result.stderr.count("\n") == 1


# --- the chain: old archives and concurrent writers ---------------------------------------


def test_an_archive_from_before_the_chain_is_logged_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m003_chain_and_text_search")
    db["runs"].insert({"id": 1, "command": "capture"})
    db["captures"].insert(
        {
            "id": 1,
            "run_id": 1,
            "url": "http://example.org/",
            "started_at": "2026-01-01T00:00:00.000000Z",
            "status": "failed",
        }
    )
    db["texts"].insert({"sha256": hashlib.sha256(OLD.encode()).hexdigest(), "text": OLD})
    db.close()
    store = Store(path)
    try:
        problems, entries = chain.check(store.db)
        assert problems == [] and entries == 1
        hits = list(
            store.db.query(
                "SELECT rowid FROM text_search WHERE text_search MATCH ?", ['"wiretap order"']
            )
        )
        assert len(hits) == 1
    finally:
        store.close()


APPEND = """
import sys
from pathlib import Path
from preserve.store.database import Store
from preserve.store.rows import NewCapture
store = Store(Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    store.add_capture(NewCapture(run_id=None, url=f"http://example.org/{sys.argv[3]}/{i}",
                                 role="article", depth=0, parent_id=None,
                                 started_at="2026-01-01T00:00:00.000000Z",
                                 ended_at="2026-01-01T00:00:00.000000Z", status="failed"))
store.close()
"""


def test_two_processes_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "preserve.db"
    Store(path).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", APPEND, str(path), "150", name])
        for name in ("a", "b")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    store = Store(path)
    try:
        problems, entries = chain.check(store.db)
        assert problems == [] and entries == 300
    finally:
        store.close()


def test_a_failed_write_leaves_no_chain_entry(tmp_path: Path) -> None:
    store = Store(tmp_path / "preserve.db")
    try:
        with pytest.raises(sqlite3.IntegrityError):
            store.add_capture(
                NewCapture(
                    run_id=12345,
                    url="http://example.org/",
                    role="article",
                    depth=0,
                    parent_id=None,
                    started_at="x",
                    ended_at="x",
                    status="failed",
                )
            )
        assert list(store.db.query("SELECT * FROM chain")) == []
    finally:
        store.close()


# --- find-text and show -------------------------------------------------------------------


def test_find_text_across_an_edited_article(archive: Path, module_site: Site) -> None:
    url = module_site.url("/2016/10/story")
    captures = sql(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id", (url,))
    old, new = captures
    assert old["text_sha256"] != new["text_sha256"]

    # Typed with curly quotes and a line break: normalised as the stored texts are.
    found = json.loads(
        invoke(archive, "find-text", "the wiretap order\nwas signed in March", "--json").stdout
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

    text = invoke(archive, "find-text", "confirmed that the wiretap order")
    assert text.exit_code == 0
    assert f"gone since {new['started_at']}" in text.stdout
    assert old["payload_sha256"] in text.stdout and str(old["offset"]) in text.stdout

    found = json.loads(
        invoke(archive, "find-text", "denied that any wiretap order", "--json").stdout
    )
    assert [m["captured_at"] for m in found["matches"]] == [new["started_at"]]
    assert found["urls"][0]["state"] == "present"
    assert (
        "still there in the latest capture"
        in invoke(archive, "find-text", "denied that any wiretap order").stdout
    )

    # Text in both captures: both, oldest first, still there.
    found = json.loads(invoke(archive, "find-text", FILLER[0], "--json").stdout)
    assert [m["captured_at"] for m in found["matches"]] == [c["started_at"] for c in captures]
    assert found["urls"][0]["state"] == "present"
    # Exact phrase: the words in another order are not a match; case only with -i.
    assert (
        json.loads(invoke(archive, "find-text", "order wiretap the", "--json").stdout)["matches"]
        == []
    )
    assert (
        json.loads(invoke(archive, "find-text", "THE DEPUTY MINISTER DENIED", "--json").stdout)[
            "matches"
        ]
        == []
    )
    assert (
        len(
            json.loads(
                invoke(archive, "find-text", "THE DEPUTY MINISTER DENIED", "-i", "--json").stdout
            )["matches"]
        )
        == 1
    )
    assert (
        json.loads(
            invoke(
                archive, "find-text", FILLER[0], "--url", module_site.url("/src/report"), "--json"
            ).stdout
        )["matches"]
        == []
    )


def test_find_text_typography_and_bad_input(archive: Path) -> None:
    # Stored with a curly apostrophe, normalised to a straight one; typed either way.
    for typed in ("the minister's office", "the minister’s  office"):
        found = json.loads(invoke(archive, "find-text", typed, "--json").stdout)
        assert len(found["matches"]) == 2, typed
    assert invoke(archive, "find-text", "...").exit_code == 2
    assert invoke(archive, "find-text", "___").exit_code == 2
    assert invoke(archive, "find-text", "").exit_code == 2
    result = invoke(archive, "find-text", "no such words anywhere in this archive")
    assert result.exit_code == 1 and result.stdout.startswith("Not found")  # as grep says it
    found = invoke(archive, "find-text", "no such words anywhere", "--json")
    assert found.exit_code == 1 and json.loads(found.stdout)["matches"] == []


def test_find_text_says_when_a_page_was_taken_down(tmp_path: Path, site: Site) -> None:
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
    found = json.loads(invoke(path, "find-text", "runs to forty pages", "--json").stdout)
    assert found["urls"][0]["state"] == "gone" and found["urls"][0]["how"] == "http-410"


def test_show_text_raw_and_at(archive: Path, module_site: Site) -> None:
    url = module_site.url("/2016/10/story")
    old, new = sql(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id", (url,))
    latest = invoke(archive, "show", url)
    assert latest.exit_code == 0 and NEW in latest.stdout and OLD not in latest.stdout
    assert f"capture {new['id']}" in latest.stderr
    earlier = invoke(archive, "show", url, "--at", old["started_at"])
    assert OLD in earlier.stdout
    raw = invoke(archive, "show", url, "--raw", "--at", old["started_at"])
    assert raw.exit_code == 0
    assert hashlib.sha256(raw.stdout_bytes).hexdigest() == old["payload_sha256"]
    assert raw.stdout_bytes == story(OLD).encode()
    assert invoke(archive, "show", url, "--at", "2020-01-01").exit_code == 2
    assert "got a different text" in earlier.stderr  # an old text is never taken for today's


def test_show_text_of_a_capture_without_text(archive: Path, module_site: Site) -> None:
    module_site.pages["/blob"] = Page(b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png")
    assert invoke(archive, "capture", module_site.url("/blob"), "--allow-private").exit_code == 0
    result = invoke(archive, "show", module_site.url("/blob"))
    assert result.exit_code == 2 and "use --raw" in result.stderr
    raw = invoke(archive, "show", module_site.url("/blob"), "--raw")
    assert raw.stdout_bytes == b"\x89PNG\r\n\x1a\n" + bytes(64)
    assert kinds(archive) == set()


def test_show_raw_of_a_revisit_gives_the_original_bytes(archive: Path, module_site: Site) -> None:
    url = module_site.url("/src/annex.txt")
    rows = sql(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id", (url,))
    assert [r["record_type"] for r in rows] == ["response", "revisit"]
    raw = invoke(archive, "show", url, "--raw")
    assert raw.stdout_bytes == b"Annex A. Dates of the hearings.\n"
    assert "a revisit of" in raw.stderr


def test_show_raw_keeps_content_encoding(tmp_path: Path, site: Site) -> None:
    body = article_html("Zipped", ["Sent gzip-encoded by the server."])
    site.pages["/zipped"] = Page(body, gzip=True)
    path = tmp_path / "archive"
    result = invoke(path, "capture", site.url("/zipped"), "--allow-private")
    assert result.exit_code == 0, result.output
    raw = invoke(path, "show", site.url("/zipped"), "--raw")
    assert raw.stdout_bytes[:2] == b"\x1f\x8b"
    assert gzip.decompress(raw.stdout_bytes) == body.encode()
    assert "Sent gzip-encoded by the server." in invoke(path, "show", site.url("/zipped")).stdout


def test_show_of_a_damaged_record_is_an_error_not_a_traceback(
    archive: Path, module_site: Site
) -> None:
    url = module_site.url("/src/report")
    target = capture_row(archive, "/src/report", 1)
    original = capture_row(archive, "/src/report", 0)
    assert target["record_type"] == "revisit"
    path = archive / "warcs" / original["warc"]
    data = bytearray(path.read_bytes())
    data[original["offset"] + original["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = invoke(archive, "show", url, "--raw")
    assert result.exit_code == 1 and result.stderr.startswith("Error:")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_store_rejects_nothing_new(tmp_path: Path) -> None:
    """NewCapture rows keep working without a WARC record (failed fetches)."""
    store = Store(tmp_path / "preserve.db")
    try:
        store.db["runs"].insert({"id": 1, "command": "capture"})
        store.add_capture(
            NewCapture(
                run_id=1,
                url="http://example.org/",
                role="article",
                depth=0,
                parent_id=None,
                started_at="x",
                ended_at="x",
                status="failed",
            )
        )
        assert chain.check(store.db) == ([], 1)
    finally:
        store.close()


@pytest.mark.parametrize(
    "edit",
    ["offset = NULL", "offset = 'abc'", "length = NULL", "length = -5", "record_sha256 = NULL"],
)
def test_a_hand_edited_capture_row_is_a_problem_not_a_traceback(archive: Path, edit: str) -> None:
    target = capture_row(archive, "/2016/10/story")
    with sqlite3.connect(archive / "preserve.db") as db:
        db.execute(f"UPDATE captures SET {edit} WHERE id = ?", (target["id"],))
    result = invoke(archive, "verify")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"capture {target['id']}" in result.stdout
    assert "row-edited" in result.stdout or "edited after it was logged" in result.stdout
