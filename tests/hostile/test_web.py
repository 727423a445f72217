"""Hostile web, crashes, concurrent runs and storage faults (docs/security.md).

Every case runs `preserve` as a real process against servers on 127.0.0.1 only: a raw-socket
server that misbehaves on purpose (tests/hostile.py) and the test site (tests/sites.py). Each
misbehaviour must end in a recorded outcome (a capture row with a reason) and a clear message,
and no capture process may go over RSS_CAP_MB of memory. Then: kill -9 at random moments, two
runs at once, a full disk, a read-only archive, a lost WARC file; and property tests of URL
normalisation and citation extraction.

The slow part (the hostile runs, about 30 s on two cores, and the kill loop) is shared by
module-scoped fixtures; `pytest tests/test_hostile.py` runs it all.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preserve.errors import BadURL
from preserve.extract.extractor import extract
from preserve.urls import canonical
from preserve.warc.files import OPEN_SUFFIX
from preserve.warc.reader import read_record
from tests.support import hostile
from tests.support.hostile import HostileServer, redirect, respond
from tests.support.sites import Page, Site, article_html

BIN = Path(sys.executable).parent
# The most a capture process may take, whatever the web serves it (measured: about 260 MB
# for the content run below, all bombs at once, with the default limits).
RSS_CAP_MB = 400
DEADLINE = 4  # seconds a whole fetch may take in the network run (the drip is cut there)
MIB = 1 << 20


# --- running preserve -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """A finished `preserve` process: exit code, output, and its peak memory."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    peak_mb: float
    seconds: float

    def json(self) -> Any:
        return json.loads(self.stdout)


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PRESERVE_")}


class Proc:
    """`preserve --archive ARCHIVE ARGS…` started in the background; `wait()` reaps it with
    os.wait4, which gives the peak RSS of that one process."""

    def __init__(
        self,
        archive: Path,
        *args: str,
        preexec_fn: Callable[[], None] | None = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
        self.args = ("--archive", str(archive), *args)
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            [*prefix, str(BIN / "preserve"), *self.args],
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            env=clean_environment(),
            preexec_fn=preexec_fn,
        )

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)

    def wait(self, timeout: float = 240) -> Ran:
        ends = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.popen.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > ends:
                self.kill()
                pid, status, usage = os.wait4(self.popen.pid, 0)
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                raise AssertionError(f"preserve {' '.join(self.args)[:200]} did not finish")
            time.sleep(0.05)
        self.popen.returncode = os.waitstatus_to_exitcode(status)
        output = []
        for file in (self._out, self._err):
            file.seek(0)
            output.append(file.read().decode("utf-8", "replace"))
            file.close()
        return Ran(
            self.args,
            self.popen.returncode,
            output[0],
            output[1],
            usage.ru_maxrss / 1024,
            time.monotonic() - self.started,
        )


def preserve(archive: Path, *args: str, **kwargs: Any) -> Ran:
    return Proc(archive, *args, **kwargs).wait()


