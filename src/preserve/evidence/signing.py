"""Keys, signatures and trusted time for evidence packages.

Signature: the anonymous form of the WACZ signing spec (wacz-auth 0.1.0): ECDSA P-256 with
SHA-256 over the ASCII string `sha256:<hex>` of `datapackage.json`, stored in
`datapackage-digest.json` as `signedData = {hash, created, software, version, signature,
publicKey}`. The signature is base64 of the raw 64-byte r||s form (what WebCrypto, and so
ArchiveWeb.page and ReplayWeb.page, produce and expect); the public key is base64 of its DER
SubjectPublicKeyInfo. Verification accepts r||s and DER signatures.

Trusted time: RFC 3161 tokens whose message imprint is the same digest, i.e. SHA-256 over the
bytes of `datapackage.json` (so `openssl ts -verify -data datapackage.json` checks them too).

What each proves is said where it is checked (`verify_signed_data`, `check_token`): a
signature proves only that the key holder attests to the digest; a token proves that the
digest existed at its time, and is trustworthy only when its certificate chains to a root the
verifier trusts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import rfc3161_client
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from preserve import USER_AGENT, __version__
from preserve.errors import PreserveError, UsageError

SOFTWARE = "preserve"
TSA_TIMEOUT = 30.0
_P256_BYTES = 32

# OIDs used by the minimal CMS reader below.
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
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


# --- keys ---------------------------------------------------------------------------------


def generate_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """A new ECDSA P-256 key, written to `path` as unencrypted PKCS#8 PEM, mode 0600. Refuses
    to overwrite an existing file."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())  # fmt: skip
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise UsageError(f"{path} already exists (a key is never overwritten)") from exc
    except OSError as exc:
        raise UsageError(f"cannot create {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    os.chmod(path, 0o600)  # whatever the umask said
    return key


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key in a PEM file (as `preserve keygen` writes it)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the key {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UsageError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise UsageError(f"{path} is not an ECDSA P-256 key (make one with `preserve keygen`)")
    return key


def public_key_b64(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    """Base64 of the DER SubjectPublicKeyInfo: the `publicKey` of an anonymous signature."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    return base64.b64encode(der).decode("ascii")


def fingerprint(public_b64: str) -> str:
    """`sha256:<hex>` of the DER public key: what to compare with a fingerprint obtained out
    of band."""
    try:
        der = base64.b64decode(public_b64, validate=True)
    except (binascii.Error, ValueError):
        der = public_b64.encode()
    return "sha256:" + hashlib.sha256(der).hexdigest()


def load_public_key_arg(value: str) -> str:
    """A public key the user expects the package to be signed with, as base64 SPKI: from a
    PEM file (public or private key), or given as the base64 string itself."""
    path = Path(value)
    if path.is_file():
        data = path.read_bytes()
        for private in (False, True):
            try:
                key = (serialization.load_pem_private_key(data, None).public_key() if private
                       else serialization.load_pem_public_key(data))  # fmt: skip
            except (ValueError, TypeError, UnsupportedAlgorithm):
                continue
            if isinstance(key, ec.EllipticCurvePublicKey):
                return public_key_b64(key)
        raise UsageError(f"{value} holds no ECDSA public or private key in PEM")
    try:
        key = serialization.load_der_public_key(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError, UnsupportedAlgorithm) as exc:
        raise UsageError(
            f"--public-key {value[:40]!r} is neither a PEM file nor a base64 public key"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise UsageError("--public-key is not an ECDSA key")
    return public_key_b64(key)


# --- signatures -----------------------------------------------------------------------------


def sign_digest(key: ec.EllipticCurvePrivateKey, digest: str, created: str) -> dict[str, str]:
    """The anonymous `signedData` over `digest` ("sha256:<hex>"); `created` must equal the
    datapackage's `created` (py-wacz checks that they are equal)."""
    der = key.sign(digest.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(_P256_BYTES, "big") + s.to_bytes(_P256_BYTES, "big")
    return {
        "hash": digest,
        "created": created,
        "software": f"{SOFTWARE} {__version__}",
        "version": __version__,
        "signature": base64.b64encode(raw).decode("ascii"),
        "publicKey": public_key_b64(key),
    }


def verify_signed_data(signed: Any, digest: str) -> str | None:
    """Why an anonymous `signedData` does not verify for `digest`, or None if it does."""
    if not isinstance(signed, dict):
        return "signedData is not an object"
    missing = [k for k in ("hash", "signature", "publicKey") if not isinstance(signed.get(k), str)]
    if missing:
        return f"signedData lacks {', '.join(missing)} (only the anonymous form is supported)"
    if signed["hash"] != digest:
        return f"the signature is over {signed['hash']}, not this package's digest {digest}"
    try:
        public = serialization.load_der_public_key(
            base64.b64decode(signed["publicKey"], validate=True)
        )
    except (binascii.Error, ValueError, UnsupportedAlgorithm):
        return "publicKey is not a base64 DER public key"
    if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
        return "publicKey is not an ECDSA P-256 key"
    try:
        raw = base64.b64decode(signed["signature"], validate=True)
    except (binascii.Error, ValueError):
        return "signature is not base64"
    if len(raw) == 2 * _P256_BYTES:  # r||s, as WebCrypto makes them
        raw = encode_dss_signature(int.from_bytes(raw[:_P256_BYTES], "big"),
                                   int.from_bytes(raw[_P256_BYTES:], "big"))  # fmt: skip
    try:
        public.verify(raw, digest.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return "the signature does not verify with its public key over the package digest"
    return None


# --- RFC 3161 tokens ------------------------------------------------------------------------


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
        signer = _read_signer(response.time_stamp_token())
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


# --- a minimal DER reader: just enough of CMS SignedData to check a token's signature -----


@dataclass(frozen=True)
class _Signer:
    content: bytes  # the encapsulated TSTInfo
    digest_oid: str
    signed_attrs: bytes  # DER, re-tagged as a SET: what the signature covers
    message_digest: bytes
    signature: bytes
    signature_oid: str


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("DER element runs past its container")
    return tag, pos, pos + length


def _items(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The elements inside [start, end): (tag, header start, content start, content end)."""
    items = []
    while start < end:
        tag, body, stop = _tlv(data, start)
        items.append((tag, start, body, stop))
        start = stop
    return items


def _oid(data: bytes) -> str:
    first = data[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in data[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _read_signer(token: bytes) -> _Signer:
    _, body, end = _tlv(token, 0)  # ContentInfo
    content_type, explicit = _items(token, body, end)[:2]
    _, sd_body, sd_end = _tlv(token, explicit[2])  # [0] EXPLICIT → SignedData SEQUENCE
    fields = _items(token, sd_body, sd_end)
    encap = fields[2]
    encap_items = _items(token, encap[2], encap[3])
    _, octets, octets_end = _tlv(token, encap_items[1][2])  # [0] EXPLICIT OCTET STRING
    content = token[octets:octets_end]
    signer_set = fields[-1]
    if signer_set[0] != 0x31:
        raise ValueError("no SignerInfos")
    signer_infos = _items(token, signer_set[2], signer_set[3])
    if len(signer_infos) != 1:
        raise ValueError(f"{len(signer_infos)} signers")
    parts = _items(token, signer_infos[0][2], signer_infos[0][3])
    digest_alg = _items(token, parts[2][2], parts[2][3])[0]
    digest_oid = _oid(token[digest_alg[2] : digest_alg[3]])
    attrs = parts[3]
    if attrs[0] != 0xA0:
        raise ValueError("no signed attributes")
    signed_attrs = b"\x31" + token[attrs[1] + 1 : attrs[3]]
    message_digest = b""
    for _, _, a_body, a_end in _items(token, attrs[2], attrs[3]):
        oid_item, values = _items(token, a_body, a_end)[:2]
        if _oid(token[oid_item[2] : oid_item[3]]) == _OID_MESSAGE_DIGEST:
            value = _items(token, values[2], values[3])[0]
            message_digest = token[value[2] : value[3]]
    signature_alg = _items(token, parts[4][2], parts[4][3])[0]
    signature_oid = _oid(token[signature_alg[2] : signature_alg[3]])
    signature = parts[5]
    if signature[0] != 0x04:
        raise ValueError("no signature")
    del content_type
    return _Signer(
        content,
        digest_oid,
        signed_attrs,
        message_digest,
        token[signature[2] : signature[3]],
        signature_oid,
    )
