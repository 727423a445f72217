"""What a TLS connection showed of the server it reached, as recorded with a capture.

The protocol version and cipher suite (spelled as the IIPC's proposed WARC-Protocol and
WARC-Cipher-Suite fields spell them), and the certificate the server presented, by its sha256
(the handle Certificate Transparency logs such as crt.sh index it by), with the names and
dates people read. A capture over HTTPS then carries, besides the page, who the server proved
to be: a further sign that the page came from where it says, recorded as observed."""

from __future__ import annotations

import hashlib
import re
import ssl
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from preserve.times import iso

# Python's ssl module gives the cipher suite as OpenSSL names it. TLS 1.3 suites carry their
# IANA names already; TLS 1.2's common AEAD suites are rewritten to theirs by this rule.
_OPENSSL_AEAD = re.compile(
    r"(?:(ECDHE|DHE)-)?(RSA|ECDSA)?-?(AES128|AES256|CHACHA20)-?(GCM|POLY1305)-?(SHA256|SHA384)?"
)
# X.509 attribute names as Python spells them → as certificates are usually written.
_SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
}


@dataclass(frozen=True)
class TlsPeer:
    """The TLS side of one connection, as observed."""

    protocol: str  # "tls/1.3": a WARC-Protocol value
    cipher_suite: str | None  # IANA name ("TLS_AES_256_GCM_SHA384"); None if not known
    certificate_sha256: str | None  # of the server's certificate, DER encoded
    subject: str | None  # "CN=example.com, O=Example"
    issuer: str | None
    not_before: str | None  # ISO 8601 UTC
    not_after: str | None
    names: tuple[str, ...] = ()  # the subjectAltName entries: DNS names and IP addresses

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "names": list(self.names)}


def observed(sock: Any) -> TlsPeer | None:
    """What `sock` (an `ssl.SSLSocket`, or anything else: then None) showed of its peer.
    Never raises: a connection that closed before it was asked gives None."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    try:
        version = sock.version()
        cipher = sock.cipher()
        der = sock.getpeercert(binary_form=True)
        certificate = sock.getpeercert() or {}  # empty unless the certificate was verified
    except (OSError, ValueError):
        return None
    if version is None:
        return None
    return TlsPeer(
        protocol=protocol_name(version),
        cipher_suite=iana_cipher_suite(cipher[0]) if cipher else None,
        certificate_sha256=hashlib.sha256(der).hexdigest() if der else None,
        subject=distinguished_name(certificate.get("subject")),
        issuer=distinguished_name(certificate.get("issuer")),
        not_before=_when(certificate.get("notBefore")),
        not_after=_when(certificate.get("notAfter")),
        names=_alt_names(certificate.get("subjectAltName")),
    )


def protocol_name(version: str) -> str:
    """OpenSSL's "TLSv1.3" as WARC-Protocol writes it: "tls/1.3"."""
    if version.startswith("TLSv"):
        return "tls/" + version.removeprefix("TLSv")
    return version.lower().replace("v", "/", 1)  # "SSLv3" → "ssl/3"


def iana_cipher_suite(openssl_name: str) -> str | None:
    """The IANA name of a cipher suite that OpenSSL names `openssl_name`, or None when it is
    not one this knows how to spell (rather than a guess)."""
    if openssl_name.startswith("TLS_"):  # TLS 1.3: OpenSSL uses the IANA names
        return openssl_name
    match = _OPENSSL_AEAD.fullmatch(openssl_name)
    if match is None:
        return None
    exchange, auth, cipher, mode, mac = match.groups()
    if cipher == "CHACHA20":
        if not (exchange and auth and mode == "POLY1305" and mac is None):
            return None
        return f"TLS_{exchange}_{auth}_WITH_CHACHA20_POLY1305_SHA256"
    if mode != "GCM" or mac is None:
        return None
    kex = f"{exchange}_{auth}" if exchange and auth else (auth or "RSA")
    return f"TLS_{kex}_WITH_AES_{cipher[3:]}_GCM_{mac}"


def distinguished_name(rdns: Any) -> str | None:
    """`getpeercert()`'s subject or issuer as one line: "CN=example.com, O=Example"."""
    if not rdns:
        return None
    parts = [
        f"{_SHORT_NAMES.get(name, name)}={value}"
        for rdn in rdns
        for name, value in rdn
        if isinstance(name, str) and isinstance(value, str)
    ]
    return ", ".join(parts) or None


def _alt_names(entries: object) -> tuple[str, ...]:
    """`getpeercert()`'s subjectAltName, (("DNS", "example.com"), ("IP Address", "…")), as
    its values."""
    if not isinstance(entries, tuple):
        return ()
    return tuple(
        entry[1]
        for entry in entries
        if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str)
    )


def _when(text: Any) -> str | None:
    """A certificate date as `getpeercert()` gives it ("Nov 27 12:00:00 2026 GMT") → ISO."""
    if not isinstance(text, str):
        return None
    try:
        return iso(datetime.fromtimestamp(ssl.cert_time_to_seconds(text), UTC))
    except ValueError:
        return None
