"""Trusted time for evidence packages: RFC 3161 time-stamp tokens requested and checked.

A token's message imprint is SHA-256 over the bytes of `datapackage.json`, i.e. the package
digest (so `openssl ts -verify -data datapackage.json` checks them too). A token proves that
the digest existed at its time, and is trustworthy only when its certificate chains to a
root the verifier trusts; without one, a token is checked only for self-consistency.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import rfc3161_client
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from preserve import USER_AGENT
from preserve.errors import PreserveError, UsageError
from preserve.evidence.der import read_signer

TSA_TIMEOUT = 30.0

_OID_RSA_PSS = "1.2.840.113549.1.1.10"
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256(),
    "2.16.840.1.101.3.4.2.2": hashes.SHA384(),
    "2.16.840.1.101.3.4.2.3": hashes.SHA512(),
}
_HASH_NAMES = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
               "2.16.840.1.101.3.4.2.3": "sha512"}  # fmt: skip


class TimestampError(PreserveError):
    """Raised when a time-stamping authority gives no usable token."""


@dataclass(frozen=True)
class TokenInfo:
    """What a token says, read from it (not yet trusted)."""

    gen_time: datetime
    serial: int
    policy: str
    imprint: str  # "<alg>:<hex>"
    nonce: int | None
    signer: str  # subject of the embedded signer certificate, or "" if none


def request_token(
    url: str, data: bytes, *, timeout: float = TSA_TIMEOUT, session: requests.Session | None = None
) -> bytes:
    """An RFC 3161 time-stamp response (DER) from the TSA at `url` over SHA-256(`data`),
    checked: granted, for this imprint and nonce, and signed by its embedded certificate.
    The URL is typed by the user, so the private-address guard does not apply."""
    request = (rfc3161_client.TimestampRequestBuilder().data(data)
               .hash_algorithm(rfc3161_client.HashAlgorithm.SHA256)
               .nonce(nonce=True).cert_request(cert_request=True).build())  # fmt: skip
    http = session or requests.Session()
    try:
        reply = http.post(
            url,
            data=request.as_bytes(),
            timeout=timeout,
            headers={
                "Content-Type": "application/timestamp-query",
                "User-Agent": USER_AGENT,
                "Accept": "application/timestamp-reply",
            },
        )
    except requests.RequestException as exc:
        raise TimestampError(f"time-stamping authority {url}: {type(exc).__name__}") from exc
    finally:
        if session is None:
            http.close()
    if reply.status_code != 200:
        raise TimestampError(f"time-stamping authority {url} answered HTTP {reply.status_code}")
    token = reply.content
    try:
        info = inspect_token(token)
    except ValueError as exc:
        raise TimestampError(f"time-stamping authority {url}: {exc}") from exc
    expected = "sha256:" + hashlib.sha256(data).hexdigest()
    if info.imprint != expected:
        raise TimestampError(
            f"time-stamping authority {url} stamped {info.imprint}, not {expected}"
        )
    if info.nonce != request.nonce:
        raise TimestampError(f"time-stamping authority {url} answered with another nonce")
    problem = _self_consistency(rfc3161_client.decode_timestamp_response(token))
    if problem:
        raise TimestampError(f"time-stamping authority {url}: {problem}")
    return token


def inspect_token(token: bytes) -> TokenInfo:
    """Parse a time-stamp response; ValueError if it is not a granted one."""
    try:
        response = rfc3161_client.decode_timestamp_response(token)
    except Exception as exc:  # the Rust parser raises its own types
        raise ValueError("not an RFC 3161 time-stamp response") from exc
    if response.status not in (rfc3161_client.PKIStatus.GRANTED,
                               rfc3161_client.PKIStatus.GRANTED_WITH_MODS):  # fmt: skip
        text = "; ".join(response.status_string) or "no reason given"
        raise ValueError(f"time-stamp request not granted (status {response.status}: {text})")
    tst = response.tst_info
    imprint = tst.message_imprint
    algorithm = _HASH_NAMES.get(
        imprint.hash_algorithm.dotted_string, imprint.hash_algorithm.dotted_string
    )
    signer = _signer_certificate(response)
    return TokenInfo(
        gen_time=tst.gen_time,
        serial=tst.serial_number,
        policy=tst.policy.dotted_string,
        imprint=f"{algorithm}:{imprint.message.hex()}",
        nonce=tst.nonce,
        signer=signer.subject.rfc4514_string() if signer is not None else "",
    )


@dataclass(frozen=True)
class TokenCheck:
    """The verdict on one token."""

    ok: bool
    trusted: bool  # the signer's certificate chains to a given root
    detail: str
    info: TokenInfo | None = None


def check_token(token: bytes, data: bytes, roots: Sequence[x509.Certificate]) -> TokenCheck:
    """Does `token` stamp SHA-256(`data`)? With `roots`, the full RFC 3161 verification
    (signature, certificate chain to one of the roots valid at the token's time, the
    time-stamping key usage); without, only self-consistency (the signature verifies with the
    certificate embedded in the token)."""
    try:
        info = inspect_token(token)
    except ValueError as exc:
        return TokenCheck(False, False, str(exc))
    expected = "sha256:" + hashlib.sha256(data).hexdigest()
    if info.imprint != expected:
        return TokenCheck(
            False,
            False,
            f"the token is for {info.imprint}, not this package's digest {expected}",
            info,
        )
    response = rfc3161_client.decode_timestamp_response(token)
    problem = _self_consistency(response)
    if problem:
        return TokenCheck(False, False, problem, info)
    if not roots:
        return TokenCheck(
            True,
            False,
            "self-consistent only: no --tsa-root given, so nothing "
            "ties its certificate to an authority you trust",
            info,
        )
    builder = rfc3161_client.VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, data)
    except rfc3161_client.VerificationError as exc:
        return TokenCheck(False, False, f"does not verify against the given root(s): {exc}", info)
    return TokenCheck(True, True, "signature and certificate chain verified to a given root", info)


def load_roots(paths: Sequence[Path]) -> list[x509.Certificate]:
    """Every certificate in the given PEM (or DER) files."""
    roots: list[x509.Certificate] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read --tsa-root {path}: {exc.strerror}") from exc
        try:
            found = (x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                     else [x509.load_der_x509_certificate(data)])  # fmt: skip
        except ValueError as exc:
            raise UsageError(f"--tsa-root {path} holds no certificate") from exc
        roots.extend(found)
    return roots


def _signer_certificate(response: Any) -> x509.Certificate | None:
    signer_infos = list(response.signed_data.signer_infos)
    if len(signer_infos) != 1:
        return None
    (signer_info,) = signer_infos
    for der in response.signed_data.certificates:
        cert = x509.load_der_x509_certificate(der)
        if cert.issuer == signer_info.issuer and cert.serial_number == signer_info.serial_number:
            return cert
    return None


def _self_consistency(response: Any) -> str | None:
    """Why the token's CMS signature does not verify with its embedded signer certificate
    (messageDigest attribute = hash of the TSTInfo; signature over the signed attributes),
    or None if it does. Says nothing about whether that certificate is to be trusted."""
    cert = _signer_certificate(response)
    if cert is None:
        return "the token embeds no certificate of its signer (cannot check its signature)"
    try:
        signer = read_signer(response.time_stamp_token())
    except (IndexError, ValueError) as exc:
        return f"cannot read the token's signed data ({exc})"
    digest_alg = _HASHES.get(signer.digest_oid)
    if digest_alg is None:
        return f"unsupported digest algorithm {signer.digest_oid} in the token"
    content_digest = hashes.Hash(digest_alg)
    content_digest.update(signer.content)
    if signer.message_digest != content_digest.finalize():
        return "the token's messageDigest does not match its TSTInfo (the token was altered)"
    public = cert.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signer.signature, signer.signed_attrs, ec.ECDSA(digest_alg))
        elif isinstance(public, rsa.RSAPublicKey) and signer.signature_oid != _OID_RSA_PSS:
            public.verify(signer.signature, signer.signed_attrs, padding.PKCS1v15(), digest_alg)
        else:
            return "unsupported signature algorithm in the token (RSA-PSS or another key type)"
    except InvalidSignature:
        return "the token's signature does not verify with its own certificate (altered token)"
    return None
