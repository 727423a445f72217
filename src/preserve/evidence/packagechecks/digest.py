"""Checks of a package's digest, and of the signature and time-stamps that vouch for it.

`datapackage-digest.json` must name the datapackage's sha256; the signature and each RFC
3161 time-stamp token must be over that digest."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from cryptography import x509

from preserve.evidence.keys import fingerprint
from preserve.evidence.layout import DATAPACKAGE, DIGEST
from preserve.evidence.packagechecks.report import PackageReport, read_member
from preserve.evidence.signatures import verify_signed_data
from preserve.evidence.timestamps import check_token

_PROVES_DIGEST = (
    "datapackage.json is the one named by the package digest, so the digest covers "
    "every listed file."
)

_PROVES_SIGNATURE = (
    "Whoever holds the private key of this public key signed this package digest: "
    "they attest to this exact package. It does not prove who that is (compare "
    "the key's fingerprint with one obtained independently, or pass "
    "--public-key), nor when they signed ('created' is their own claim), nor "
    "that the web server sent these bytes."
)

_PROVES_TIMESTAMP = (
    "The time-stamping authority attests that this package digest, and so every "
    "file in the package, existed at the token's time. Trustworthy only if the "
    "token verifies to a root you trust (--tsa-root). It does not say who made the "
    "package or that the content is what the server sent."
)


def check_digest(
    package: zipfile.ZipFile, names: list[str], digest: str, report: PackageReport
) -> dict[str, Any] | None:
    """`datapackage-digest.json` names the datapackage by its sha256 (`digest`); the document,
    for the checks of what it carries, or None if it cannot be read."""
    if DIGEST not in names:
        report.add("digest", "fail", f"{DIGEST} is missing: nothing fixes the package digest")
        return None
    raw = read_member(package, DIGEST, report, "digest")
    try:
        document = json.loads(raw) if raw is not None else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        report.add("digest", "fail", f"{DIGEST} is not a JSON object")
        return None
    if document.get("path") != DATAPACKAGE:
        report.add("digest", "fail", f"{DIGEST} names {document.get('path')!r}, not {DATAPACKAGE}")
    elif document.get("hash") != digest:
        report.add(
            "digest",
            "fail",
            f"datapackage.json is {digest}, but {DIGEST} says {document.get('hash')}",
        )
    else:
        report.add(
            "digest", "ok", f"datapackage.json is {digest}, as {DIGEST} says", _PROVES_DIGEST
        )
    return document


def check_signature(
    document: dict[str, Any],
    digest: str,
    datapackage: dict[str, Any],
    public_key: str | None,
    report: PackageReport,
) -> None:
    """The signature in the digest document is over `digest`, made with its public key
    (with `public_key`: that key), and dated as the datapackage is."""
    signed = document.get("signedData")
    if signed is None:
        status = "fail" if public_key else "info"
        report.add("signature", status, "the package is not signed")
        return
    problem = verify_signed_data(signed, digest)
    if problem:
        report.add("signature", "fail", problem)
        return
    key = fingerprint(signed["publicKey"])
    if signed.get("created") != datapackage.get("created"):
        report.add(
            "signature",
            "fail",
            f"signedData.created {signed.get('created')!r} differs "
            f"from datapackage created {datapackage.get('created')!r}",
        )
        return
    if public_key is not None and signed["publicKey"] != public_key:
        report.add(
            "signature",
            "fail",
            f"signed by key {key}, not by the expected key {fingerprint(public_key)}",
        )
        return
    expected = " (the expected key)" if public_key is not None else ""
    report.add(
        "signature",
        "ok",
        f"ECDSA P-256 signature of {digest} by key {key}{expected}, "
        f"created {signed.get('created')} (claimed by the signer)",
        _PROVES_SIGNATURE,
    )


def check_timestamps(
    document: dict[str, Any],
    datapackage_bytes: bytes,
    roots: Sequence[x509.Certificate],
    report: PackageReport,
) -> None:
    """Each time-stamp token in the digest document stamps the datapackage's bytes (and,
    with `roots`, chains to one of them)."""
    stamps = document.get("timestamps")
    if not stamps:
        report.add("timestamp", "fail" if roots else "info", "the package has no time-stamp token")
        return
    if not isinstance(stamps, list):
        report.add("timestamp", "fail", "timestamps is not a list")
        return
    for number, stamp in enumerate(stamps, 1):
        tsa = stamp.get("tsa", "?") if isinstance(stamp, dict) else "?"
        label = f"token {number} ({tsa})"
        try:
            token = base64.b64decode(stamp["token"], validate=True)
        except (KeyError, TypeError, ValueError):
            report.add("timestamp", "fail", f"{label}: no base64 token")
            continue
        verdict = check_token(token, datapackage_bytes, roots)
        if not verdict.ok:
            report.add("timestamp", "fail", f"{label}: {verdict.detail}")
            continue
        info = verdict.info
        assert info is not None
        when = info.gen_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status = "ok" if verdict.trusted else "warn"
        report.add(
            "timestamp",
            status,
            f"{label}: {when} by {info.signer or 'unnamed TSA'}: {verdict.detail}",
            _PROVES_TIMESTAMP,
        )
