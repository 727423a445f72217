"""What goes into an evidence package: the articles and all they brought in, over time.

Every capture, over time, of each given article and of every URL those captures brought
in: the sources cited in the article's text (by any of its captures), the URLs tracked as
its sources (a moved source's new address, a source added by an edit), and whatever was
captured on its behalf (requisites, deeper citations: the `parent_id` links); every capture
of each of those URLs, not only the latest, because a source's history (edited, gone,
moved) is the evidence. Soft-404 probes made by the checks of those captures go in as
provenance, not as pages. Writing the package then adds the original record of every
revisit (so that it replays), and the warcinfo record of every source WARC file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from preserve.errors import UsageError
from preserve.store.database import Store
from preserve.store.rows import Capture, Check, CitationRow, Record


@dataclass
class Selection:
    """The captures and records of a package, with why each URL is in it."""

    articles: list[str]
    roles: dict[str, str]  # url -> article | source | requisite
    captures: dict[int, Capture]  # by id (probes included)
    records: list[Record]
    checks: list[Check]
    citations: dict[int, list[CitationRow]]  # of the article captures, by capture id
    # Why each record that is not one of the chosen captures' is in (by record id): the
    # original of a revisit.
    why: dict[str, str] = field(default_factory=dict)


def select(store: Store, articles: Sequence[str]) -> Selection:
    """Every capture over time of the articles and of all they brought in (see the module
    docstring); a UsageError if an article was never captured."""
    missing = [url for url in articles if not store.export_has_captures(url)]
    if missing:
        raise UsageError(f"nothing archived for {missing[0]} (capture it first)")
    roles = {url: "article" for url in articles}
    captures: dict[int, Capture] = {}
    pending = list(articles)
    while pending:
        for capture in store.export_captures_of(pending):
            captures[capture.id] = capture
        found: dict[str, str] = {}
        article_ids = [i for i, c in captures.items() if c.url in articles]
        for cited in store.citations_of(article_ids).values():
            for citation in cited:
                found.setdefault(citation.url, "source")
        for url in store.export_sources_of(articles):
            found.setdefault(url, "source")
        for child in store.export_children_of(list(captures)):
            found.setdefault(child.url, "requisite" if child.role == "requisite" else "source")
        pending = [url for url in found if url not in roles]
        for url in pending:
            roles[url] = found[url]
    checks = store.export_checks_of(list(captures))
    probes = [c.probe_capture_id for c in checks if c.probe_capture_id]
    for capture in store.export_captures_by_id([p for p in probes if p not in captures]):
        captures[capture.id] = capture
    records = store.export_records_of(list(captures))
    citations = store.citations_of([i for i, c in captures.items() if c.role == "article"])
    return Selection(list(articles), roles, captures, records, checks, citations)
