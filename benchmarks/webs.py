"""The two local webs the benchmark captures, and the servers that serve them.

- The **bulk web**: articles that each cite N sources of their own, realistic HTML of 5–40 KB
  (a news page: head with styles, scripts and JSON-LD, navigation, the article with its
  links inside sentences, a "most read" list, a footer), written to disk as one JSON file
  per host and served by `serve_static`: one asyncio process per host, every page held in
  memory, HTTP/1.1 keep-alive. It must never be what limits a crawler (`run.py` measures
  its share of the machine during a capture, and what it can answer).
- The **latency web**: the same kind of pages, every response held back `delay` seconds, served
  by one asyncio process (`serve_latency`) listening on several ports, like far-away hosts.

Run as a script: `python webs.py generate DIR ARTICLES SOURCES HOSTS` writes a web;
`python webs.py static DIR [CERT KEY]` (over HTTPS with a certificate) or
`python webs.py latency DIR DELAY` serves one, printing
`ready PORT [PORT…]` once it listens, until killed (`BENCH_THREADED=1` serves the static web
with the standard library's threaded server instead). Everything is generated from a seed,
so two runs serve the same bytes.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import ssl
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# About 600 words of news prose: enough variety that pages compress like real text (~3x).
_WORDS = """
the of and to a in that is was he for it with as his on be at by had are but from or have an
they which one you were her all she there would their we him been has when who will more no
if out so said what up its about into than them can only other new some could time these two
may then do first any my now such like our over man me even most made after also did many
before must through back years where much your way well down should because each just those
people how too little state good very make world still own see men work long get here between
both life being under never day same another know while last might us great old year off
come since against go came right used take three states himself few house use during without
again place american around however home small found thought went say part once general high
upon school every does got united left number course war until always away something fact
though water less public put think almost hand enough far took head yet government system
better set told nothing night end why called didnt eyes find going look asked later knew
point next program city business give group toward young days let room president side social
given present several order national possible rather second face per among form important
often things early become white case john large four need big within felt along children saw
best church ever least power development light thing seemed family interest want members
others mind country area done turned although open god service problem certain kind different
thus began door help means sense whole matter perhaps itself york times law human line above
name example action company hands local show whether five history gave today either act feet
across taken past quite anything seen having death experience body word half really week free
minister council statement report evidence officials sources according interview agency
ministry spokesman confirmed denied claimed alleged investigation documents recordings
intercepted briefing parliament committee commander forces border crossing strike army
positions river ceasefire negotiations observers international humanitarian convoy refugees
spokeswoman prosecutor court ruling appeal judge lawyers testimony witnesses inquiry senator
deputy election campaign votes polling district governor mayor budget deficit taxes markets
""".split()

_SECTIONS = ("world", "politics", "business", "science", "opinion", "investigations")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_STYLE_RULES = [
    "body{margin:0;font:16px/1.5 Georgia,serif;color:#222}",
    ".wrap{max-width:720px;margin:0 auto;padding:0 16px}",
    "nav a{margin-right:12px;color:#06c;text-decoration:none}",
    "article p{margin:0 0 1em}",
    "aside{font-size:14px;color:#555}",
    "footer{border-top:1px solid #ddd;padding:24px 0;font-size:13px}",
    ".byline{color:#777;font-style:italic}",
    "h1{font-size:34px;line-height:1.2}",
    ".share button{border:0;background:#eee;padding:4px 8px;border-radius:3px}",
    "@media (max-width:600px){h1{font-size:26px}.wrap{padding:0 10px}}",
]


@dataclass(frozen=True)
class Web:
    """A generated web: its folder (one subfolder per host), how many hosts, and the paths
    of its articles and sources as (host index, path)."""

    root: Path
    hosts: int
    articles: tuple[tuple[int, str], ...]
    sources: tuple[tuple[int, str], ...]
    extra: tuple[tuple[int, str], ...]  # section pages linked from page chrome

    @property
    def pages(self) -> int:
        return len(self.articles) + len(self.sources)

    def urls(self, ports: list[int], which: str = "articles", scheme: str = "http") -> list[str]:
        items = {"articles": self.articles, "sources": self.sources}[which]
        return [f"{scheme}://127.0.0.1:{ports[h]}{path}" for h, path in items]

    def bytes(self) -> int:
        return int(json.loads((self.root / "web.json").read_text())["bytes"])


def _make_sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(8, 26))
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        words.insert(
            rng.randint(1, len(words) - 1),
            rng.choice(("Haddad", "Moreau", "Okafor", "Lindqvist", "Petrov")),
        )
    return " ".join(words) + rng.choice(".....?")


# Pages draw their sentences from a pool (generating words one by one made the 22,000-page
# web take minutes); with 20,000 sentences no two pages share much of their text.
_POOL = [_make_sentence(random.Random(f"pool-{i}")) for i in range(20_000)]


def _sentence(rng: random.Random) -> str:
    return _POOL[rng.randrange(len(_POOL))]


def _paragraph(rng: random.Random, sentences: int | None = None) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences or rng.randint(3, 7)))


def _title(rng: random.Random) -> str:
    return " ".join(rng.choices(_WORDS, k=rng.randint(5, 10))).capitalize()


def _date(rng: random.Random) -> tuple[str, str]:
    year, month, day = rng.randint(2014, 2020), rng.randint(1, 12), rng.randint(1, 28)
    return f"{year}-{month:02d}-{day:02d}", f"{day} {_MONTHS[month - 1]} {year}"


def _page(
    rng: random.Random,
    *,
    site: str,
    title: str,
    size: int,
    links: list[str],
    chrome: list[str],
    kind: str,
) -> str:
    """One page of about `size` bytes whose main text holds `links`, in order, each inside
    a sentence; `chrome` are the targets of the navigation, aside and footer links."""
    iso, human = _date(rng)
    author = rng.choice(
        ("Leila Haddad", "Tom Moreau", "Ada Okafor", "Eva Lindqvist", "Ivan Petrov", "the Desk")
    )
    nav = " ".join(
        f'<a href="{chrome[i % len(chrome)]}">{s.capitalize()}</a>' for i, s in enumerate(_SECTIONS)
    )
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": title,
            "datePublished": iso,
            "author": {"@type": "Person", "name": author},
            "publisher": {"@type": "Organization", "name": site},
        }
    )
    style = "\n".join(rng.sample(_STYLE_RULES, k=len(_STYLE_RULES)) * rng.randint(1, 3))
    head = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} | {site}</title>\n"
        f'<meta name="description" content="{_sentence(rng)}">\n'
        f'<meta property="og:title" content="{title}">\n'
        f'<meta property="og:type" content="{kind}">\n'
        f'<meta property="article:published_time" content="{iso}T08:00:00Z">\n'
        f'<script type="application/ld+json">{ld}</script>\n<style>\n{style}\n</style>\n'
        f"<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push("
        f"arguments)}}gtag('js',new Date());gtag('config','UA-{rng.randint(10**6, 10**7)}"
        f"-1');</script>\n</head>\n"
    )
    top = (
        f'<body>\n<div class="wrap">\n<header><p class="site">{site}</p>\n<nav>{nav}</nav>'
        f"</header>\n<main>\n<article>\n<h1>{title}</h1>\n"
        f'<p class="byline">By {author}, <time datetime="{iso}">{human}</time></p>\n'
    )
    aside = (
        "</article>\n</main>\n<aside><h2>Most read</h2><ul>\n"
        + "".join(
            f'<li><a href="{chrome[(i + 2) % len(chrome)]}">{_title(rng)}</a></li>\n'
            for i in range(5)
        )
        + '</ul></aside>\n<div class="share"><button>Share</button> '
        "<button>Print</button></div>\n"
    )
    foot = (
        f"<footer><p>&copy; {iso[:4]} {site}. All rights reserved.</p><p>"
        + " | ".join(
            f'<a href="{chrome[i % len(chrome)]}">{w}</a>'
            for i, w in enumerate(("About", "Contact", "Privacy", "Terms"))
        )
        + "</p></footer>\n</div>\n</body>\n</html>\n"
    )
    budget = size - len(head) - len(top) - len(aside) - len(foot)
    paragraphs: list[str] = []
    used = 0
    # Enough paragraphs for the size; the links are spread over them, in order.
    while used < budget or len(paragraphs) < max(3, len(links)):
        text = _paragraph(rng)
        paragraphs.append(text)
        used += len(text) + 8
    slots = sorted(rng.sample(range(len(paragraphs)), k=len(links))) if links else []
    for link, slot in zip(links, slots, strict=True):
        anchor = " ".join(rng.choices(_WORDS, k=rng.randint(2, 5)))
        sentence = (
            f'{_sentence(rng)[:-1]}, <a href="{link}">{anchor}</a> '
            f"{' '.join(rng.choices(_WORDS, k=rng.randint(4, 10)))}."
        )
        paragraphs[slot] = f"{paragraphs[slot]} {sentence}"
    body = "".join(
        f"<p>{p}</p>\n" if i % 6 != 5 else f"<h2>{_title(rng)}</h2>\n<p>{p}</p>\n"
        for i, p in enumerate(paragraphs)
    )
    return head + top + body + aside + foot


def generate(
    root: Path,
    *,
    articles: int,
    sources: int,
    hosts: int,
    seed: int = 7,
    min_kb: int = 5,
    max_kb: int = 40,
) -> Web:
    """Write the web under `root/<host index>/…`. Article i lives on host i % hosts and cites
    `sources` pages of its own, spread over all the hosts; links are absolute URLs with a
    `{port:N}` placeholder that the server fills in with host N's port."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    sites: list[dict[str, str]] = [{} for _ in range(hosts)]
    article_paths: list[tuple[int, str]] = []
    source_paths: list[tuple[int, str]] = []
    extra: list[tuple[int, str]] = []
    chrome_paths = ["/", "/world/", "/about"]
    for host in range(hosts):
        for path in chrome_paths:
            extra.append((host, path))
            sites[host][path] = _page(
                rng,
                site=f"Site {host}",
                title=_title(rng),
                size=4000,
                links=[],
                chrome=chrome_paths,
                kind="website",
            )

    def size() -> int:
        # Log-uniform between min and max: many small pages, some long reads.
        return int(1024 * min_kb * (max_kb / min_kb) ** rng.random())

    for n in range(articles):
        host = n % hosts
        section = _SECTIONS[n % len(_SECTIONS)]
        path = f"/{2015 + n % 6}/{1 + n % 12:02d}/{section}-{n:05d}"
        links = []
        for j in range(sources):
            source_host = (n + j + 1) % hosts
            source_path = f"/sources/{n:05d}/{j:02d}-{_WORDS[rng.randrange(len(_WORDS))]}"
            source_paths.append((source_host, source_path))
            links.append(f"http://127.0.0.1:{{port:{source_host}}}{source_path}")
            outgoing = [
                f"http://127.0.0.1:{{port:{(source_host + k) % hosts}}}/sources/"
                f"{(n + k) % max(articles, 1):05d}/{k:02d}-cited"
                for k in range(3)
            ]
            sites[source_host][source_path] = _page(
                rng,
                site=f"Site {source_host}",
                title=_title(rng),
                size=size(),
                links=outgoing,
                chrome=chrome_paths,
                kind="article",
            )
        article_paths.append((host, path))
        sites[host][path] = _page(
            rng,
            site=f"Site {host}",
            title=_title(rng),
            size=size(),
            links=links,
            chrome=chrome_paths,
            kind="article",
        )
    for host, pages in enumerate(sites):
        (root / f"{host}.json").write_text(json.dumps(pages), encoding="utf-8")
    web = Web(root, hosts, tuple(article_paths), tuple(source_paths), tuple(extra))
    (root / "web.json").write_text(
        json.dumps(
            {
                "hosts": hosts,
                "articles": article_paths,
                "sources": source_paths,
                "extra": extra,
                "bytes": sum(len(p.encode()) for site in sites for p in site.values()),
            }
        )
    )
    return web


