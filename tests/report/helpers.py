"""An investigation to report on (an article and four sources, served on 127.0.0.1), and
an archive's rows written straight into the store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from preserve.report.model import Report
from preserve.store.database import Store
from preserve.times import iso
from tests.support.clock import T0
from tests.support.sites import Site, article_html

HOSTILE = "<script>alert('pwned')</script>"
ESCAPED = "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;"


def article_page(sources: Site, *, edited: bool) -> str:
    """The investigation's article, citing its four sources; `edited`: after the edit."""
    a, b, c, d = (
        sources.url(p)
        for p in ("/ministry/statement", "/interviews/prosecutor", "/court/ruling", "/leaks/memo")
    )
    verb = "did not confirm" if edited else "confirmed"
    lines = "4" if edited else "40"
    paragraphs = [
        "The investigation into the surveillance programme began after a whistleblower "
        "approached the newspaper in the spring with documents and recordings.",
        f"The deputy minister {verb} that the wiretap order was signed in March, according "
        f'to <a href="{a}">a statement from the ministry</a>. The order covered {lines} '
        "phone lines belonging to journalists and lawyers.",
        f'<a href="{b}">An interview with the prosecutor</a> described how the order was '
        "obtained from a judge on the night before the elections.",
        f'<a href="{c}">The court\'s ruling</a> was published the same week and named the '
        "agency that carried out the interceptions.",
        f"The phrase &lt;script&gt;alert('pwned')&lt;/script&gt; appears in the "
        f'<a href="{d}">leaked memo</a>, which the ministry called a forgery.',
    ]
    if edited:
        paragraphs.append(
            f'<a href="{sources.url("/ministry/correction")}">A correction'
            "</a> was added to the ministry's statement a week later."
        )
    return article_html(
        "Wiretap &lt;script&gt;alert('pwned')&lt;/script&gt; order was signed", paragraphs
    )


def source_page(title: str, sentence: str) -> str:
    """One of the investigation's sources: a page that says `sentence`."""
    return article_html(
        title,
        [
            sentence,
            "The office of the spokesperson answered questions from reporters for an hour and "
            "declined to comment on the names of the people whose phones were tapped.",
            "Further statements are expected after the parliamentary committee meets next week.",
        ],
    )


@dataclass
class Investigation:
    path: Path
    article: str
    sources: Site
    report: Report


def query(path: Path, sql: str) -> list[dict[str, Any]]:
    """The rows `sql` selects from the archive at `path`."""
    store = Store(path / "preserve.db")
    try:
        return list(store.db.query(sql))
    finally:
        store.close()


