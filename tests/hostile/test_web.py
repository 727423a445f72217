"""The hostile web (docs/security.md): every case runs `preserve` as a real process against
servers on 127.0.0.1 only, a raw-socket server that misbehaves on purpose
(tests/support/hostile.py) and the test site (tests/support/sites.py). Each misbehaviour must
end in a recorded outcome (a capture row with a reason) and a clear message, and no capture
process may go over RSS_CAP_MB of memory.

The slow part (the hostile runs, a few seconds on two cores) is shared by a module-scoped
fixture."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from preserve.warc.reader import read_record
from tests.hostile.helpers import capture_row, cite, rows
from tests.support import hostile
from tests.support.hostile import HostileServer, redirect, respond
from tests.support.processes import Proc, Ran, assert_rows_point_at_bytes, one_line_error, spawn

# The most a capture process may take, whatever the web serves it (measured: about 260 MB
# for the content run below, all bombs at once, with the default limits).
RSS_CAP_MB = 400
DEADLINE = 4  # seconds a whole fetch may take in the network run (the drip is cut there)
MIB = 1 << 20

# Long end-to-end runs: the hostile web captured by real processes (make test-fast skips).
pytestmark = pytest.mark.slow

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
    ran = spawn(archive, "capture", url)
    assert ran.code == 2
    assert len(one_line_error(ran)) < 400 and "\x1b" not in ran.stderr
    assert not archive.exists()
