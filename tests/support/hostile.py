"""A hostile web server for the tests, on 127.0.0.1 only: a raw socket server whose handlers
write whatever bytes they like (endless bodies, a byte a second, decompression bombs, garbage
and injected headers), so that nothing in the standard library's HTTP server tidies them up.

    server = HostileServer()
    server.routes["/x"] = endless(chunked=True)
    server.url("/x")
"""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable, Iterator

HEAD_LIMIT = 1 << 20  # request heads larger than this are cut off (a 100 KB URL fits)


class Gone(Exception):
    """The client went away, or the server is stopping: the handler should return."""


class Conn:
    """One accepted connection and the request read from it."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self.stop = stop
        self.head = b""  # the request head as received, CRLF CRLF excluded
        self.target = ""  # the request target as sent (path and query)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def send(self, data: bytes) -> None:
        if self.stop.is_set():
            raise Gone
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise Gone from exc

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise Gone


Handler = Callable[[Conn], None]


class HostileServer:
    """Accepts connections on 127.0.0.1, reads one request head from each, and hands the
    connection to the handler routed by path (without query); the connection is closed when
    the handler returns. `heads` keeps every request head received, in order."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.heads: list[bytes] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self._listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            for sock in list(self._conns):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns.add(sock)
        conn = Conn(sock, self._stop)
        try:
            sock.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < HEAD_LIMIT:
                piece = sock.recv(65536)
                if not piece:
                    return
                data += piece
            conn.head = data.split(b"\r\n\r\n", 1)[0]
            self.heads.append(conn.head)
            request_line = conn.head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            conn.target = parts[1] if len(parts) == 3 else ""
            handler = self.routes.get(conn.path, not_found)
            handler(conn)
        except (Gone, OSError):
            pass
        finally:
            with self._lock:
                self._conns.discard(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


# --- building responses ----------------------------------------------------------------------


def head(
    status: str = "200 OK",
    headers: list[tuple[bytes, bytes]] | None = None,
    version: bytes = b"HTTP/1.1",
) -> bytes:
    lines = [version + b" " + status.encode()]
    lines += [name + b": " + value for name, value in headers or []]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def respond(
    body: bytes = b"",
    status: str = "200 OK",
    *,
    content_type: bytes | None = b"text/html; charset=utf-8",
    headers: list[tuple[bytes, bytes]] | None = None,
    length: bool = True,
    version: bytes = b"HTTP/1.1",
) -> Handler:
    """A fixed answer; without `length` the body ends where the connection does."""
    fields = [(b"Content-Type", content_type)] if content_type else []
    fields += headers or []
    if length:
        fields.append((b"Content-Length", str(len(body)).encode()))
    fields.append((b"Connection", b"close"))

    def handler(conn: Conn) -> None:
        conn.send(head(status, fields, version) + body)

    return handler


def raw(data: bytes) -> Handler:
    """Exactly these bytes, then close."""

    def handler(conn: Conn) -> None:
        conn.send(data)

    return handler


def redirect(location: bytes | str, status: str = "302 Found") -> Handler:
    if isinstance(location, str):
        location = location.encode("utf-8")
    return raw(
        head(
            status, [(b"Location", location), (b"Content-Length", b"0"), (b"Connection", b"close")]
        )
    )


def not_found(conn: Conn) -> None:
    respond(b"<html><body><h1>Not Found</h1></body></html>", "404 Not Found")(conn)


def endless(*, chunked: bool) -> Handler:
    """A body that never ends (until the client hangs up): chunked, or close-delimited."""
    piece = b"<p>" + b"all work and no play makes jack a dull boy " * 1400 + b"</p>\n"

    def handler(conn: Conn) -> None:
        fields = [(b"Content-Type", b"text/html; charset=utf-8")]
        fields.append((b"Transfer-Encoding", b"chunked") if chunked else (b"Connection", b"close"))
        frame = (lambda data: b"%x\r\n%s\r\n" % (len(data), data)) if chunked else bytes
        conn.send(head("200 OK", fields) + frame(b"<html><body>"))
        framed = frame(piece)
        while True:
            conn.send(framed)

    return handler


def drip(total: int = 1000, every: float = 1.0) -> Handler:
    """A Content-Length body sent one byte at a time, `every` seconds apart."""

    def handler(conn: Conn) -> None:
        conn.send(
            head(
                "200 OK",
                [(b"Content-Type", b"text/html"), (b"Content-Length", str(total).encode())],
            )
        )
        for _ in range(total):
            conn.send(b"x")
            conn.sleep(every)

    return handler


def gzip_bomb(gigabytes: int = 4) -> bytes:
    """A valid gzip body that inflates to `gigabytes` GiB of spaces: one small member per
    MiB (gzip allows members back to back), about 1 KB each."""
    member = gzip.compress(b" " * (1 << 20), compresslevel=9, mtime=0)
    return gzip.compress(BOMB_START, mtime=0) + member * (gigabytes * 1024)


BOMB_START = b"<html><head><title>bomb</title></head><body><p>"


def streamed(
    parts: Callable[[], Iterator[bytes]],
    length: int,
    content_type: bytes = b"text/html; charset=utf-8",
) -> Handler:
    """A large body produced piece by piece (never whole in the server's memory)."""

    def handler(conn: Conn) -> None:
        conn.send(
            head(
                "200 OK",
                [
                    (b"Content-Type", content_type),
                    (b"Content-Length", str(length).encode()),
                    (b"Connection", b"close"),
                ],
            )
        )
        for part in parts():
            conn.send(part)

    return handler


def many_links(megabytes: int = 50) -> Handler:
    """`megabytes` MB of HTML that is nothing but links, inside an <article>."""
    opening = b"<html><head><title>links</title></head><body><article><p>"
    closing = b"</p></article></body></html>"
    block = b"".join(b'<a href="/l/%06d">link %06d</a> ' % (i, i) for i in range(2000))
    count = (megabytes * 1_000_000 - len(opening) - len(closing)) // len(block)

    def parts() -> Iterator[bytes]:
        yield opening
        for _ in range(count):
            yield block
        yield closing

    return streamed(parts, len(opening) + count * len(block) + len(closing))


def nested(depth: int = 100_000) -> bytes:
    """HTML nested `depth` elements deep."""
    return (
        b"<html><head><title>deep</title></head><body>"
        + b"<div>" * depth
        + b"<p>At the very bottom of the well.</p>"
        + b"</div>" * depth
        + b"</body></html>"
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
