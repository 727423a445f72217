"""Evidence packages: `export` (WACZ 1.1.1 with provenance, signature, RFC 3161 tokens from a
local openssl TSA), `keygen`, `verify-package`; `wacz validate` and pywb replay of an exported
package; and each kind of tampering, found and named."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import surt
from click.testing import CliRunner, Result

from preserve.cli.main import cli
from preserve.config import load_config
from preserve.demo.sample import SampleWeb
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.engine.check import check_targets
from preserve.evidence import keys, timestamps
from preserve.times import utc_now
from preserve.warc.reader import read_record
from preserve.warc.scan import strict_check
from tests.support.replay import AVAILABLE as replay_available
from tests.support.replay import pywb
from tests.support.tsa import OPENSSL, LocalTSA

BIN = Path(sys.executable).parent
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


@dataclass
class Made:
    """An archive with a capture and (a day later) a check of the sample web, a signing key,
    a local TSA, and one package exported from it, signed and time-stamped."""

    root: Path
    archive: Path
    article: str
    sources: dict[str, str]  # name -> url
    key: Path
    public_key: Path
    tsa: LocalTSA
    package: Path
    export_output: str


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def rows(archive: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with sqlite3.connect(archive / "preserve.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, params)]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    if OPENSSL is None:
        pytest.skip("openssl is not installed")
    root = tmp_path_factory.mktemp("evidence")
    archive_path = root / "archive"
    web = SampleWeb()
    try:
        config = load_config(archive_path, allow_private=True, timeout=5.0)
        archive = Archive(archive_path)
        try:
            run = Run(archive, "capture", config, utc_now, {"urls": [web.article_url]})
            capture_articles(run, [web.article_url], every_seconds=86400)
            run.finish()
            web.change()
            # The check runs "a day later", so its records get their own CDXJ timestamps.
            run = Run(archive, "check", config, lambda: utc_now() + timedelta(days=1),
                      {"urls": []})  # fmt: skip
            check_targets(run, archive.store.targets())
            run.finish()
        finally:
            archive.close()
        sources = {"intercept": web.wire.base + "/2016/10/intercept-report",
                   "interview": web.wire.base + "/interviews/field-commander",
                   "briefing": web.gov.base + "/statements/2016/10/haddad-briefing",
                   "moved_to": web.gov.base + "/statements/archive/2016/haddad-briefing",
                   "pdf": web.gov.base + "/docs/annex-2015.pdf"}  # fmt: skip
        article = web.article_url
    finally:
        web.close()
    tsa = LocalTSA(root / "tsa")
    key = root / "signing.pem"
    result = invoke("keygen", "--out", str(key))
    assert result.exit_code == 0, result.output
    package = root / "evidence.wacz"
    result = invoke(
        "--archive",
        str(archive_path),
        "export",
        article,
        "--wacz",
        str(package),
        "--sign",
        str(key),
        "--timestamp",
        tsa.url,
    )
    assert result.exit_code == 0, (result.output, result.exception)
    yield Made(
        root,
        archive_path,
        article,
        sources,
        key,
        root / "signing.pub.pem",
        tsa,
        package,
        result.output,
    )
    tsa.close()


def members(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as z:
        return {name: z.read(name) for name in z.namelist()}


def rewrite(package: Path, out: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """A copy of the package, each file passed through `change` (the ZIP itself stays sound:
    this is someone editing files, not a damaged disk)."""
    with zipfile.ZipFile(package) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change(info.filename, zin.read(info.filename)))
    return out


def verify(package: Path, *options: str) -> Result:
    result = invoke("verify-package", str(package), *options)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def failures(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("fail ")]


def digest_doc(package: Path) -> dict[str, Any]:
    return json.loads(members(package)["datapackage-digest.json"])


def with_digest_doc(made: Made, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    def change(filename: str, data: bytes) -> bytes:
        if filename != "datapackage-digest.json":
            return data
        document = json.loads(data)
        edit(document)
        return json.dumps(document).encode()

    return rewrite(made.package, made.root / name, change)


# --- the happy path ---------------------------------------------------------------------------


def test_export_reports_what_it_wrote(made: Made) -> None:
    out = made.export_output
    assert f"Wrote {made.package}" in out
    assert "signed by key sha256:" in out
    assert "time-stamped " in out and made.tsa.url in out
    assert made.tsa.queries == 1


def test_every_export_is_logged_in_the_archives_hash_chain(made: Made, tmp_path: Path) -> None:
    """The chain of custody: which package was made from the archive,
    when, by which host and tool, signed by which key: by the package's sha256, in the hash
    chain, so that the archive itself shows what was handed over."""
    assert "logged in the archive as export 1: chain entry " in made.export_output
    out = made.root / "logged.wacz"
    result = invoke("--archive", str(made.archive), "export", made.article, "--wacz", str(out),
                    "--json")  # fmt: skip
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
    checked = invoke("--archive", str(made.archive), "verify", "--head", logged["chain_head"])
    assert checked.exit_code == 0, checked.output

    # A log of exports rewritten afterwards is caught like any other row.
    copy = tmp_path / "copy"
    shutil.copytree(made.archive, copy)
    db = sqlite3.connect(copy / "preserve.db")
    db.execute("UPDATE exports SET sha256 = ? WHERE id = ?", ["0" * 64, logged["export_id"]])
    db.commit()
    db.close()
    tampered = invoke("--archive", str(copy), "verify", "--json")
    assert tampered.exit_code == 1
    problems = json.loads(tampered.stdout)["problems"]
    assert [p["kind"] for p in problems] == ["row-edited"], problems
    assert "exports row" in problems[0]["detail"]


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


def test_keygen_writes_a_private_key_only_its_owner_reads(made: Made) -> None:
    assert made.key.stat().st_mode & 0o777 == 0o600
    assert "BEGIN PUBLIC KEY" in made.public_key.read_text()
    result = invoke("keygen", "--out", str(made.key))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {made.key} already exists (a key is never overwritten)"


# --- tampering and faults ---------------------------------------------------------------------


def test_a_changed_warc_is_named(made: Made) -> None:
    def flip(name: str, data: bytes) -> bytes:
        if name.startswith("archive/") and name.endswith(".warc.gz") and "flipped" not in seen:
            seen.append("flipped")
            changed = bytearray(data)
            changed[len(data) // 2] ^= 0x01
            return bytes(changed)
        return data

    seen: list[str] = []
    changed = rewrite(made.package, made.root / "changed.wacz", flip)
    name = next(n for n in members(made.package) if n.startswith("archive/"))
    result = verify(changed, "--tsa-root", str(made.tsa.root))
    assert result.exit_code == 1
    problems = failures(result)
    assert any(
        p.startswith(f"fail  files      hash mismatch: {name} has sha256:")
        and "datapackage.json says sha256:" in p
        for p in problems
    ), result.output
    assert result.output.rstrip().splitlines()[-1].startswith("FAILED:")
    wacz = BIN / "wacz"
    if wacz.exists():  # and py-wacz agrees
        rc = subprocess.run([str(wacz), "validate", "-f", str(changed)], capture_output=True,
                            timeout=120).returncode  # fmt: skip
        assert rc == 1


def test_a_byte_flipped_in_the_zip_itself_is_named(made: Made) -> None:
    data = bytearray(made.package.read_bytes())
    with zipfile.ZipFile(made.package) as z:
        info = next(i for i in z.infolist() if i.filename.startswith("archive/"))
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length  # the stored file's bytes
    data[start + info.compress_size // 2] ^= 0x01
    damaged = made.root / "damaged.wacz"
    damaged.write_bytes(bytes(data))
    result = verify(damaged)
    assert result.exit_code == 1
    assert f"fail  files      {info.filename} is damaged in the ZIP (Bad CRC-32" in result.output


def test_a_tampered_signature_is_named(made: Made) -> None:
    def edit(document: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(document["signedData"]["signature"]))
        raw[10] ^= 0x01
        document["signedData"]["signature"] = base64.b64encode(bytes(raw)).decode()

    result = verify(with_digest_doc(made, "bad-signature.wacz", edit))
    assert result.exit_code == 1
    assert failures(result) == [
        "fail  signature  the signature does not verify with its public key over the package digest"
    ]


def test_a_changed_datapackage_is_named(made: Made) -> None:
    files = members(made.package)
    datapackage = json.loads(files["datapackage.json"])
    datapackage["title"] = "Something else"
    new = json.dumps(datapackage).encode()
    new_digest = "sha256:" + hashlib.sha256(new).hexdigest()
    old_digest = json.loads(files["datapackage-digest.json"])["hash"]

    def change_only_datapackage(name: str, data: bytes) -> bytes:
        return new if name == "datapackage.json" else data

    result = verify(rewrite(made.package, made.root / "dp.wacz", change_only_datapackage))
    assert result.exit_code == 1
    assert (
        f"fail  digest     datapackage.json is {new_digest}, but datapackage-digest.json "
        f"says {old_digest}"
    ) in failures(result)

    def change_datapackage_and_digest(name: str, data: bytes) -> bytes:
        if name == "datapackage-digest.json":
            document = json.loads(data)
            document["hash"] = new_digest
            return json.dumps(document).encode()
        return change_only_datapackage(name, data)

    result = verify(rewrite(made.package, made.root / "dp2.wacz", change_datapackage_and_digest),
                    "--tsa-root", str(made.tsa.root))  # fmt: skip
    assert result.exit_code == 1
    problems = failures(result)
    assert (
        f"fail  signature  the signature is over {old_digest}, not this package's digest "
        f"{new_digest}"
    ) in problems
    assert any(
        p.startswith(
            f"fail  timestamp  token 1 ({made.tsa.url}): the token is for "
            f"{old_digest}, not this package's digest {new_digest}"
        )
        for p in problems
    ), problems


def test_a_token_for_another_digest_is_named(made: Made) -> None:
    other = timestamps.request_token(made.tsa.url, b"some other datapackage")
    other_imprint = "sha256:" + hashlib.sha256(b"some other datapackage").hexdigest()

    def edit(document: dict[str, Any]) -> None:
        document["timestamps"][0]["token"] = base64.b64encode(other).decode()

    package = with_digest_doc(made, "other-token.wacz", edit)
    digest = digest_doc(package)["hash"]
    result = verify(package, "--tsa-root", str(made.tsa.root))
    assert result.exit_code == 1
    assert failures(result) == [
        f"fail  timestamp  token 1 ({made.tsa.url}): the token is for "
        f"{other_imprint}, not this package's digest {digest}"
    ]


def test_an_altered_token_is_named(made: Made) -> None:
    def edit(document: dict[str, Any]) -> None:
        token = bytearray(base64.b64decode(document["timestamps"][0]["token"]))
        token[-3] ^= 0x01  # inside the signature value at the end of the SignerInfo
        document["timestamps"][0]["token"] = base64.b64encode(bytes(token)).decode()

    result = verify(with_digest_doc(made, "altered-token.wacz", edit))
    assert result.exit_code == 1
    assert failures(result) == [
        f"fail  timestamp  token 1 ({made.tsa.url}): the token's "
        "signature does not verify with its own certificate (altered "
        "token)"
    ]


def test_a_token_from_an_untrusted_tsa_is_named(made: Made) -> None:
    other = LocalTSA(made.root / "other-tsa", name="Other")
    try:
        result = verify(made.package, "--tsa-root", str(other.root))
    finally:
        other.close()
    assert result.exit_code == 1
    (problem,) = failures(result)
    assert problem.startswith(
        f"fail  timestamp  token 1 ({made.tsa.url}): does not verify against the given root(s)"
    )


def test_a_package_signed_by_another_key_is_named(made: Made) -> None:
    other = made.root / "other-key.pem"
    keys.generate_key(other)
    expected = keys.fingerprint(keys.public_key_b64(keys.load_private_key(other)))
    result = verify(made.package, "--public-key", str(other))
    assert result.exit_code == 1
    (problem,) = failures(result)
    assert problem.startswith("fail  signature  signed by key sha256:")
    assert problem.endswith(f"not by the expected key {expected}")


def test_not_a_package(made: Made) -> None:
    junk = made.root / "junk.wacz"
    junk.write_bytes(b"not a zip at all")
    result = verify(junk)
    assert result.exit_code == 1
    assert failures(result) == ["fail  files      not a readable ZIP file (File is not a zip file)"]


def test_export_refuses_bad_input_and_writes_nothing(made: Made) -> None:
    archive = str(made.archive)
    out = made.root / "nothing.wacz"
    cases = [
        (
            ["export", "http://127.0.0.1:9/never-captured", "--wacz", str(out)],
            "Error: nothing archived for http://127.0.0.1:9/never-captured (capture it first)",
        ),
        (
            ["export", made.article, "--wacz", str(made.package)],
            f"Error: {made.package} already exists (use --force to overwrite it)",
        ),
        (
            ["export", made.article, "--wacz", str(out), "--sign", str(made.public_key)],
            f"Error: {made.public_key} is not an unencrypted PEM private key",
        ),
        (
            ["export", made.article, "--wacz", str(out), "--timestamp", "ftp://tsa.example/"],
            "Error: --timestamp 'ftp://tsa.example/' is not an http(s) URL",
        ),
    ]
    for args, message in cases:
        result = invoke("--archive", archive, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.strip() == message
        assert not out.exists()


def test_an_unreachable_tsa_fails_the_export_and_writes_nothing(made: Made) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/tsr"
    out = made.root / "no-tsa.wacz"
    result = invoke("--archive", str(made.archive), "export", made.article, "--wacz", str(out),
                    "--timestamp", dead)  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: time-stamping authority {dead}: ConnectionError"
    assert not out.exists() and not out.with_name(out.name + ".part").exists()


def test_export_json_and_a_package_without_signature(made: Made) -> None:
    out = made.root / "plain.wacz"
    result = invoke("--archive", str(made.archive), "export", made.article, "--wacz", str(out),
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["signed_by"] is None and document["timestamps"] == []
    assert document["digest"] == digest_doc(out)["hash"]
    verdict = verify(out)
    assert verdict.exit_code == 0
    assert "info  signature  the package is not signed" in verdict.output
    # asking for a signer's key makes an unsigned package a failure
    assert verify(out, "--public-key", str(made.public_key)).exit_code == 1


def test_a_missing_warc_file_fails_the_export_with_its_name(made: Made, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(made.archive, archive)
    (missing,) = [
        r["warc"]
        for r in rows(
            archive, "SELECT warc FROM captures WHERE url = ? ORDER BY id LIMIT 1", (made.article,)
        )
    ]
    (archive / "warcs" / missing).unlink()
    out = tmp_path / "out.wacz"
    result = invoke("--archive", str(archive), "export", made.article, "--wacz", str(out))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: cannot read the WARC file {missing} that records "
        "of these captures are in (no such WARC file: "
        f"{archive / 'warcs' / missing}); run `preserve verify`"
    )
    assert not out.exists()


def test_hash_chain_entries_of_the_rows_go_into_the_provenance(made: Made) -> None:
    chain_log = pytest.importorskip("preserve.store.chain")
    provenance = json.loads(members(made.package)["provenance/provenance.json"])
    chain = provenance["chain"]
    entries = {(e["table_name"], e["row_id"]): e for e in chain["entries"]}
    for capture in provenance["captures"]:
        entry = entries[("captures", str(capture["id"]))]
        assert entry["row"]["payload_sha256"] == capture["hashes"]["payload_sha256"]
        assert (
            chain_log.entry_hash(entry["prev_hash"], "captures", entry["row"])
            == (entry["entry_hash"])
        )
    for check in provenance["check_outcomes"]:
        assert ("checks", str(check["id"])) in entries
    for warc in provenance["warc_files"]:
        assert (
            entries[("warc_files", warc["copied_from"])]["row"]["sha256"] == (warc["source_sha256"])
        )
    # the head is the archive's head at export time, as `preserve verify` prints it: the
    # entry just before the one that logged this export
    (logged,) = rows(
        made.archive, "SELECT prev_hash FROM chain WHERE table_name = 'exports' AND row_id = '1'"
    )
    (head,) = rows(made.archive, "SELECT * FROM chain WHERE entry_hash = ?", (logged["prev_hash"],))
    assert chain["head"]["entry_hash"] == head["entry_hash"]
    result = verify(made.package)
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("ok    chain")]
    assert f"chain head {head['entry_hash']}" in line


def repackage(made: Made, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """The package with provenance.json edited and every hash after it redone (the
    datapackage, the digest; the signature and tokens dropped): a forger's copy."""
    files = members(made.package)
    provenance = json.loads(files["provenance/provenance.json"])
    edit(provenance)
    files["provenance/provenance.json"] = json.dumps(provenance).encode()
    datapackage = json.loads(files["datapackage.json"])
    for resource in datapackage["resources"]:
        data = files[resource["path"]]
        resource["hash"] = "sha256:" + hashlib.sha256(data).hexdigest()
        resource["bytes"] = len(data)
    files["datapackage.json"] = json.dumps(datapackage).encode()
    files["datapackage-digest.json"] = json.dumps(
        {
            "path": "datapackage.json",
            "hash": "sha256:" + hashlib.sha256(files["datapackage.json"]).hexdigest(),
        }
    ).encode()
    return rewrite(made.package, made.root / name, lambda filename, _: files[filename])