class Rows:
    """An archive's rows as capture and check write them, made without fetching and
    inserted in batches (row by row through `Store` would take half a minute)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {
            name: [] for name in ("captures", "citations", "texts", "checks", "targets")
        }

    def capture(
        self,
        url: str,
        role: str,
        at: datetime,
        text: str,
        *,
        status: int = 200,
        final_url: str | None = None,
        citations: Sequence[str] = (),
    ) -> int:
        capture_id = len(self.tables["captures"]) + 1
        digest = hashlib.sha256(f"{url}{text}{status}".encode()).hexdigest()
        text_sha = hashlib.sha256(text.encode()).hexdigest() if text else None
        if text_sha:
            self.tables["texts"].append(
                {"sha256": text_sha, "norm_version": 1, "text": text, "visible_text": text}
            )
        self.tables["captures"].append(
            {
                "id": capture_id,
                "run_id": 1,
                "url": url,
                "role": role,
                "depth": 0,
                "started_at": iso(at),
                "ended_at": iso(at),
                "status": "captured",
                "http_status": status,
                "final_url": final_url or url,
                "payload_sha256": digest,
                "text_sha256": text_sha,
                "title": f"Title of {url}",
                "record_type": "response",
                "warc": "big.warc.gz",
                "offset": capture_id * 1000,
                "length": 1000,
                "record_id": f"<urn:uuid:{digest[:32]}>",
                "kind": "html",
            }
        )
        self.tables["citations"] += [
            {
                "capture_id": capture_id,
                "position": i,
                "url": cited,
                "anchor_text": f"anchor {i}",
                "context": f"The context of anchor {i}, with <b>markup</b> in it.",
            }
            for i, cited in enumerate(citations)
        ]
        return capture_id

    def check(
        self,
        url: str,
        at: datetime,
        capture: int,
        baseline: int,
        outcome: str,
        reason: str | None,
        detail: dict[str, Any],
        new_url: str | None = None,
    ) -> None:
        self.tables["checks"].append(
            {
                "run_id": 2,
                "url": url,
                "role": "citation",
                "checked_at": iso(at),
                "capture_id": capture,
                "baseline_capture_id": baseline,
                "outcome": outcome,
                "reason": reason,
                "confirmed": int(outcome != "gone"),
                "rule": "test",
                "http_status": 200,
                "new_url": new_url,
                "detail": json.dumps(detail),
            }
        )

    def target(
        self,
        url: str,
        role: str,
        baseline: int,
        state: str,
        reason: str | None,
        cited_by: str | None,
        at: datetime,
    ) -> None:
        self.tables["targets"].append(
            {
                "url": url,
                "role": role,
                "every_seconds": 86400,
                "added_at": iso(T0),
                "next_due": iso(at),
                "cited_by": cited_by,
                "baseline_capture_id": baseline,
                "state": state,
                "reason": reason,
                "confirmed": int(state != "gone"),
                "last_checked_at": iso(at),
                "last_change_at": iso(at),
            }
        )


def populate(store: Store, articles: int, sources: int) -> None:
    """Each article cites `sources` sources; one in ten is edited (a number and negations),
    one gone, one moved; the rest are unchanged."""
    rows = Rows()
    later = T0 + timedelta(days=1)
    words = (
        "minister archive court letter office report inquiry border council witness "
        "evidence statement agency budget"
    ).split()
    for a in range(articles):
        article = f"https://news.example/{a}/story"
        urls = [f"https://src{s % 7}.example/{a}/{s}" for s in range(sources)]
        text = "\n".join(
            " ".join(words[(a + s + k) % len(words)] for k in range(40)) for s in range(8)
        )
        article_id = rows.capture(article, "article", T0, text, citations=urls)
        rows.target(article, "article", article_id, "new", None, None, T0)
        for s, url in enumerate(urls):
            source_text = f"Source {s} of article {a} says 40 people were there.\n" + text
            first = rows.capture(url, "citation", T0, source_text)
            kind, reason, baseline = s % 10, None, first
            if kind == 1:
                second = rows.capture(
                    url,
                    "citation",
                    later,
                    source_text.replace("40 people were", "no people were not"),
                )
                state, reason, baseline = "edited", "text", second
                rows.check(
                    url,
                    later,
                    second,
                    first,
                    state,
                    reason,
                    {
                        "edit": {
                            "words_added": 3,
                            "words_removed": 2,
                            "percent_changed": 1.0,
                            "negations_added": ["no", "not"],
                            "numbers_changed": [["40", ""]],
                        }
                    },
                )
            elif kind == 2:
                second = rows.capture(url, "citation", later, "", status=410)
                state, reason = "gone", "http-410"
                rows.check(url, later, second, first, state, reason, {})
            elif kind == 3:
                second = rows.capture(url, "citation", later, source_text, final_url=url + "-moved")
                state, baseline = "moved", second
                rows.check(
                    url,
                    later,
                    second,
                    first,
                    state,
                    None,
                    {"text_equal": True},
                    new_url=url + "-moved",
                )
            else:
                second = rows.capture(url, "citation", later, source_text)
                state = "unchanged"
                rows.check(url, later, second, first, state, None, {"text_equal": True})
            rows.target(url, "citation", baseline, state, reason, article, later)
    with store.db.atomic():
        store.db["runs"].insert_all(
            [
                {"id": 1, "command": "capture", "started_at": iso(T0)},
                {"id": 2, "command": "check", "started_at": iso(later)},
            ]
        )
        store.db["warc_files"].insert(
            {"name": "big.warc.gz", "run_id": 1, "size": 1, "sha256": "ab" * 32}
        )
        for table in ("captures", "citations", "checks", "targets"):
            store.db[table].insert_all(rows.tables[table], batch_size=500)
        store.db["texts"].insert_all(rows.tables["texts"], batch_size=500, ignore=True)
