"""Evidence packages: `export` (WACZ 1.1.1 with provenance, signature, RFC 3161 tokens from
a local openssl TSA), `keygen` and `verify-package`; `wacz validate` and pywb replay of an
exported package."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import sqlite3
import struct
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import requests
import surt

from preserve.warc.reader import read_record
from preserve.warc.scan import strict_check
from tests.evidence.helpers import BIN, Made, members, rows, verify
from tests.support.cli import Preserve
from tests.support.replay import AVAILABLE as replay_available
from tests.support.replay import pywb


def test_export_reports_what_it_wrote(made: Made) -> None:
    out = made.export_output
    assert f"Wrote {made.package}" in out
    assert "signed by key sha256:" in out
    assert "time-stamped " in out and made.tsa.url in out
    assert made.tsa.queries == 1


def test_every_export_is_logged_in_the_archives_hash_chain(
    made: Made, tmp_path: Path, preserve: Preserve
) -> None:
    """The chain of custody: which package was made from the archive,
    when, by which host and tool, signed by which key: by the package's sha256, in the hash
    chain, so that the archive itself shows what was handed over."""
    assert "logged in the archive as export 1: chain entry " in made.export_output
    out = made.root / "logged.wacz"
    result = preserve.run(str(made.archive), "export", made.article, "--wacz", str(out), "--json")
    assert result.exit_code == 0, result.output
    logged = json.loads(result.stdout)["logged"]
    db = sqlite3.connect(made.archive / "preserve.db")
    db.row_factory = sqlite3.Row
    try:
        exports = {row["wacz"]: dict(row) for row in db.execute("SELECT * FROM exports")}
        entry = db.execute(
            "SELECT * FROM chain WHERE table_name = 'exports' AND row_id = ?",
            [str(logged["export_id"])],
        ).fetchone()
    finally:
        db.close()
    first, this = exports[str(made.package.resolve())], exports[str(out.resolve())]
    assert first["sha256"] == hashlib.sha256(made.package.read_bytes()).hexdigest()
    assert first["signed_by"] and len(json.loads(first["timestamps"])) == 1
    assert this["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert json.loads(this["articles"]) == [made.article] and this["signed_by"] is None
    assert (entry["seq"], entry["entry_hash"]) == (logged["chain_entry"], logged["chain_head"])
    checked = preserve.run(str(made.archive), "verify", "--head", logged["chain_head"])
    assert checked.exit_code == 0, checked.output

    # A log of exports rewritten afterwards is caught like any other row.
    copy = tmp_path / "copy"
    shutil.copytree(made.archive, copy)
    db = sqlite3.connect(copy / "preserve.db")
    db.execute("UPDATE exports SET sha256 = ? WHERE id = ?", ["0" * 64, logged["export_id"]])
    db.commit()
    db.close()
    tampered = preserve.run(str(copy), "verify", "--json")
    assert tampered.exit_code == 1
    problems = json.loads(tampered.stdout)["problems"]
    assert [p["kind"] for p in problems] == ["row-edited"], problems
    assert "exports row" in problems[0]["detail"]


@pytest.mark.replay
@pytest.mark.skipif(not (BIN / "wacz").exists(), reason="py-wacz is not installed")
def test_wacz_validate_passes(made: Made) -> None:
    result = subprocess.run([str(BIN / "wacz"), "validate", "-f", str(made.package)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout


def test_layout_datapackage_and_compression(made: Made) -> None:
    with zipfile.ZipFile(made.package) as z:
        infos = {i.filename: i for i in z.infolist()}
        files = {name: z.read(name) for name in infos}
    raw = made.package.read_bytes()
    for name, info in infos.items():
        if name.startswith(("archive/", "indexes/")):
            assert info.compress_type == zipfile.ZIP_STORED, name
        # no ZIP64 extra fields on small files: ReplayWeb.page 2.5 misreads a package that
        # has them (checked by hand: it failed to load one, and loads it without them)
        _, extra_length = struct.unpack_from("<HH", raw, info.header_offset + 26)
        assert extra_length == 0 and info.extra == b"", name
    datapackage = json.loads(files["datapackage.json"])
    assert datapackage["profile"] == "data-package"
    assert datapackage["wacz_version"] == "1.1.1"
    assert datapackage["mainPageUrl"] == made.article
    listed = {r["path"]: r for r in datapackage["resources"]}
    assert set(listed) == set(files) - {"datapackage.json", "datapackage-digest.json"}
    assert {
        "indexes/index.cdx.gz",
        "indexes/index.idx",
        "pages/pages.jsonl",
        "provenance/provenance.json",
    } <= set(listed)
    for path, resource in listed.items():
        assert resource["hash"] == "sha256:" + hashlib.sha256(files[path]).hexdigest()
        assert resource["bytes"] == len(files[path])
    digest = json.loads(files["datapackage-digest.json"])
    assert digest["path"] == "datapackage.json"
    assert digest["hash"] == "sha256:" + hashlib.sha256(files["datapackage.json"]).hexdigest()
    signed = digest["signedData"]
    assert set(signed) >= {"hash", "created", "software", "version", "signature", "publicKey"}
    assert signed["hash"] == digest["hash"]
    assert signed["created"] == datapackage["created"]
    assert len(base64.b64decode(signed["signature"])) == 64  # r||s, as WebCrypto wants
    (stamp,) = digest["timestamps"]
    assert stamp["tsa"] == made.tsa.url
    assert stamp["messageImprint"] == digest["hash"]


def test_pages_one_per_article_and_source(made: Made) -> None:
    lines = members(made.package)["pages/pages.jsonl"].decode().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "json-pages-1.0" and header["id"] == "pages"
    pages = [json.loads(line) for line in lines[1:]]
    urls = [p["url"] for p in pages]
    assert urls[0] == made.article and pages[0]["role"] == "article"
    cited = [
        r["url"]
        for r in rows(
            made.archive,
            "SELECT url FROM citations WHERE capture_id ="
            " (SELECT min(id) FROM captures WHERE role = 'article')",
        )
    ]
    assert sorted(urls[1:]) == sorted(cited)  # every cited source, once
    first = rows(made.archive, "SELECT started_at FROM captures WHERE url = ? ORDER BY id",
                 (made.article,))[0]  # fmt: skip
    # the version the article was first captured at, to the second (as the CDXJ keys it)
    assert pages[0]["ts"] == first["started_at"][:19] + "Z"
    assert "Haddad" in pages[0]["text"]
    assert all(p["ts"].endswith("Z") and p["id"] for p in pages)


def test_warcs_hold_the_archived_records_byte_for_byte(made: Made, tmp_path: Path) -> None:
    files = members(made.package)
    provenance = json.loads(files["provenance/provenance.json"])
    records = [r for c in provenance["captures"] for r in c["records"]]
    records += provenance["other_records"]
    assert records
    for record in records:
        source, place = record["source"], record["package"]
        with open(made.archive / "warcs" / source["warc"], "rb") as file:
            file.seek(source["offset"])
            original = file.read(source["length"])
        copied = files[place["path"]][place["offset"] : place["offset"] + place["length"]]
        assert copied == original
        assert hashlib.sha256(copied).hexdigest() == record["record_sha256"]
    # every record of every capture of the article and its sources is in
    ids = {r["record_id"] for r in records}
    article_ids = [c["id"] for c in rows(made.archive, "SELECT id FROM captures WHERE url = ?",
                                         (made.article,))]  # fmt: skip
    assert len(article_ids) == 2  # the capture and the check's recapture
    for capture_id in article_ids:
        for row in rows(made.archive, "SELECT record_id FROM records WHERE capture_id = ?",
                        (capture_id,)):  # fmt: skip
            assert row["record_id"] in ids
    for warc in provenance["warc_files"]:
        data = files[warc["path"]]
        path = tmp_path / Path(warc["path"]).name
        path.write_bytes(data)
        assert strict_check(path) == []  # warcinfo first, references resolve, digests match
        assert read_record(path, 0, warc["warcinfo"]["length"]).rec_type == "warcinfo"
    # each revisit's original is in the package
    for record in records:
        if record["type"] == "revisit":
            place = record["package"]
            path = tmp_path / Path(place["path"]).name
            refers_to = read_record(path, place["offset"], place["length"]).header("WARC-Refers-To")
            assert refers_to in ids


def test_index_is_sorted_surt_cdxj_pointing_at_the_records(made: Made) -> None:
    files = members(made.package)
    lines = gzip.decompress(files["indexes/index.cdx.gz"]).decode().splitlines()
    assert lines == sorted(lines)
    kinds = set()
    for line in lines:
        key, timestamp, fields = line.split(" ", 2)
        entry = json.loads(fields)
        assert key == surt.surt(entry["url"])
        assert len(timestamp) == 14
        data = files["archive/" + entry["filename"]]
        member = data[int(entry["offset"]) : int(entry["offset"]) + int(entry["length"])]
        assert "sha256:" + hashlib.sha256(member).hexdigest() == entry["recordDigest"]
        kinds.add(entry["mime"])
    assert "warc/revisit" in kinds and "text/html" in kinds
    # the IDX names each gzip block of the CDXJ with its first key and sha256 (zipnum, the
    # layout ReplayWeb.page loads)
    idx = files["indexes/index.idx"].decode().splitlines()
    assert json.loads(idx[0].split(" ", 2)[2])["filename"] == "index.cdx.gz"
    blocks = files["indexes/index.cdx.gz"]
    for line in idx[1:]:
        key, entry = line.split(" {", 1)
        block = json.loads("{" + entry)
        data = blocks[block["offset"] : block["offset"] + block["length"]]
        assert "sha256:" + hashlib.sha256(data).hexdigest() == block["digest"]
        assert gzip.decompress(data).decode().startswith(key)


def test_provenance_of_every_capture(made: Made) -> None:
    provenance = json.loads(members(made.package)["provenance/provenance.json"])
    captures = provenance["captures"]
    in_db = rows(made.archive, "SELECT id, url FROM captures")
    wanted = {c["id"] for c in in_db}  # the whole sample archive belongs to the one article
    assert {c["id"] for c in captures} == wanted
    runs = {r["id"]: r for r in rows(made.archive, "SELECT * FROM runs")}
    for capture in captures:
        for key in (
            "url",
            "started_at",
            "ended_at",
            "status",
            "http_status",
            "peer_ip",
            "tool_version",
            "host",
            "options",
            "hashes",
            "records",
            "redirects",
        ):
            assert key in capture, key
        run = runs[capture["run"]]
        assert capture["tool_version"] == run["tool_version"]
        assert capture["host"] == run["host"]
        assert capture["options"] == json.loads(run["options"])
        if capture["status"] == "captured":
            assert capture["peer_ip"] == "127.0.0.1"
            assert capture["hashes"]["payload_sha256"]
    roles = provenance["selection"]["urls"]
    assert roles[made.article] == "article"
    assert roles[made.sources["intercept"]] == "source"
    assert roles[made.sources["moved_to"]] == "source"  # tracked after the move
    moved = [c for c in captures if c["url"] == made.sources["briefing"]]
    assert [len(c["redirects"]) for c in moved] == [0, 1]
    outcomes = {(c["url"], c["outcome"]) for c in provenance["check_outcomes"]}
    assert (made.sources["intercept"], "edited") in outcomes
    assert (made.sources["interview"], "gone") in outcomes
    article = next(c for c in captures if c["url"] == made.article)
    assert [c["url"] for c in article["citations"]][:1] == [made.sources["briefing"]]
    assert all(w["identical_to_source"] for w in provenance["warc_files"])


@pytest.mark.replay
@pytest.mark.skipif(not replay_available, reason="pywb is not installed")
def test_pywb_replays_the_article_and_sources_from_the_package(made: Made, tmp_path: Path) -> None:
    with pywb(tmp_path / "pywb", made.package, unpack_wacz=True) as base:

        def replay(capture: dict[str, Any]) -> requests.Response:
            ts = capture["started_at"].replace("-", "").replace("T", "").replace(":", "")[:14]
            return requests.get(f"{base}/{ts}id_/{capture['url']}", timeout=20,
                                headers={"Accept-Encoding": "identity"})  # fmt: skip

        def archived(capture: dict[str, Any]) -> bytes:
            record = read_record(made.archive / "warcs" / capture["warc"], capture["offset"],
                                 capture["length"])  # fmt: skip
            if record.rec_type == "revisit":
                original = rows(made.archive, "SELECT * FROM records WHERE record_id = ?",
                                (record.header("WARC-Refers-To"),))[0]  # fmt: skip
                record = read_record(made.archive / "warcs" / original["warc"],
                                     original["offset"], original["length"])  # fmt: skip
            return record.payload

        article = rows(made.archive, "SELECT * FROM captures WHERE url = ? ORDER BY id",
                       (made.article,))  # fmt: skip
        assert [c["record_type"] for c in article] == ["response", "revisit"]
        for capture in article:  # the response, and the revisit through its original
            reply = replay(capture)
            assert reply.status_code == 200
            assert reply.content == archived(capture)
            assert reply.headers["Content-Type"].startswith("text/html")
        edited = rows(made.archive, "SELECT * FROM captures WHERE url = ? ORDER BY id",
                      (made.sources["intercept"],))  # fmt: skip
        bodies = [replay(c).content for c in edited]
        assert bodies == [archived(c) for c in edited]
        assert bodies[0] != bodies[1]  # each version at its own time
        assert b"did not say" in bodies[1] and b"did not say" not in bodies[0]


def test_verify_package_with_the_tsa_root(made: Made) -> None:
    result = verify(made.package, "--tsa-root", str(made.tsa.root),
                    "--public-key", str(made.public_key))  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in ("files", "structure", "records", "digest", "signature", "timestamp"):
        assert any(line.startswith(f"ok    {name} ") for line in lines), (name, result.output)
    assert "chain verified to a given root" in result.output
    assert "(the expected key)" in result.output
    assert "does not prove who that is" in result.output  # what a signature does not prove
    assert result.output.rstrip().endswith("OK: every check passed.")


def test_verify_package_json(made: Made) -> None:
    result = verify(made.package, "--json", "--tsa-root", str(made.tsa.root))
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["problems"] == []
    assert {c["check"] for c in document["checks"]} >= {"files", "digest", "signature", "timestamp"}
    assert all(c["proves"] for c in document["checks"] if c["status"] == "ok")


def test_without_a_root_a_token_is_only_self_consistent(made: Made) -> None:
    result = verify(made.package)
    assert result.exit_code == 0, result.output
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("warn  timestamp")]
    assert "self-consistent only" in line and "--tsa-root" in line


def test_keygen_writes_a_private_key_only_its_owner_reads(made: Made, preserve: Preserve) -> None:
    assert made.key.stat().st_mode & 0o777 == 0o600
    assert "BEGIN PUBLIC KEY" in made.public_key.read_text()
    result = preserve.run(None, "keygen", "--out", str(made.key))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {made.key} already exists (a key is never overwritten)"
