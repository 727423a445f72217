"""Signing keys: ECDSA P-256 keys made, read, and shown as public keys and fingerprints.

Keys are kept as PEM; a public key is shown as base64 DER, and by its fingerprint (what a
verifier compares with one obtained out of band)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from preserve.errors import UsageError


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
