"""Real HTTP servers on 127.0.0.1 for the tests: a mutable table of pages that a test can
edit, delete or break between captures."""

from __future__ import annotations

import gzip as gzip_module
import json
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Page:
    """What the server answers for one path."""

    body: bytes | str = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunked: bool = False
    gzip: bool = False
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes (a slow server)
    close_delimited: bool = False  # HTTP/1.0 style: no Content-Length, body ends at close

    def payload(self) -> bytes:
        data = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        return gzip_module.compress(data, mtime=0) if self.gzip else data


Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Posted:
    """A POST the site received: its path, headers and body."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Site:
    """A local web site. `site.pages["/a"] = Page(...)`; `site.url("/a")`; a POST (to a
    webhook) is kept in `site.posted` and answered with the page at its path."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: serve HTTPS with this server context, as https://localhost:PORT."""
        self.pages: dict[str, Page | Handler] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.posted: list[Posted] = []  # POSTs (a webhook's), answered as GETs are
        self.connections = 0  # accepted so far (HTTP/1.1: a client may send many requests on one)
        self.hung_up = 0  # of those, ended
        self.busy = 0  # requests being answered right now
        self.most_busy = 0  # the most answered at once since the last `reset` (or start)
        busy_lock = threading.Lock()
        self.not_found = Page("<html><body><h1>Not Found</h1></body></html>", status=404)
        site = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                site.connections += 1
                super().setup()

            def finish(self) -> None:
                super().finish()
                site.hung_up += 1  # the client closed the connection (or this side did)

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                site.hits[self.path] += 1
                site.requests.append((self.path, dict(self.headers.items())))
                self.answer()

            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                site.posted.append(Posted(self.path, dict(self.headers.items()), body))
                self.answer()

            def answer(self) -> None:
                page = site.pages.get(self.path, site.not_found)
                with busy_lock:
                    site.busy += 1
                    site.most_busy = max(site.most_busy, site.busy)
                try:
                    if callable(page):
                        page(self)
                    else:
                        site.serve(self, page)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with busy_lock:
                        site.busy -= 1

        self._server = _Server(("127.0.0.1", 0), RequestHandler)
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        if tls is not None:  # each connection's handshake happens as it is accepted
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.base = f"https://localhost:{self.port}"
        # Polled every 10 ms, not the standard 0.5 s: close() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def reset(self) -> None:
        """Forget every page and request, as a new server would (one server can then serve a
        whole test module)."""
        self.pages.clear()
        self.hits.clear()
        self.requests.clear()
        self.posted.clear()
        self.connections = self.hung_up = self.most_busy = 0
        self.not_found = Page("<html><body><h1>Not Found</h1></body></html>", status=404)

    def url(self, path: str = "/") -> str:
        return self.base + path

    @staticmethod
    def serve(handler: BaseHTTPRequestHandler, page: Page) -> None:
        if page.delay:
            time.sleep(page.delay)
        payload = page.payload()
        if page.close_delimited:
            handler.protocol_version = "HTTP/1.0"
            handler.close_connection = True
        handler.send_response(page.status)
        if page.content_type:
            handler.send_header("Content-Type", page.content_type)
        if page.gzip:
            handler.send_header("Content-Encoding", "gzip")
        for name, value in page.headers:
            handler.send_header(name, value)
        if page.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        elif not page.close_delimited:
            handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        out = handler.wfile
        if page.chunked:
            for start in range(0, len(payload), 1000):
                piece = payload[start : start + 1000]
                out.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            out.write(b"0\r\n\r\n")
        elif page.drip:
            for byte in payload:
                out.write(bytes([byte]))
                out.flush()
                time.sleep(page.drip)
        else:
            out.write(payload)
        out.flush()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redirect(location: str, status: int = 302) -> Page:
    return Page(b"", status=status, content_type=None, headers=[("Location", location)])


def article_html(
    title: str,
    paragraphs: list[str],
    *,
    nav: str = "",
    aside: str = "",
    footer: str = "",
    extra_head: str = "",
    wrapper_class: str = "article-body",
) -> str:
    """A realistic news page: nav, header, article body, sidebar, comments, footer."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>{extra_head}
<link rel="stylesheet" href="/static/site.css"></head>
<body>
<nav class="menu"><a href="/">Home</a> <a href="/world/">World</a> <a
 href="/about">About</a>{nav}</nav>
<header><h1>{title}</h1><p class="byline">By Staff Writer</p></header>
<main><article><div class="{wrapper_class}">
{body}
</div></article></main>
<aside class="sidebar"><h2>Most read</h2><ul><li><a href="/most-read-1">Most read one</a></li>
<li><a href="/most-read-2">Most read two</a></li>{aside}</ul></aside>
<footer><a href="/privacy">Privacy</a> <a href="https://twitter.com/share">Share</a>{footer}</footer>
</body></html>"""
