"""A certificate authority of the tests' own, made with `openssl`, and a certificate it signs
for `localhost` (or other names and addresses): what an HTTPS server on 127.0.0.1 needs to
be trusted (or, by default, refused). The benchmark's HTTPS web uses it too."""

from __future__ import annotations

import ssl
from pathlib import Path

from tests.support.tsa import OPENSSL, _openssl

_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = Preserve Tests Root CA
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = {names}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

__all__ = ["OPENSSL", "make_localhost_certificate", "server_context"]


def make_localhost_certificate(directory: Path, *, addresses: tuple[str, ...] = ()) -> Path:
    """ca.pem (to trust) and localhost.pem/localhost.key (to serve) in `directory`, the
    certificate for the name localhost and these IP `addresses`; returns the CA's path."""
    directory.mkdir(parents=True, exist_ok=True)
    names = ",".join(["DNS:localhost", *(f"IP:{address}" for address in addresses)])
    (directory / "ca.cnf").write_text(_CONFIG.format(names=names))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-config", "ca.cnf", "-extensions", "v3_ca", cwd=directory,
    )  # fmt: skip
    _openssl(
        "req", "-new", *ec, "-keyout", "localhost.key", "-out", "localhost.csr",
        "-subj", "/CN=localhost", cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "localhost.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-set_serial", "2", "-out", "localhost.pem", "-days", "2",
        "-extfile", "ca.cnf", "-extensions", "server", cwd=directory,
    )  # fmt: skip
    return directory / "ca.pem"


def server_context(directory: Path) -> ssl.SSLContext:
    """A server-side TLS context serving the `localhost` certificate made in `directory`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "localhost.pem", directory / "localhost.key")
    return context