def rows(archive: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(archive / "preserve.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def capture_row(archive: Path, url: str) -> dict[str, Any]:
    found = rows(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id DESC", (url,))
    assert found, f"no capture of {url}"
    return found[0]


def assert_rows_point_at_bytes(archive: Path) -> int:
    """Every captures and records row names a WARC file that exists (finished or `.open`)
    and a slice of it that reads back as exactly the record the row says. The count."""
    checked = 0
    for row in rows(
        archive,
        "SELECT warc, offset, length, record_id, record_sha256 FROM records"
        " UNION ALL SELECT warc, offset, length, record_id, record_sha256"
        " FROM captures WHERE warc IS NOT NULL",
    ):
        path = archive / "warcs" / row["warc"]
        still_open = path.with_name(path.name + OPEN_SUFFIX)
        assert path.exists() or still_open.exists(), f"{row['warc']} is missing"
        record = read_record(path, row["offset"], row["length"])
        assert record.record_id == row["record_id"]
        with open(path if path.exists() else still_open, "rb") as file:
            file.seek(row["offset"])
            assert hashlib.sha256(file.read(row["length"])).hexdigest() == row["record_sha256"]
        checked += 1
    return checked


def assert_verify_clean(archive: Path) -> None:
    """`preserve verify` finds nothing, and every row points at readable bytes."""
    ran = preserve(archive, "verify", "--json")
    assert ran.code == 0 and ran.json()["ok"], ran.stdout[-3000:] + ran.stderr
    assert not list((archive / "warcs").glob("*" + OPEN_SUFFIX))
    assert_rows_point_at_bytes(archive)


def one_line_error(ran: Ran) -> str:
    assert ran.stderr.startswith("Error: ") and ran.stderr.count("\n") == 1, ran.stderr[-3000:]
    assert "Traceback" not in ran.stderr
    return ran.stderr


def cite(*hrefs: str, title: str = "A hostile page") -> bytes:
    """An article citing each href in a sentence of its own (entities allowed in hrefs)."""
    paragraphs = [
        f"Reporters covered matter number {n} of the affair at length this week. "
        f'Officials said, according to <a href="{href}">source {n}</a>, that the '
        f"matter was under review. More remarks followed in the afternoon."
        for n, href in enumerate(hrefs)
    ]
    return article_html(title, paragraphs).encode()


# --- the hostile web ------------------------------------------------------------------------

NESTED = hostile.nested(100_000)
BOMB = hostile.gzip_bomb(4)  # 4 GiB of spaces in 4 MB of gzip
LONG_50K = "/n/" + "a" * 50_000
LONG_100K = "/n/" + "b" * 100_000


def build_server(server: HostileServer) -> None:
    port = server.port
    routes = server.routes
    landing = respond(b"<html><body><p>Landed safely.</p></body></html>")

    # Network misbehaviour: the article /n/article cites all of it.
    routes["/n/drip"] = hostile.drip(total=200, every=1.0)
    routes["/n/loop/a"] = redirect("/n/loop/b")
    routes["/n/loop/b"] = redirect("/n/loop/a")
    for hop in range(30):
        routes[f"/n/chain/{hop}"] = redirect(f"/n/chain/{hop + 1}")
    routes["/n/chain/30"] = landing
    routes["/n/file"] = redirect("file:///etc/passwd")
    routes["/n/ftp"] = redirect("ftp://ftp.example.org/pub/file.txt")
    routes["/n/data"] = redirect("data:text/html,<script>alert(1)</script>")
    routes["/n/inject-encoded"] = redirect("/n/landing%0d%0aX-Injected:%20yes")
    routes["/n/inject-fold"] = hostile.raw(
        b"HTTP/1.1 302 Found\r\nLocation: /n/landing\r\n X-Injected: yes\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    routes["/n/inject-cr"] = hostile.raw(
        b"HTTP/1.1 302 Found\r\nLocation: /n/landing\rX-Injected: yes\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    routes["/n/nonascii"] = redirect("/n/über pfad?q=ä b")
    routes["/n/%C3%BCber%20pfad"] = landing
    routes["/n/with%20space/und%20%C3%BC"] = landing
    routes["/n/long-50k"] = redirect(LONG_50K)
    routes["/n/long-100k"] = redirect(LONG_100K)
    routes["/n/garbage"] = redirect(b"\xff\xfe\x00:::// [[[ %%% \x7f")
    routes["/n/empty"] = respond(b"")
    routes["/n/http10"] = respond(
        b"<html><body><p>An old server, no length.</p></body></html>",
        length=False,
        version=b"HTTP/1.0",
    )
    routes["/n/landing"] = landing
    routes["/n/article"] = respond(
        cite(
            *(case.path for case in NETWORK),
            "/n/with space/und ü",  # a space and a non-ASCII letter in an href
            "/n/x&#13;&#10;X-Injected: yes",  # CR LF in an href: not a URL, never fetched
            "/n/" + "c" * 100_000,  # a 100 KB href: not a URL (over 8192 characters)
        )
    )

    # Content bombs: /c/article cites them all at once.
    routes["/c/endless-chunked"] = hostile.endless(chunked=True)
    routes["/c/endless-close"] = hostile.endless(chunked=False)
    routes["/c/bomb"] = respond(BOMB, headers=[(b"Content-Encoding", b"gzip")])
    routes["/c/nested"] = respond(NESTED)
    routes["/c/links"] = hostile.many_links(50)
    routes["/c/charset-unknown"] = respond(
        "<p>Café society in Zürich.</p>".encode("latin-1"),
        content_type=b"text/html; charset=x-no-such-charset",
    )
    routes["/c/charset-utf7"] = respond(
        b'<meta charset="utf-7"><p>Plain words +AGEAYgBj-</p>', content_type=b"text/html"
    )
    routes["/c/charset-codec"] = respond(
        b'<meta charset="rot13"><p>Plain words here</p>', content_type=b"text/html; charset=base64"
    )
    routes["/c/pdf-as-html"] = respond(hostile.PDF)
    routes["/c/article"] = respond(cite(*(case.path for case in CONTENT)))

    # Redirects to private addresses, from URLs the user typed (allowed themselves).
    targets = {
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "ten": "http://10.0.0.1/admin",
        "loopback": f"http://127.0.0.1:{port}/g/landing",
        "v6": f"http://[::1]:{port}/g/landing",
        "mapped": f"http://[::ffff:127.0.0.1]:{port}/g/landing",
        "decimal": f"http://2130706433:{port}/g/landing",
        "octal": f"http://0177.0.0.1:{port}/g/landing",
        "localhost": f"http://localhost:{port}/g/landing",
    }
    for name, target in targets.items():
        routes[f"/g/to/{name}"] = redirect(target)
        routes[f"/a/to/{name}"] = redirect(target.replace("/g/landing", "/a/landing"))
    routes["/g/landing"] = landing
    routes["/a/landing"] = landing
    routes["/a/%C3%BC%20x"] = landing
    # The same addresses as cited links of an article.
    routes["/g/article"] = respond(cite(*targets.values()))


@dataclass(frozen=True)
class Case:
    """A cited URL and what its capture must record."""

    name: str
    path: str
    status: str  # captured | failed
    error: str | None = None
    http_status: int | None = None
    truncated: tuple[str | None, ...] = (None,)
    detail: str = ""  # in error_detail


NETWORK = [
    Case("drip-one-byte-a-second", "/n/drip", "captured", http_status=200, truncated=("time",)),
    Case("redirect-loop", "/n/loop/a", "failed", "redirect-loop", detail="redirects back"),
    Case(
        "30-hop-chain",
        "/n/chain/0",
        "failed",
        "too-many-redirects",
        detail="more than 10 redirects",
    ),
    Case("redirect-to-file", "/n/file", "failed", "unsupported-scheme", detail="file:"),
    Case("redirect-to-ftp", "/n/ftp", "failed", "unsupported-scheme", detail="ftp:"),
    Case("redirect-to-data", "/n/data", "failed", "unsupported-scheme", detail="data:"),
    Case("crlf-encoded-in-location", "/n/inject-encoded", "captured", http_status=404),
    Case("header-folded-into-location", "/n/inject-fold", "captured", http_status=404),
    Case("bare-cr-in-location", "/n/inject-cr", "captured", http_status=200),
    Case("non-ascii-and-space-location", "/n/nonascii", "captured", http_status=200),
    Case("50k-location", "/n/long-50k", "failed", "bad-redirect", detail="unusable Location"),
    Case("100k-location", "/n/long-100k", "failed", "connection", detail="more than 65536 bytes"),
    Case("garbage-location", "/n/garbage", "failed", "bad-redirect", detail="unusable Location"),
    Case("empty-200", "/n/empty", "captured", http_status=200),
    Case("http10-no-length", "/n/http10", "captured", http_status=200),
]
CONTENT = [
    Case(
        "endless-chunked",
        "/c/endless-chunked",
        "captured",
        http_status=200,
        truncated=("length", "time"),
    ),
    Case(
        "endless-close-delimited",
        "/c/endless-close",
        "captured",
        http_status=200,
        truncated=("length", "time"),
    ),
    Case("decompression-bomb", "/c/bomb", "captured", http_status=200),
    Case("nested-100000-deep", "/c/nested", "captured", http_status=200),
    Case("50mb-of-links", "/c/links", "captured", http_status=200),
    Case("unknown-charset", "/c/charset-unknown", "captured", http_status=200),
    Case("utf7-charset", "/c/charset-utf7", "captured", http_status=200),
    Case("codec-as-charset", "/c/charset-codec", "captured", http_status=200),
    Case("pdf-as-text-html", "/c/pdf-as-html", "captured", http_status=200),
]
PRIVATE = ["metadata", "ten", "loopback", "v6", "mapped", "decimal", "octal", "localhost"]
REACHABLE = ["loopback", "decimal", "octal", "localhost"]  # the server listens on 127.0.0.1


@dataclass(frozen=True)
class Runs:
    server: HostileServer
    archives: dict[str, Path]
    ran: dict[str, Ran]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """The four hostile runs, at once: network misbehaviour and content bombs (loopback
    allowed), redirects and links to private addresses (guarded, as by default), and the
    same redirects with --allow-private."""
    server = HostileServer()
    build_server(server)
    base = tmp_path_factory.mktemp("hostile")
    archives = {name: base / name for name in ("network", "content", "guarded", "allowed")}
    wide = ["--workers", "16", "--per-host", "16"]
    procs = {
        "network": Proc(
            archives["network"],
            "capture",
            server.url("/n/article"),
            "--json",
            "--allow-private",
            "--timeout",
            "2",
            "--deadline",
            str(DEADLINE),
            *wide,
        ),
        "content": Proc(
            archives["content"],
            "capture",
            server.url("/c/article"),
            "--json",
            "--allow-private",
            "--timeout",
            "5",
            "--deadline",
            "30",
            *wide,
        ),
        "guarded": Proc(
            archives["guarded"],
            "capture",
            *(server.url(f"/g/to/{name}") for name in PRIVATE),
            server.url("/g/article"),
            "--timeout",
            "2",
            *wide,
        ),
        "allowed": Proc(
            archives["allowed"],
            "capture",
            "--json",
            "--allow-private",
            *(server.url(f"/a/to/{name}") for name in REACHABLE),
            server.url("/a/ü x"),
            "--timeout",
            "2",
            *wide,
        ),
    }
    ran = {name: proc.wait() for name, proc in procs.items()}
    yield Runs(server, archives, ran)
    server.close()


def cited(runs: Runs, run: str, case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """The capture row and the JSON entry of a case."""
    url = runs.server.url(case.path)
    document = runs.ran[run].json()
    (entry,) = [c for c in document["citations"] if c["url"] == url]
    return capture_row(runs.archives[run], url), entry


def assert_case(runs: Runs, run: str, case: Case) -> dict[str, Any]:
    row, entry = cited(runs, run, case)
    assert (row["status"], row["error"]) == (case.status, case.error), row
    assert row["http_status"] == case.http_status
    assert row["truncated"] in case.truncated, row
    assert entry["status"] == row["status"] and entry["error"] == row["error"]
    if case.status == "failed":  # a clear message: one line, says what happened
        detail = row["error_detail"]
        assert detail and "\n" not in detail and len(detail) <= 300
        assert case.detail in detail, detail
        assert entry["error_detail"] == detail
    else:
        assert row["warc"] and row["payload_sha256"]
    return row


@pytest.mark.parametrize("case", NETWORK, ids=lambda c: c.name)
def test_network_misbehaviour_is_recorded(runs: Runs, case: Case) -> None:
    assert runs.ran["network"].code == 0, runs.ran["network"].stderr[-3000:]
    assert_case(runs, "network", case)


@pytest.mark.parametrize("case", CONTENT, ids=lambda c: c.name)
def test_content_bombs_are_recorded(runs: Runs, case: Case) -> None:
    assert runs.ran["content"].code == 0, runs.ran["content"].stderr[-3000:]
    assert_case(runs, "content", case)


@pytest.mark.parametrize("run", ["network", "content", "guarded", "allowed"])
def test_memory_stays_under_the_cap(runs: Runs, run: str) -> None:
    ran = runs.ran[run]
    print(f"[peak RSS] {run}: {ran.peak_mb:.0f} MB in {ran.seconds:.1f} s")
    assert ran.peak_mb < RSS_CAP_MB
    assert "Traceback" not in ran.stderr


def test_every_row_of_the_hostile_runs_points_at_its_record(runs: Runs) -> None:
    for archive in runs.archives.values():
        assert assert_rows_point_at_bytes(archive) > 0


def test_the_drip_is_cut_at_the_deadline(runs: Runs) -> None:
    row, _ = cited(runs, "network", NETWORK[0])
    record = read_record(
        runs.archives["network"] / "warcs" / row["warc"], row["offset"], row["length"]
    )
    assert record.header("WARC-Truncated") == "time"
    assert 0 < len(record.payload) < 200  # a byte a second, for DEADLINE seconds
    assert len(record.payload) <= DEADLINE + 2


def test_endless_bodies_are_cut_and_marked(runs: Runs) -> None:
    for case in CONTENT[:2]:
        row, _ = cited(runs, "content", case)
        assert 0 < row["payload_length"] <= 64 * MIB
        record = read_record(
            runs.archives["content"] / "warcs" / row["warc"], row["offset"], row["length"]
        )
        assert record.header("WARC-Truncated") == row["truncated"]
        assert record.http_header("X-Orig-Transfer-Encoding") == (
            "chunked" if "chunked" in case.path else None
        )


def test_the_decompression_bomb_is_inflated_only_up_to_the_cap(runs: Runs) -> None:
    row, _ = cited(runs, "content", CONTENT[2])
    assert row["payload_length"] == len(BOMB)  # stored as sent, still compressed
    assert row["truncated"] is None
    # The decoded hash covers exactly the first 32 MiB (max_inflated) of the 4 GiB.
    head = hostile.BOMB_START + b" " * (32 * MIB - len(hostile.BOMB_START))
    assert row["decoded_sha256"] == hashlib.sha256(head).hexdigest()
    assert row["kind"] == "html"


def test_nested_and_link_bombs_are_extracted_within_limits(runs: Runs) -> None:
    archive = runs.archives["content"]
    nested, _ = cited(runs, "content", CONTENT[3])
    assert nested["kind"] == "html" and nested["title"] == "deep"
    links, _ = cited(runs, "content", CONTENT[4])
    assert links["payload_length"] > 49_000_000 and links["truncated"] is None
    count = rows(
        archive, "SELECT count(*) AS n FROM citations WHERE capture_id = ?", (links["id"],)
    )[0]["n"]
    assert 0 < count <= 10_000
    # A citation's own links are not followed (depth 1): none of them was fetched.
    assert not any(b"GET /l/" in head for head in runs.server.heads)


def test_odd_charsets_are_decoded_without_failing(runs: Runs) -> None:
    archive = runs.archives["content"]
    unknown, _ = cited(runs, "content", CONTENT[5])
    text = rows(archive, "SELECT text FROM texts WHERE sha256 = ?", (unknown["text_sha256"],))
    assert text and "Caf" in text[0]["text"] and "rich" in text[0]["text"]
    for case in CONTENT[6:8]:
        row, _ = cited(runs, "content", case)
        assert row["kind"] == "html" and row["text_sha256"]


def test_a_pdf_served_as_html_is_a_pdf(runs: Runs) -> None:
    row, _ = cited(runs, "content", CONTENT[8])
    assert row["kind"] == "pdf" and row["content_type"].startswith("text/html")


def test_empty_and_http10_bodies(runs: Runs) -> None:
    empty, _ = cited(runs, "network", NETWORK[13])
    assert empty["payload_length"] == 0 and empty["text_sha256"] is None
    old, _ = cited(runs, "network", NETWORK[14])
    record = read_record(
        runs.archives["network"] / "warcs" / old["warc"], old["offset"], old["length"]
    )
    assert record.http_header("Content-Length") == str(len(record.payload)) != "0"
    assert old["truncated"] is None and record.header("WARC-Truncated") is None


def test_no_header_is_injected_and_urls_go_out_encoded(runs: Runs) -> None:
    heads = [head for head in runs.server.heads if b"/n/" in head.split(b"\r\n", 1)[0]]
    assert heads
    for head in heads:
        lines = head.split(b"\r\n")
        assert not any(line.lower().startswith(b"x-injected") for line in lines)
        method, target, version = lines[0].split(b" ")
        assert target.isascii() and b" " not in target and version == b"HTTP/1.1"
    targets = {head.split(b" ")[1] for head in heads}
    assert b"/n/landing%0D%0AX-Injected:%20yes" in targets  # kept encoded, never decoded
    assert b"/n/%C3%BCber%20pfad?q=%C3%A4%20b" in targets
    assert b"/n/with%20space/und%20%C3%BC" in targets
    # CR and LF inside an href are dropped, as browsers do (WHATWG URL): what is left is
    # a path, sent encoded.
    assert b"/n/xX-Injected:%20yes" in targets
    assert not any(t.startswith(b"/n/ccc") for t in targets)


def test_hrefs_that_are_not_urls_are_not_citations(runs: Runs) -> None:
    document = runs.ran["network"].json()
    urls = [c["url"] for c in document["citations"]]
    assert runs.server.url("/n/with%20space/und%20%C3%BC") in urls
    assert all(len(url) < 8192 and url.isascii() for url in urls)
    assert runs.server.url("/n/xX-Injected:%20yes") in urls
    assert not any("\r" in url or "\n" in url or "/n/ccc" in url for url in urls)


@pytest.mark.parametrize("name", PRIVATE)
def test_redirects_to_private_addresses_are_refused(runs: Runs, name: str) -> None:
    ran = runs.ran["guarded"]
    assert ran.code == 1  # the articles could not be captured
    archive = runs.archives["guarded"]
    row = capture_row(archive, runs.server.url(f"/g/to/{name}"))
    assert (row["status"], row["error"]) == ("failed", "blocked-private-address")
    assert "not a public address" in row["error_detail"]
    assert "--allow-private" in row["error_detail"]
    assert json.loads(row["redirects"])[0][1] == 302  # the hop that asked is kept
    assert row["error_detail"] in ran.stdout  # said to the user too
    assert not any(b"/g/landing" in head for head in runs.server.heads)


def test_a_name_is_judged_by_the_address_it_reached(runs: Runs) -> None:
    row = capture_row(runs.archives["guarded"], runs.server.url("/g/to/localhost"))
    assert "localhost (127.0.0.1)" in row["error_detail"]


def test_cited_private_addresses_are_refused(runs: Runs) -> None:
    archive = runs.archives["guarded"]
    article = capture_row(archive, runs.server.url("/g/article"))
    assert article["status"] == "captured"  # typed by the user: allowed
    citations = rows(archive, "SELECT * FROM captures WHERE role = 'citation'")
    assert len(citations) == len(PRIVATE)
    for row in citations:
        assert row["error"] == "blocked-private-address", row
        assert json.loads(row["redirects"]) == []


@pytest.mark.parametrize("name", REACHABLE)
def test_private_redirects_are_followed_when_allowed(runs: Runs, name: str) -> None:
    ran = runs.ran["allowed"]
    assert ran.code == 0, ran.stderr[-3000:]
    row = capture_row(runs.archives["allowed"], runs.server.url(f"/a/to/{name}"))
    assert (row["status"], row["http_status"]) == ("captured", 200)
    assert row["final_url"].endswith("/a/landing") and row["peer_ip"] == "127.0.0.1"


def test_a_typed_url_with_spaces_and_non_ascii_is_encoded(runs: Runs) -> None:
    row = capture_row(runs.archives["allowed"], runs.server.url("/a/%C3%BC%20x"))
    assert (row["status"], row["http_status"]) == ("captured", 200)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/" + "x" * 100_000,
        "http://127.0.0.1:9/a\r\nX-Injected: yes",
        "http://127.0.0.1:9/\x1b[2J\x1b]0;pwned\x07",
    ],
    ids=["100kb-url", "crlf-in-url", "terminal-escapes-in-url"],
)
def test_typed_urls_that_are_not_urls_are_refused(tmp_path: Path, url: str) -> None:
    archive = tmp_path / "archive"
    ran = preserve(archive, "capture", url)
    assert ran.code == 2
    assert len(one_line_error(ran)) < 400 and "\x1b" not in ran.stderr
    assert not archive.exists()


# --- crash safety: kill -9 at random moments -------------------------------------------------


WORDS = " ".join(
    random.Random(0).choices(("harbour", "ferry", "quay", "council", "storm", "mooring"), k=100_000)
)


def many_pages(site: Site, generation: int, articles: int = 3, sources: int = 30) -> list[str]:
    """Articles citing `sources` sources each; bodies change with `generation` so that every
    run writes full records, and some answer slowly so that runs last a few seconds."""
    rng = random.Random(generation)
    for n in range(sources * articles):
        start = rng.randrange(len(WORDS) // 2)
        words = WORDS[start : start + rng.randint(15_000, 200_000)]
        site.pages[f"/src/{n}"] = Page(
            article_html(f"Source {n}", [f"Generation {generation}.", words]),
            delay=rng.choice((0, 0, 0.05, 0.2)),
        )
    urls = []
    for a in range(articles):
        hrefs = [(f"/src/{a * sources + i}", f"source {i}") for i in range(sources)]
        paragraphs = [
            f"Paragraph {i} of article {a}, generation {generation}, cites "
            f'<a href="{href}">{anchor}</a> about the harbour.'
            for i, (href, anchor) in enumerate(hrefs)
        ]
        site.pages[f"/article/{a}"] = Page(article_html(f"Article {a}", paragraphs))
        urls.append(site.url(f"/article/{a}"))
    return urls


KILLS = 12


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    ends = time.monotonic() + seconds
    while not condition() and time.monotonic() < ends:
        time.sleep(0.02)


def has_tables(archive: Path) -> bool:
    """Whether a run got as far as creating the archive's tables before it was killed."""
    return (archive / "preserve.db").exists() and bool(
        rows(archive, "SELECT name FROM sqlite_master WHERE name = 'records'")
    )


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[int]]]:
    """An archive whose captures were killed with SIGKILL KILLS times at random moments,
    checked after each kill; then one capture that is left to finish."""
    site = Site()
    archive = tmp_path_factory.mktemp("killed") / "archive"
    rng = random.Random(6)
    checked = []
    try:
        for generation in range(KILLS):
            urls = many_pages(site, generation)
            left = set(archive.glob("warcs/*" + OPEN_SUFFIX))  # by the run killed before
            proc = Proc(archive, "capture", *urls, "--allow-private", "-q", "--workers", "4")
            if generation % 4 == 0:  # early: opening the archive, starting the run
                time.sleep(rng.uniform(0.1, 1.0))
            else:  # while it writes: once its own WARC file is there, at a random moment
                wait_for(
                    lambda left=left: bool(set(archive.glob("warcs/*" + OPEN_SUFFIX)) - left), 30
                )
                time.sleep(rng.uniform(0, 1.5))
            proc.kill()
            proc.wait()
            if has_tables(archive):
                checked.append(assert_rows_point_at_bytes(archive))
        last = preserve(archive, "capture", *many_pages(site, KILLS), "--allow-private", "-q")
        assert last.code == 0, last.stderr
        yield archive, checked
    finally:
        site.close()


def test_killed_runs_leave_no_row_pointing_at_missing_bytes(killed: tuple[Path, list[int]]) -> None:
    archive, checked = killed
    assert len(checked) >= KILLS // 2
    assert sum(1 for n in checked if n) >= KILLS // 3, checked  # kills after captures
    assert assert_rows_point_at_bytes(archive) > max(checked)


def test_the_next_run_seals_what_a_killed_run_left(killed: tuple[Path, list[int]]) -> None:
    archive, _ = killed
    assert_verify_clean(archive)
    runs_left = rows(archive, "SELECT id FROM runs WHERE ended_at IS NULL")
    assert runs_left == []
    recoveries = rows(archive, "SELECT * FROM recoveries")
    kinds = {r["kind"] for r in recoveries}
    assert "dead-run" in kinds and "sealed-warc" in kinds, kinds
    named = {r["name"] for r in rows(archive, "SELECT name FROM warc_files")}
    on_disk = {p.name for p in (archive / "warcs").iterdir()}
    assert named == on_disk
    for r in recoveries:
        if r["kind"] == "sealed-warc":
            assert r["warc"] in named and r["records"] >= 1


CRASHER = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from preserve.engine.archive import Archive, Run
from preserve.config import Config
from preserve.net.exchange import Body, Exchange
archive = Archive(Path(sys.argv[1]))
run = Run(archive, "capture", Config(), lambda: datetime.now(UTC), {})
exchange = Exchange(url="http://example.org/", started_at=datetime.now(UTC), method="GET",
                    request_target="/", request_headers=(("Host", "example.org"),),
                    http_version="HTTP/1.1", status=200, reason="OK",
                    headers=(("Content-Type", "text/plain"),), peer_ip="93.184.215.14",
                    body=Body.of(b"a record that is whole"))
run.writer.write_exchange(exchange)
run.writer.sync()
path = run.writer.current_path
if sys.argv[2] == "renamed":  # died between renaming the file and entering it
    os.rename(path, str(path).removesuffix(".open"))
elif sys.argv[2] == "emptied":  # died before even its warcinfo was whole
    os.truncate(path, 10)
else:  # half of the next record, then death
    with open(path, "ab") as file:
        file.write(bytes.fromhex(sys.argv[2]))
        file.flush()
        os.fsync(file.fileno())
os.kill(os.getpid(), signal.SIGKILL)
"""


def crash(archive: Path, how: str) -> None:
    """A run that wrote one exchange to its WARC file and was killed, having done `how`."""
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHER, str(archive), how],
        env=clean_environment(),
        capture_output=True,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr


def test_a_torn_record_is_cut_off_and_the_crash_logged(tmp_path: Path, site: Site) -> None:
    archive = tmp_path / "archive"
    crash(archive, gzip.compress(b"WARC/1.1\r\n" + os.urandom(5000))[:1500].hex())
    (left,) = (archive / "warcs").glob("*" + OPEN_SUFFIX)
    size = left.stat().st_size

    # Until a run seals it, verify names it, and its whole records still read.
    before = preserve(archive, "verify", "--json")
    assert before.code == 1
    assert "file-unfinished" in {p["kind"] for p in before.json()["problems"]}

    site.pages["/a"] = Page(cite("/b"))
    ran = preserve(archive, "capture", site.url("/a"), "--allow-private")
    assert ran.code == 0
    assert f"Recovered: sealed {left.name.removesuffix(OPEN_SUFFIX)}" in ran.stderr
    assert "cut off a torn record of 1500 bytes" in ran.stderr
    assert "died before it ended" in ran.stderr
    sealed = archive / "warcs" / left.name.removesuffix(OPEN_SUFFIX)
    assert sealed.stat().st_size == size - 1500
    (recovery,) = rows(archive, "SELECT * FROM recoveries WHERE kind = 'sealed-warc'")
    assert (recovery["records"], recovery["cut_bytes"], recovery["run_id"]) == (3, 1500, 1)
    (dead,) = rows(archive, "SELECT * FROM runs WHERE id = 1")
    assert dead["ended_at"] == dead["started_at"]  # it stored no capture
    assert_verify_clean(archive)


@pytest.mark.parametrize(
    "how, kind, said, run_id",
    [
        ("renamed", "registered-warc", "Recovered: entered preserve-", 1),
        ("emptied", "dropped-warc", "its writer died before a whole record was in it", None),
    ],
)
def test_other_leftovers_of_a_crash(
    tmp_path: Path, site: Site, how: str, kind: str, said: str, run_id: int | None
) -> None:
    archive = tmp_path / "archive"
    crash(archive, how)
    site.pages["/a"] = Page(cite("/b"))
    ran = preserve(archive, "capture", site.url("/a"), "--allow-private", "-q")
    assert ran.code == 0 and said in ran.stderr, ran.stderr
    (recovery,) = rows(archive, "SELECT * FROM recoveries WHERE kind = ?", (kind,))
    assert recovery["run_id"] == run_id  # as its warcinfo says, when there is one
    assert rows(archive, "SELECT run_id FROM recoveries WHERE kind = 'dead-run'") == [{"run_id": 1}]
    assert_verify_clean(archive)


def test_write_order_records_synced_before_rows_commit(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row is committed only after the bytes it points at were flushed and fsynced."""
    from click.testing import CliRunner

    from preserve.cli.main import cli
    from preserve.store.database import Store

    synced: dict[str, int] = {}  # WARC file name → its size at its last fsync
    pending: list[Any] = []  # record rows inserted, not yet committed
    commits: list[int] = []
    real_fsync, real_add, real_init = os.fsync, Store.add_capture, Store.__init__

    def fsync(fd: int) -> None:
        real_fsync(fd)
        name = os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1].removesuffix(OPEN_SUFFIX)
        synced[name] = os.fstat(fd).st_size

    def add_capture(store: Store, capture: Any) -> int:
        pending.extend(capture.records)
        return real_add(store, capture)

    def on_statement(sql: str) -> None:
        if sql.strip().upper().startswith(("COMMIT", "END")):
            for record in pending:
                assert record.offset + record.length <= synced.get(record.warc, 0), record
            commits.append(len(pending))
            pending.clear()

    def init(store: Store, *args: Any, **kwargs: Any) -> None:
        real_init(store, *args, **kwargs)
        store.db.conn.set_trace_callback(on_statement)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(Store, "add_capture", add_capture)
    monkeypatch.setattr(Store, "__init__", init)
    site.pages["/a"] = Page(cite(*(f"/s/{n}" for n in range(6))))
    for n in range(6):
        site.pages[f"/s/{n}"] = Page(article_html(f"S{n}", [f"Source {n} text " * 50]))
    result = CliRunner().invoke(
        cli, ["--archive", str(tmp_path / "a"), "capture", "-q", "--allow-private", site.url("/a")]
    )
    assert result.exit_code == 0, result.output
    stored = rows(tmp_path / "a", "SELECT count(*) AS n FROM records")[0]["n"]
    assert sum(commits) == stored > 14 and not pending


# --- concurrent runs -------------------------------------------------------------------------


def test_two_runs_at_once_lose_nothing(tmp_path: Path) -> None:
    site = Site()
    try:
        archive = tmp_path / "archive"
        first = many_pages(site, 1, articles=4, sources=12)
        # Two captures on a new archive at once (each creating it), overlapping sources.
        a = Proc(archive, "capture", first[0], first[1], "--allow-private", "--json")
        b = Proc(archive, "capture", first[1], first[2], "--allow-private", "--json")
        ran_a, ran_b = a.wait(), b.wait()
        assert (ran_a.code, ran_b.code) == (0, 0), ran_a.stderr + ran_b.stderr
        # Then a check and a capture at once.
        c = Proc(archive, "check", "--allow-private", "--json")
        d = Proc(archive, "capture", first[3], "--allow-private", "--json")
        ran_c, ran_d = c.wait(), d.wait()
        assert (ran_c.code, ran_d.code) == (0, 0), ran_c.stderr + ran_d.stderr
        for ran in (ran_a, ran_b, ran_d):
            document = ran.json()
            fetched = sum(
                1 + len(entry["citations"]) + len(entry["requisites"])
                for entry in document["articles"]
            )
            stored = rows(
                archive, "SELECT count(*) AS n FROM captures WHERE run_id = ?", (document["run"],)
            )[0]["n"]
            assert stored == fetched
        checks = rows(
            archive, "SELECT count(*) AS n FROM checks WHERE run_id = ?", (ran_c.json()["run"],)
        )[0]["n"]
        assert checks == len(ran_c.json()["results"]) > 0
        files = rows(archive, "SELECT run_id, count(*) AS n FROM warc_files GROUP BY run_id")
        assert len(files) == 4  # each run its own file
        shared = rows(
            archive,
            "SELECT records.warc FROM records JOIN captures ON captures.id"
            " = records.capture_id GROUP BY records.warc"
            " HAVING count(DISTINCT captures.run_id) > 1",
        )
        assert shared == []
        assert_verify_clean(archive)
    finally:
        site.close()


def captured_article(tmp_path: Path, site: Site, more: dict[str, Page] | None = None) -> Path:
    """`tmp_path/archive` after capturing the site's /a, which cites /b; `more`: other pages
    the site serves, set before the capture."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(cite("/b"))
    site.pages.update(more or {})
    assert preserve(archive, "capture", site.url("/a"), "--allow-private", "-q").code == 0
    return archive


def test_a_run_that_must_wait_says_so(tmp_path: Path, site: Site) -> None:
    archive = captured_article(tmp_path, site)
    conn = sqlite3.connect(archive / "preserve.db", isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")  # another writer, holding the database
    proc = Proc(archive, "capture", site.url("/a"), "--allow-private", "-q")
    threading.Timer(4.0, conn.commit).start()
    ran = proc.wait()
    conn.close()
    assert ran.code == 0, ran.stderr
    assert ran.stderr.startswith("Waiting: another preserve process is writing to this archive")
    assert ran.seconds > 3.5
    assert_verify_clean(archive)


# --- storage faults --------------------------------------------------------------------------


def file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so a write fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize(
    "body_size, message",
    [
        (700_000, "Error: storage failed: File too large;"),  # the WARC file outgrows the limit
        (3_000_000, "Error: cannot keep a response body in a temporary file: File too large"),
    ],
    ids=["warc-write", "body-spool"],
)
def test_a_full_disk_stops_the_run_cleanly(
    tmp_path: Path, site: Site, body_size: int, message: str
) -> None:
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(cite("/first"))
    site.pages["/first"] = Page(article_html("First", ["A small first source."]))
    assert preserve(archive, "capture", site.url("/a"), "--allow-private", "-q").code == 0
    site.pages["/b"] = Page(cite(*(f"/big/{n}" for n in range(4)), title="Big"))
    for n in range(4):
        site.pages[f"/big/{n}"] = Page(
            os.urandom(body_size), content_type="application/octet-stream"
        )
    ran = preserve(
        archive,
        "capture",
        site.url("/b"),
        "--allow-private",
        "--workers",
        "1",
        preexec_fn=file_size_limit(2_000_000),
    )
    assert ran.code == 2
    assert one_line_error(ran).startswith(message)
    assert_verify_clean(archive)  # no row points at bytes that did not make it
    again = preserve(archive, "capture", site.url("/b"), "--allow-private", "--json")
    assert again.code == 0 and all(c["status"] == "captured" for c in again.json()["citations"])
    assert_verify_clean(archive)


def read_only(archive: Path) -> dict[str, Any]:
    """How to run preserve with `archive` read-only: a read-only bind mount in a mount
    namespace of its own when root (root writes through file modes), else file modes."""
    if os.geteuid() != 0:
        for path in (archive, archive / "warcs"):
            path.chmod(0o555)
        return {}
    return {"prefix": in_mount_namespace(f'mount --bind -o ro "{archive}" "{archive}"')}


def in_mount_namespace(script: str) -> tuple[str, ...]:
    """A command prefix that runs `script` (a shell line), then the command, in a mount
    namespace of its own; skips the test where there is none to make (not root)."""
    unshare = shutil.which("unshare")
    if (
        os.geteuid() != 0
        or unshare is None
        or subprocess.run([unshare, "--mount", "true"], capture_output=True).returncode != 0
    ):
        pytest.skip("no mount namespace to change the machine in (needs root and unshare)")
    return (
        unshare,
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'{script} && exec "$@"',
        "sh",
    )


def without_shared_memory() -> tuple[str, ...]:
    """As in containers and function sandboxes with no writable /dev/shm: multiprocessing
    cannot make its locks there, so no worker process can be started."""
    return in_mount_namespace("mount -t tmpfs -o ro tmpfs /dev/shm")


def test_a_machine_where_workers_cannot_start_still_extracts_every_page(
    tmp_path: Path, site: Site
) -> None:
    """Extraction workers that cannot be started (here: no writable /dev/shm) cost speed,
    not pages: each is extracted in the main process. It used to end the run with "storage
    failed: Read-only file system"."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(cite("/b", "/c"))
    for name in ("/b", "/c"):
        site.pages[name] = Page(article_html(name, ["The harbour closed on Monday night."]))
    prefix = without_shared_memory()
    ran = preserve(archive, "capture", site.url("/a"), "--allow-private", "--json", prefix=prefix)
    assert ran.code == 0, ran.stderr
    assert all(c["status"] == "captured" for c in ran.json()["citations"])
    texts = rows(archive, "SELECT url, text_sha256 FROM captures WHERE role != 'requisite'")
    assert len(texts) == 3 and all(row["text_sha256"] for row in texts), texts
    checked = preserve(archive, "check", "--allow-private", "--json", prefix=prefix)
    assert checked.code == 0, checked.stderr
    assert {r["outcome"] for r in checked.json()["results"]} == {"unchanged"}


def test_verify_workers_that_cannot_start_leave_the_work_to_verify() -> None:
    script = (
        "from preserve.evidence.pool import Pool\n"
        "with Pool(2) as pool:\n"
        "    print(list(pool.map(abs, [-1, -2, -3], ahead=2)))\n"
    )
    ran = subprocess.run(
        [*without_shared_memory(), sys.executable, "-c", script], capture_output=True, text=True
    )
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "[1, 2, 3]\n", "")


