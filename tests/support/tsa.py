"""A time-stamping authority on 127.0.0.1 for the tests: a throw-away CA and TSA certificate
made with `openssl`, and a tiny HTTP server that pipes each RFC 3161 query to
`openssl ts -reply`. The TSA section has no `certs =` line on purpose: with one, openssl
writes the reply's certificate SET out of DER order and rfc3161-client cannot parse it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OPENSSL = shutil.which("openssl")

_CA_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = {name} Root CA
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tsa_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

_TSA_CONFIG = """\
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(directory: Path, name: str = "Test") -> None:
    """root.pem/root.key and a TSA certificate tsa.pem/tsa.key signed by it, in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.cnf").write_text(_CA_CONFIG.format(name=name))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "root.key",
        "-out",
        "root.pem",
        "-days",
        "3650",
        "-config",
        "ca.cnf",
        "-extensions",
        "v3_ca",
        cwd=directory,
    )
    _openssl(
        "req",
        "-new",
        *ec,
        "-keyout",
        "tsa.key",
        "-out",
        "tsa.csr",
        "-subj",
        f"/CN={name} TSA",
        cwd=directory,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "tsa.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-set_serial",
        "2",
        "-out",
        "tsa.pem",
        "-days",
        "3650",
        "-extfile",
        "ca.cnf",
        "-extensions",
        "tsa_ext",
        cwd=directory,
    )
    (directory / "serial").write_text("01\n")
    (directory / "tsa.cnf").write_text(_TSA_CONFIG.format(dir=directory))


class LocalTSA:
    """`tsa.url` answers RFC 3161 queries; `tsa.root` is its CA certificate (PEM);
    `tsa.queries` counts the queries answered."""

    def __init__(self, directory: Path, name: str = "Test") -> None:
        self.directory = directory
        make_ca(directory, name)
        self.root = directory / "root.pem"
        self.queries = 0
        lock = threading.Lock()
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_error(415)
                    return
                with lock, tempfile.TemporaryDirectory() as tmp:
                    (Path(tmp) / "q.tsq").write_bytes(query)
                    try:
                        _openssl(
                            "ts",
                            "-reply",
                            "-config",
                            str(directory / "tsa.cnf"),
                            "-section",
                            "tsa_config",
                            "-queryfile",
                            "q.tsq",
                            "-out",
                            "r.tsr",
                            cwd=Path(tmp),
                        )
                    except subprocess.CalledProcessError:
                        self.send_error(400)
                        return
                    reply = (Path(tmp) / "r.tsr").read_bytes()
                    tsa.queries += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsr"
        # Polled every 10 ms, not the standard 0.5 s: close() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