def load_web(root: Path) -> Web | None:
    """A web generated earlier into `root`, if there is one."""
    try:
        data = json.loads((root / "web.json").read_text())
    except (OSError, ValueError):
        return None
    return Web(
        root,
        data["hosts"],
        *(tuple((h, p) for h, p in data[key]) for key in ("articles", "sources", "extra")),
    )


def _load(root: Path, host: int, ports: list[int], scheme: str = "http") -> dict[str, bytes]:
    """Every page of one host by request path, with the port placeholders filled in (and
    its links made https when the web is served over TLS)."""
    pages = json.loads((root / f"{host}.json").read_text(encoding="utf-8"))
    out = {}
    for path, text in pages.items():
        for i, port in enumerate(ports):
            text = text.replace(f"{{port:{i}}}", str(port))
        if scheme != "http":
            text = text.replace("http://127.0.0.1:", f"{scheme}://127.0.0.1:")
        out[path] = text.encode("utf-8")
    return out


def _listen(count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        socks.append(sock)
    return socks


# --- the static server: a process per host ---------------------------------------------------


class _StaticServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def serve_static(root: Path, host: int, sock: socket.socket, ports: list[int]) -> None:
    pages = _load(root, host, ports)
    not_found = b"<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            body = pages.get(self.path.split("?", 1)[0])
            status = 200 if body is not None else 404
            body = body if body is not None else not_found
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Last-Modified", "Tue, 11 Oct 2016 08:00:00 GMT")
            self.end_headers()
            self.wfile.write(body)

    server = _StaticServer(sock.getsockname(), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.serve_forever(poll_interval=0.5)


# --- the latency server: asyncio, every response delayed --------------------------------------


def serve_latency(root: Path, socks: list[socket.socket], delay: float) -> None:
    ports = [s.getsockname()[1] for s in socks]
    sites = [_load(root, i, ports) for i in range(len(socks))]
    asyncio.run(_latency_main(sites, socks, delay))


async def _latency_main(
    sites: list[dict[str, bytes]],
    socks: list[socket.socket],
    delay: float,
    tls: ssl.SSLContext | None = None,
) -> None:
    servers = []
    # Requests being answered at once, per host (its port), and the most seen since the
    # last look: GET /__busiest answers them as JSON and starts counting again (`make
    # bench` holds the per-host limit of workers to it).
    busy: dict[int, int] = {}
    busiest: dict[int, int] = {}
    for pages, sock in zip(sites, socks, strict=True):

        async def handle(
            reader: asyncio.StreamReader,
            writer: asyncio.StreamWriter,
            pages: dict[str, bytes] = pages,
            port: int = sock.getsockname()[1],
        ) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    request_line, *lines = head.decode("latin-1").split("\r\n")
                    path = request_line.split(" ")[1].split("?", 1)[0]
                    close = any(
                        line.lower().startswith("connection:") and "close" in line.lower()
                        for line in lines
                    )
                    if path == "/__busiest":
                        report = json.dumps({str(p): n for p, n in busiest.items()}).encode()
                        busiest.clear()
                        writer.write(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(report), report)
                        )
                        await writer.drain()
                        continue
                    busy[port] = busy.get(port, 0) + 1
                    busiest[port] = max(busiest.get(port, 0), busy[port])
                    try:
                        if delay:
                            await asyncio.sleep(delay)
                    finally:
                        busy[port] -= 1
                    body = pages.get(path)
                    status = "200 OK" if body is not None else "404 Not Found"
                    body = body if body is not None else b"<html><body>Not Found</body></html>"
                    writer.write(
                        f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
                        f"Content-Length: {len(body)}\r\n"
                        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n".encode()
                        + body
                    )
                    await writer.drain()
                    if close:
                        break
            except (
                asyncio.IncompleteReadError,
                ConnectionError,
                IndexError,
                asyncio.LimitOverrunError,
            ):
                pass
            finally:
                writer.close()

        servers.append(await asyncio.start_server(handle, sock=sock, backlog=1024, ssl=tls))
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main(argv: list[str]) -> None:
    kind, root = argv[0], Path(argv[1])
    if kind == "generate":  # in its own process: the benchmark's own memory stays small
        articles, sources, hosts = (int(a) for a in argv[2:5])
        generate(root, articles=articles, sources=sources, hosts=hosts)
        return
    web = load_web(root)
    if web is None:
        raise SystemExit(f"no web in {root}")
    hosts = web.hosts
    socks = _listen(hosts)
    ports = [s.getsockname()[1] for s in socks]
    if kind == "static":
        tls = None
        if len(argv) > 2:  # a certificate and its key: serve HTTPS
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(argv[2], argv[3])
        # One process per host, each with its listening socket: fork after binding.
        children = []
        for host, sock in enumerate(socks):
            pid = os.fork()
            if pid == 0:
                try:
                    if os.environ.get("BENCH_THREADED") and tls is None:
                        serve_static(root, host, sock, ports)
                    else:
                        pages = _load(root, host, ports, "https" if tls else "http")
                        asyncio.run(_latency_main([pages], [sock], 0.0, tls))
                finally:
                    os._exit(0)
            children.append(pid)
        print("ready", *ports, flush=True)
        try:
            for pid in children:
                os.waitpid(pid, 0)
        except KeyboardInterrupt:
            pass
    elif kind == "latency":
        print("ready", *ports, flush=True)
        serve_latency(root, socks, float(argv[2]))
    else:
        raise SystemExit(f"unknown server kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