@contextmanager
def made_read_only(archive: Path) -> Iterator[dict[str, Any]]:
    """`read_only(archive)` for the length of a block (file modes given back after it)."""
    how = read_only(archive)
    try:
        yield how
    finally:
        if not how:
            for path in (archive, archive / "warcs"):
                path.chmod(0o755)


def copied_while_written(archive: Path, copy: Path, *args: str) -> Path:
    """A copy of `archive` taken while another process has it open, just after `preserve
    ARGS` wrote to it: the copy's -wal file still holds those transactions."""
    holder = sqlite3.connect(archive / "preserve.db")  # keeps the -wal from being folded in
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        holder.execute("SELECT count(*) FROM captures").fetchall()
        assert preserve(archive, *args).code == 0
        shutil.copytree(archive, copy)
    finally:
        holder.close()
    assert (copy / "preserve.db-wal").stat().st_size > 0
    return copy


def test_a_read_only_archive_is_refused_clearly(tmp_path: Path, site: Site) -> None:
    archive = captured_article(tmp_path, site)
    before = {p.name: p.stat().st_mtime_ns for p in archive.rglob("*")}
    with made_read_only(archive) as how:
        for args in (("capture", site.url("/a"), "--allow-private"), ("check", "--allow-private")):
            ran = preserve(archive, *args, **how)
            assert ran.code == 2
            assert "not writable" in one_line_error(ran)
    assert {p.name: p.stat().st_mtime_ns for p in archive.rglob("*")} == before
    assert_verify_clean(archive)


