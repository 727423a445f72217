"""verify, end to end: WARC files damaged on purpose (cut, flipped, deleted, renamed, left
open), files read on several processes and in parts."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.evidence import rows as evidence_rows
from preserve.evidence.verify import verify
from preserve.store import integrity
from preserve.warc.scan import scan
from preserve.warc.writer import WarcWriter
from tests.support.checked_archive import CONFIG, capture_row, kinds, run_verify, sql
from tests.support.cli import Preserve
from tests.support.clock import Clock
from tests.support.sites import Page, Site, article_html


def test_truncated_warc(archive: Path, preserve: Preserve) -> None:
    target = capture_row(archive, "/src/report")
    path = archive / "warcs" / target["warc"]
    data = path.read_bytes()
    path.write_bytes(data[: target["offset"] + target["length"] // 2])
    problems = run_verify(archive)
    found = {kind for kind, _, _ in problems}
    assert found == {"truncated", "file-changed", "record-missing"}, problems
    assert ("truncated", target["warc"], target["url"]) in problems
    result = preserve.run(archive, "verify")
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
    """Wherever the flip lands, the damage is one record's: its gzip data or its digests (or
    only its member's hash, for a bit deflate never reads), never a ripple of made-up length
    or header problems from what broken deflate data inflated to, and never the records
    after it, even when the broken data reads on through them. (After the break the scan
    looks for the next gzip header from just after the broken member's own; three bytes of
    compressed data may look like one, so a problem may also be named elsewhere inside the
    damaged record.)"""
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
        # A bit deflate never reads (padding after the last block, an unused code length)
        # changes only the member's hash, which verify holds against the capture's row.
        (hit,) = [m for m in result.members if m.offset == start]
        assert found or hit.sha256 != target["record_sha256"], position
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


def test_open_file_left_by_a_crashed_run(
    archive: Path, checked_site: Site, preserve: Preserve
) -> None:
    checked_site.pages["/late"] = Page(article_html("Late", ["Captured just before a crash."]))
    script = textwrap.dedent(f"""
        import os, sys
        from preserve.engine.archive import Archive, Run
        from preserve.engine.capture import capture_articles
        from tests.support.checked_archive import CONFIG
        from tests.support.clock import Clock
        archive = Archive(__import__("pathlib").Path({str(archive)!r}))
        run = Run(archive, "capture", CONFIG, Clock(), {{}})
        capture_articles(run, [{checked_site.url("/late")!r}], every_seconds=86400)
        os._exit(0)  # crash: the WARC file is never closed, the run never ended
    """)
    # Output to a file, not a pipe: helper processes the crashed one started may outlive it.
    log = archive.parent / "crash.log"
    with log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-c", script],
            stdout=out,
            stderr=out,
            cwd=Path(__file__).resolve().parents[2],  # the repository: `tests` imports
            timeout=60,
        )
    assert done.returncode == 0, log.read_text()
    (left,) = (archive / "warcs").glob("*.open")
    problems = run_verify(archive)
    assert problems == [("file-unfinished", left.name.removesuffix(".open"), None)]
    # Its complete records are still readable.
    show = preserve.run(archive, "show", checked_site.url("/late"))
    assert show.exit_code == 0 and "Captured just before a crash." in show.stdout


def test_open_file_of_a_run_still_writing_is_not_a_problem(
    archive: Path, checked_site: Site
) -> None:
    handle = Archive(archive, create=False)
    try:
        run = Run(handle, "capture", CONFIG, Clock(), {})
        capture_articles(run, [checked_site.url("/src/report")], every_seconds=86400)
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
known = parts.known_offsets(archive.store.conn, files.WarcFile(name, archive.warcs / name))
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
