"""The built-in sample web for `preserve demo`: a 2016-style article whose claims rest on
the sources it cites, served from three local "sites" on 127.0.0.1. Written for preserve;
the demo edits and removes its sources to show what a check finds."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARTICLE_PATH = "/2016/10/behind-the-masks"

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/static/site.css"></head>
<body>
<nav><a href="/">Home</a> | <a href="/world/">World</a> | <a href="/opinion/">Opinion</a></nav>
<header><h1>{title}</h1><p class="byline">{byline}</p></header>
<main><article>
{body}
</article></main>
<aside><h2>Most read</h2><ul>
<li><a href="/2016/10/markets-fall">Markets fall for a third day</a></li>
<li><a href="/2016/10/storm-warning">Storm warning for the coast</a></li></ul></aside>
<footer><a href="/privacy">Privacy</a> <a href="/contact">Contact</a>
<a href="https://share.example/?u=this">Share</a></footer>
</body></html>"""


def _page(title: str, byline: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return _PAGE.format(title=title, byline=byline, body=body)


def article(news: str, gov: str, wire: str) -> str:
    return _page(
        "Behind the Masks: Who Is Really Fighting Whom",
        "By the Desk, 14 October 2016",
        [
            "The chair of the National Council, Leila Haddad, said on Tuesday that her government "
            "holds new evidence that the air strike on army positions near the river crossing was "
            f'no accident. <a href="{gov}/statements/2016/10/haddad-briefing">In a statement '
            "released after her visit</a>, she said the evidence came from intercepted "
            "communications.",
            "According to Haddad, signals intelligence units recorded a conversation in which a "
            "coalition officer told militants to advance once the strike was over. "
            f'<a href="{wire}/2016/10/intercept-report">A wire service report</a> quoted her '
            "as saying the recordings would be shared with observers.",
            "A field commander of an armed group told a German newspaper that foreign advisers "
            "had supplied weapons and medicine to his fighters. "
            f'<a href="{wire}/interviews/field-commander">The full interview</a> names four '
            "countries as supporters of the armed groups.",
            "A year earlier, a leaked technical annex had described supply routes across the "
            f'border. <a href="{gov}/docs/annex-2015.pdf">The annex (PDF)</a> was later '
            "withdrawn from the ministry's website.",
            f'<a href="{wire}/transcripts/briefing-2016-10-11.txt">The briefing transcript</a> '
            "records the exchange between reporters and the council's spokesman.",
            "The council's earlier statement on the same incident "
            f'(<a href="{gov}/statements/2016/09/first-response">first response</a>) is cited '
            "by several outlets, but its address no longer answers.",
            f'Readers can find <a href="{news}{ARTICLE_PATH}#comments">the discussion below</a>.',
        ],
    )


def briefing_statement() -> str:
    return _page(
        "Statement after the Tehran visit",
        "Press office of the National Council",
        [
            "The chair of the National Council, Leila Haddad, met officials in Tehran on Tuesday.",
            "She stated that the Council has received information obtained by intercepting "
            "communications, and that this information shows the strike was deliberate.",
            "The Council will present the material to international observers in due course.",
        ],
    )


def intercept_report(denied: bool = False) -> str:
    verb = "did not say" if denied else "said"
    return _page(
        "Council says intercepts show strike was planned",
        "Wire staff",
        [
            "The National Council's chair said on Tuesday that intercepted conversations showed "
            "the air strike near the river crossing had been planned in advance.",
            f"Haddad {verb} the recordings would be shared with international observers within "
            "a week.",
            "The coalition has said the strike was a mistake and has expressed regret for the "
            "loss of life.",
        ],
    )


def interview() -> str:
    return _page(
        "'We receive weapons and advisers': an interview",
        "Foreign desk",
        [
            "In an interview with a German newspaper, a field commander of an armed group "
            "described how his fighters are supplied.",
            "He said that foreign advisers had delivered weapons, medicine and money, and that "
            "four countries in the region supported the groups.",
            "He declined to give details of the routes used for the deliveries.",
        ],
    )


TRANSCRIPT = (
    "BRIEFING TRANSCRIPT, 11 October 2016\n\n"
    "Q: Will the recordings be made public?\n"
    "SPOKESMAN: They will be shown to observers first.\n"
    "Q: Where can journalists read the earlier statement?\n"
    "SPOKESMAN: It is on our site, see {gov}/statements/2016/10/haddad-briefing .\n"
)


# A small valid PDF (one page, one line of text), written by hand.
def simple_pdf(
    lines: list[str],
    *,
    title: str | None = None,
    producer: str = "preserve sample",
    created: str = "D:20150401120000Z",
    text_layer: bool = True,
) -> bytes:
    """A small, valid PDF of one page: each of `lines` in Helvetica (latin-1), with a
    document title, producer and creation date in its metadata. `text_layer=False` draws
    the lines as shapes only, as a scan would: a page with nothing to read as text."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    if text_layer:
        shown = "".join(
            f"BT /F1 11 Tf 40 {760 - 16 * n} Td ({escape(line)}) Tj ET\n"
            for n, line in enumerate(lines)
        )
    else:
        shown = "".join(f"40 {760 - 16 * n} 300 8 re f\n" for n, _ in enumerate(lines))
    content = shown.encode("latin-1")
    info = f"/Producer ({escape(producer)}) /CreationDate ({created})"
    if title:
        info += f" /Title ({escape(title)})"
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n" % len(content) + content + b"endstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        f"<<{info}>>".encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj" % number + body + b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R/Info 6 0 R>>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


ANNEX_PDF = simple_pdf(
    [
        "Technical annex, 2015",
        "The crossing point near the river was surveyed in March 2015.",
        "Observers counted forty vehicles on the northern road.",
    ],
    title="Technical annex, 2015",
)

CSS = b"body { font-family: serif; max-width: 40em; margin: auto; }\n"


@dataclass
class Response:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


class SampleSite:
    """One local site: a table of paths that the demo may change while it runs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pages: dict[str, Response] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                page = pages.get(self.path.split("?")[0]) or Response(
                    b"<html><body><h1>Not found</h1></body></html>", status=404
                )
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                for name, value in page.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(page.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        # Polled every 10 ms rather than serve_forever's 0.5 s, so that stopping the web is quick.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    def html(self, path: str, text: str, status: int = 200) -> None:
        self.pages[path] = Response(text.encode("utf-8"), status=status)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SampleWeb:
    """The news site with the article, a government site and a wire agency."""

    def __init__(self) -> None:
        self.news = SampleSite("news")
        self.gov = SampleSite("gov")
        self.wire = SampleSite("wire")
        news, gov, wire = self.news.base, self.gov.base, self.wire.base
        self.news.html(ARTICLE_PATH, article(news, gov, wire))
        self.news.pages["/static/site.css"] = Response(CSS, content_type="text/css")
        self.gov.html("/statements/2016/10/haddad-briefing", briefing_statement())
        self.gov.pages["/docs/annex-2015.pdf"] = Response(ANNEX_PDF, content_type="application/pdf")
        self.wire.html("/2016/10/intercept-report", intercept_report())
        self.wire.html("/interviews/field-commander", interview())
        self.wire.pages["/transcripts/briefing-2016-10-11.txt"] = Response(
            TRANSCRIPT.format(gov=gov).encode(), content_type="text/plain; charset=utf-8"
        )

    def change(self) -> list[str]:
        """What happens to the sources after publication; returns a line per change."""
        wire, gov = self.wire, self.gov
        wire.html("/2016/10/intercept-report", intercept_report(denied=True))
        wire.pages["/interviews/field-commander"] = Response(
            b"<html><body><h1>Gone</h1><p>This interview has been removed.</p></body></html>",
            status=410,
        )
        moved_to = "/statements/archive/2016/haddad-briefing"
        gov.html(moved_to, briefing_statement())
        gov.pages["/statements/2016/10/haddad-briefing"] = Response(
            b"", status=301, headers=[("Location", gov.base + moved_to)]
        )
        return [
            f'edited   {wire.base}/2016/10/intercept-report  ("said" became "did not say")',
            f"removed  {wire.base}/interviews/field-commander  (now 410 Gone)",
            f"moved    {gov.base}/statements/2016/10/haddad-briefing  (301 to {moved_to})",
        ]

    @property
    def article_url(self) -> str:
        return self.news.base + ARTICLE_PATH

    def close(self) -> None:
        for site in (self.news, self.gov, self.wire):
            site.close()