def test_a_read_only_archive_can_still_be_verified_searched_and_reported(
    tmp_path: Path, site: Site
) -> None:
    """Evidence kept on read-only media: every command that only reads works there, and
    nothing in the folder changes."""
    archive = captured_article(
        tmp_path, site, {"/b": Page(article_html("B", ["The harbour closed on Monday night."]))}
    )
    before = {p.name: p.stat().st_mtime_ns for p in archive.rglob("*")}
    assert not (archive / "preserve.db-wal").exists()  # all of it in the file: immutable
    with made_read_only(archive) as how:
        verified = preserve(archive, "verify", "--json", **how)
        assert verified.code == 0 and verified.json()["ok"], verified.stdout + verified.stderr
        status = preserve(archive, "status", "--json", **how)
        assert status.code == 0
        assert {t["url"] for t in status.json()["targets"]} == {site.url("/a"), site.url("/b")}
        for args in (
            ("history", site.url("/b")),
            ("show", site.url("/b")),
            ("find-text", "harbour closed on Monday"),
            ("report", site.url("/a"), "--json"),
            ("export", site.url("/a"), "--wacz", str(tmp_path / "evidence.wacz")),
        ):
            ran = preserve(archive, *args, **how)
            assert ran.code == 0, (args, ran.stderr)
        assert (tmp_path / "evidence.wacz").stat().st_size > 0
        assert "not logged in the archive: it is read-only here" in ran.stdout
        ran = preserve(archive, "check", "--allow-private", **how)
        assert ran.code == 2 and "not writable" in one_line_error(ran)
    assert {p.name: p.stat().st_mtime_ns for p in archive.rglob("*")} == before


