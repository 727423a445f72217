"""Signatures of evidence packages: made over the package digest, and verified.

The anonymous form of the WACZ signing spec (wacz-auth 0.1.0): ECDSA P-256 with SHA-256 over
the ASCII string `sha256:<hex>` of `datapackage.json`, stored in `datapackage-digest.json` as
`signedData = {hash, created, software, version, signature, publicKey}`.

The signature is base64 of the raw 64-byte r||s form (what WebCrypto, and so ArchiveWeb.page
and ReplayWeb.page, produce and expect); the public key is base64 of its DER
SubjectPublicKeyInfo. Verification accepts r||s and DER signatures. A signature proves only
that the key holder attests to the digest: not who they are, nor when they signed.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from preserve import __version__
from preserve.evidence.keys import public_key_b64

SOFTWARE = "preserve"
_P256_BYTES = 32


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