def test_a_provenance_rewritten_to_disagree_with_the_chain_is_named(made: Made) -> None:
    pytest.importorskip("preserve.store.chain")
    forged = "0" * 64

    def edit_capture(provenance: dict[str, Any]) -> None:
        provenance["captures"][0]["hashes"]["payload_sha256"] = forged

    capture_id = json.loads(members(made.package)["provenance/provenance.json"])["captures"][0][
        "id"
    ]
    result = verify(repackage(made, "forged-capture.wacz", edit_capture))
    assert result.exit_code == 1
    assert failures(result) == [
        f"fail  chain      capture {capture_id} in provenance.json "
        "differs from its logged row: payload_sha256"
    ]

    def edit_row(provenance: dict[str, Any]) -> None:
        provenance["captures"][0]["hashes"]["payload_sha256"] = forged
        entry = next(
            e
            for e in provenance["chain"]["entries"]
            if e["table_name"] == "captures" and e["row_id"] == str(capture_id)
        )
        entry["row"]["payload_sha256"] = forged
        seen.append(entry["seq"])

    seen: list[int] = []
    result = verify(repackage(made, "forged-row.wacz", edit_row))
    assert result.exit_code == 1
    assert failures(result) == [
        f"fail  chain      chain entry {seen[0]} (captures {capture_id})"
        " does not hash to its entry_hash: the row in provenance.json "
        "is not the row that was logged"
    ]


def test_tokens_from_several_authorities(made: Made) -> None:
    second = LocalTSA(made.root / "second-tsa", name="Second")
    try:
        out = made.root / "two-tsas.wacz"
        result = invoke(
            "--archive",
            str(made.archive),
            "export",
            made.article,
            "--wacz",
            str(out),
            "--timestamp",
            made.tsa.url,
            "--timestamp",
            second.url,
        )
        assert result.exit_code == 0, result.output
    finally:
        second.close()
    assert [s["tsa"] for s in digest_doc(out)["timestamps"]] == [made.tsa.url, second.url]
    both = verify(out, "--tsa-root", str(made.tsa.root), "--tsa-root", str(second.root))
    assert both.exit_code == 0, both.output
    assert [
        ln.split(":")[0] for ln in both.output.splitlines() if ln.startswith("ok    timestamp")
    ] == ["ok    timestamp  token 1 (http", "ok    timestamp  token 2 (http"]
    one = verify(out, "--tsa-root", str(made.tsa.root))
    assert one.exit_code == 1
    (problem,) = failures(one)
    assert problem.startswith(f"fail  timestamp  token 2 ({second.url}): does not verify")