def test_a_read_only_copy_taken_while_a_run_wrote_is_read_through_its_wal(
    tmp_path: Path, site: Site
) -> None:
    """A copy of an archive taken while another process had it open holds a -wal file with
    the latest transactions: they are read, not ignored (opened as immutable, SQLite would
    leave them out, and the second capture's WARC file would be unknown)."""
    archive = captured_article(
        tmp_path, site, {"/c": Page(article_html("C", ["A second article, captured later on."]))}
    )
    copy = copied_while_written(
        archive, tmp_path / "copy", "capture", site.url("/c"), "--allow-private", "-q"
    )
    with made_read_only(copy) as how:
        verified = preserve(copy, "verify", "--json", **how)
        assert verified.code == 0 and verified.json()["ok"], verified.stdout + verified.stderr
        status = preserve(copy, "status", "--json", **how)
        assert site.url("/c") in {t["url"] for t in status.json()["targets"]}


def test_a_read_only_copy_whose_wal_lacks_its_shm_is_refused_clearly(
    tmp_path: Path, site: Site
) -> None:
    archive = captured_article(tmp_path, site)
    copy = copied_while_written(
        archive, tmp_path / "copy", "track", site.url("/a"), "--every", "2d"
    )
    (copy / "preserve.db-shm").unlink()
    with made_read_only(copy) as how:
        ran = preserve(copy, "verify", **how)
        assert ran.code == 2
        assert "-wal" in one_line_error(ran) and "preserve.db-shm" in ran.stderr


