"""Evidence packages: each kind of tampering and fault, found and named."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import struct
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from preserve.evidence import keys, timestamps
from tests.evidence.helpers import (
    BIN,
    Made,
    digest_doc,
    failures,
    members,
    rewrite,
    rows,
    verify,
    with_digest_doc,
)
from tests.support.cli import Preserve
from tests.support.tsa import LocalTSA


@pytest.mark.replay
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


def test_export_refuses_bad_input_and_writes_nothing(made: Made, preserve: Preserve) -> None:
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
        result = preserve.run(archive, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.strip() == message
        assert not out.exists()


def test_an_unreachable_tsa_fails_the_export_and_writes_nothing(
    made: Made, preserve: Preserve
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/tsr"
    out = made.root / "no-tsa.wacz"
    result = preserve.run(
        str(made.archive), "export", made.article, "--wacz", str(out), "--timestamp", dead
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: time-stamping authority {dead}: ConnectionError"
    assert not out.exists() and not out.with_name(out.name + ".part").exists()


def test_export_json_and_a_package_without_signature(made: Made, preserve: Preserve) -> None:
    out = made.root / "plain.wacz"
    result = preserve.run(str(made.archive), "export", made.article, "--wacz", str(out), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["signed_by"] is None and document["timestamps"] == []
    assert document["digest"] == digest_doc(out)["hash"]
    verdict = verify(out)
    assert verdict.exit_code == 0
    assert "info  signature  the package is not signed" in verdict.output
    # asking for a signer's key makes an unsigned package a failure
    assert verify(out, "--public-key", str(made.public_key)).exit_code == 1


def test_a_missing_warc_file_fails_the_export_with_its_name(
    made: Made, tmp_path: Path, preserve: Preserve
) -> None:
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
    result = preserve.run(str(archive), "export", made.article, "--wacz", str(out))
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


def test_tokens_from_several_authorities(made: Made, preserve: Preserve) -> None:
    second = LocalTSA(made.root / "second-tsa", name="Second")
    try:
        out = made.root / "two-tsas.wacz"
        result = preserve.run(
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