def test_a_read_only_archive_of_an_older_version_is_refused_clearly(
    tmp_path: Path, site: Site
) -> None:
    archive = captured_article(tmp_path, site)
    with closing(sqlite3.connect(archive / "preserve.db")) as conn, conn:
        # As a preserve from before m007 left it (any migration undone would do):
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_captures_by_parent'")
        conn.execute("DROP INDEX idx_captures_parent_id")
    with made_read_only(archive) as how:
        ran = preserve(archive, "status", **how)
        assert ran.code == 2
        assert "earlier version of preserve" in one_line_error(ran)
    assert preserve(archive, "status").code == 0  # writable again: brought up to date


def test_a_missing_warc_is_explained_and_not_relied_on(tmp_path: Path, site: Site) -> None:
    archive = captured_article(
        tmp_path, site, {"/b": Page(article_html("B", ["The source text stays the same."]))}
    )
    (lost,) = (archive / "warcs").iterdir()
    lost.unlink()

    ran = preserve(archive, "verify", "--json")
    assert ran.code == 1
    kinds = {p["kind"] for p in ran.json()["problems"]}
    assert {"file-missing", "record-missing"} <= kinds
    assert all(lost.name in p["detail"] for p in ran.json()["problems"])

    shown = preserve(archive, "show", site.url("/b"), "--raw")
    assert shown.code != 0 and lost.name in one_line_error(shown)

    # The payloads are unchanged, but their originals are gone: stored in full again, not
    # as revisits pointing at the lost file.
    again = preserve(archive, "capture", site.url("/a"), "--allow-private", "--json")
    assert again.code == 0
    assert again.json()["article"]["record_type"] == "response"
    assert {c["record_type"] for c in again.json()["citations"]} == {"response"}


# --- fuzzing ---------------------------------------------------------------------------------

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_HTML = settings(
    max_examples=25,
    deadline=None,  # each runs the whole extractor
    suppress_health_check=[HealthCheck.too_slow],
)
URL_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",))
hosts = st.one_of(
    st.sampled_from(
        [
            "example.org",
            "EXAMPLE.org.",
            "127.0.0.1",
            "[::1]",
            "xn--bcher-kva.example",
            "bücher.example",
            "a-b.c",
            "2130706433",
            "[::ffff:10.0.0.1]",
            "exa mple.org",
            "",
        ]
    ),
    st.text(URL_CHARS, max_size=20),
)
urlish = st.one_of(
    st.text(URL_CHARS, max_size=200),
    st.builds(
        lambda scheme, host, port, path, query, fragment: (
            f"{scheme}://{host}{port}{path}{query}{fragment}"
        ),
        st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", "file", ""]),
        hosts,
        st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":x"]),
        st.text(URL_CHARS, max_size=60).map(lambda s: "/" + s),
        st.one_of(st.just(""), st.text(URL_CHARS, max_size=40).map(lambda s: "?" + s)),
        st.one_of(st.just(""), st.text(URL_CHARS, max_size=20).map(lambda s: "#" + s)),
    ),
)


def assert_canonical_form(url: str) -> None:
    assert url.isascii()
    assert url.startswith(("http://", "https://"))
    assert "#" not in url and " " not in url
    assert not any(ord(c) < 0x21 or ord(c) == 0x7F for c in url)
    assert canonical(url) == url  # idempotent


@FUZZ
@given(urlish)
def test_canonical_never_crashes_and_is_idempotent(url: str) -> None:
    try:
        result = canonical(url)
    except BadURL:
        return
    assert_canonical_form(result)


@FUZZ_HTML
@given(
    st.lists(
        st.one_of(
            urlish,
            st.sampled_from(
                [
                    "#top",
                    "",
                    "/",
                    "?q=1",
                    "../x",
                    "//other.example/p",
                    "mailto:a@b",
                    "javascript:void(0)",
                ]
            ),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["http://example.org/a/b", "https://bücher.example/x?y=1"]),
)
def test_citations_are_absolute_http_urls_without_fragments(
    hrefs: list[str], page_url: str
) -> None:
    escape = {"&": "&amp;", '"': "&quot;", "<": "&lt;"}
    html = cite(*("".join(escape.get(c, c) for c in href) for href in hrefs))
    found = extract(html, url=canonical(page_url), content_type="text/html; charset=utf-8")
    own = canonical(page_url)
    for citation in found.citations:
        assert_canonical_form(citation.url)
        assert citation.url != own
    assert len({c.url for c in found.citations}) == len(found.citations)


@FUZZ_HTML
@given(
    st.binary(max_size=4000),
    st.sampled_from(
        [
            None,
            "text/html",
            "text/html; charset=utf-16",
            "text/plain",
            "application/octet-stream",
            "text/html; charset=bogus",
        ]
    ),
    st.sampled_from([None, "gzip", "deflate", "br", "gzip, gzip"]),
)
def test_the_extractor_survives_random_bytes(
    raw: bytes, content_type: str | None, encoding: str | None
) -> None:
    for body in (raw, b"<html><body><p>" + raw + b"</p><a href='" + raw[:50] + b"'>x</a>"):
        found = extract(
            body, url="http://example.org/p", content_type=content_type, content_encoding=encoding
        )
        for citation in found.citations:
            assert_canonical_form(citation.url)


def test_two_checks_at_once_do_not_fetch_the_same_url_twice(tmp_path: Path) -> None:
    """Two `check`s at once each fetched everything. A check holds the URLs it is checking;
    another one running then skips them, and says so."""
    site = Site()
    try:
        archive = tmp_path / "archive"
        site.pages["/slow"] = Page("<html><body><p>Slow but sure.</p></body></html>")
        site.pages["/quick"] = Page("<html><body><p>Quick.</p></body></html>")
        for path in ("/slow", "/quick"):
            ran = Proc(archive, "capture", site.url(path), "--allow-private").wait()
            assert ran.code == 0, ran.stderr
        site.pages["/slow"] = Page("<html><body><p>Slow but sure.</p></body></html>", delay=3)

        first = Proc(archive, "check", site.url("/slow"), "--allow-private", "--json")
        deadline = time.monotonic() + 20
        while not rows(archive, "SELECT 1 FROM targets WHERE check_run IS NOT NULL"):
            assert time.monotonic() < deadline, "the first check never held its URL"
            time.sleep(0.05)
        second = Proc(archive, "check", "--allow-private", "--json").wait()
        ran = first.wait()

        assert (ran.code, second.code) == (0, 0), ran.stderr + second.stderr
        assert [r["url"] for r in second.json()["results"]] == [site.url("/quick")]
        assert "Skipped 1 URL(s) that another check" in second.stderr
        assert [r["url"] for r in ran.json()["results"]] == [site.url("/slow")]
        assert site.hits["/slow"] == 2  # the capture and the first check; never the second
        assert rows(archive, "SELECT url FROM targets WHERE check_run IS NOT NULL") == []
    finally:
        site.close()
