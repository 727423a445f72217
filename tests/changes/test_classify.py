"""changes.classify, table-tested: every outcome and reason (docs/outcomes.md), confirmation over
time with a moved clock, and the word diff, boundary-shift test and citation diff in diff.py."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preserve.changes.boundary import explained_spans, unexplained_hunks
from preserve.changes.classify import classify
from preserve.changes.diff import word_diff
from preserve.changes.links import link_changes, url_key
from preserve.changes.model import MetadataChange, Outcome, PastCheck, Snapshot, metadata_json
from preserve.changes.summary import summarise
from preserve.changes.words import tokens

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
URL = "https://news.example/2016/10/story/"
ROOT = "https://news.example/"
TITLE = "Former minister denies ordering wiretap"

P1 = (
    "The former minister denied on Tuesday that he had ordered the wiretap, according to a "
    "transcript seen by this newspaper."
)
P2 = (
    "Officials said 40 million documents were reviewed by the inquiry, which began in March "
    "and reported in September."
)
P3 = (
    "In an interview with a regional radio station, the minister said the claims were a "
    "fabrication and that he would sue."
)
P4 = (
    "Critics pointed to a leaked memo which, they argue, shows that the order was signed by "
    "his deputy at the ministry."
)
P5 = (
    "The chair of the inquiry declined to comment on the memo, saying only that the final "
    "report would be published in full."
)
P6 = (
    "A spokesperson for the opposition said the review had not yet begun and called for an "
    "independent look at every surveillance order issued since 2014."
)
ARTICLE = "\n".join([P1, P2, P3, P4, P5, P6])
LINKS = (
    ("https://radio.example/interview/123", "interview with a regional radio station"),
    ("https://docs.example/memo.pdf", "leaked memo"),
    ("https://inquiry.example/report", "final report"),
)
SHOP = (
    "Welcome to our shop. Browse the latest offers on garden furniture, lamps and rugs. Free "
    "delivery on orders over fifty pounds. Sign up for our newsletter to hear about new "
    "arrivals and seasonal sales, and follow us for weekly ideas for your home and garden."
)
NOT_FOUND = (
    "Sorry, the page you were looking for could not be found. It may have been moved or "
    "deleted. Try searching the site or return to the homepage to find the latest news."
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def loose(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def page(
    text: str = ARTICLE,
    *,
    url: str = URL,
    title: str | None = TITLE,
    links: tuple[tuple[str, str], ...] = LINKS,
    visible: str | None = None,
    nonce: str = "",
    status: int | None = 200,
    **fields: object,
) -> Snapshot:
    """A capture of a news page: nav, headline, byline, main text, sidebar, footer. `nonce`
    changes the bytes (an ad id, a CSP nonce) without changing what extraction sees."""
    if visible is None:
        visible = "\n".join(
            ["Home News World Politics", title or "", "By Jane Doe", text, "Most read", "(c) News"]
        )
    payload = sha(f"{title}|{text}|{links}|{nonce}")
    links_key = sorted((url_key(u), a) for u, a in links)
    values: dict[str, object] = dict(
        url=url,
        captured_at=T0,
        status=status,
        final_url=url,
        payload_sha256=payload,
        title=title,
        text=text,
        visible_text=visible,
        links=links,
        text_sha256=sha(text),
        loose_sha256=sha(loose(text)),
        links_sha256=sha(repr(links_key)),
    )
    values.update(fields)
    return Snapshot(**values)  # type: ignore[arg-type]


def failure(error: str | None = None, status: int | None = None, **fields: object) -> Snapshot:
    """A fetch that ended in an error or an error status, with no page to compare."""
    values: dict[str, object] = dict(url=URL, captured_at=T0, error=error, status=status)
    values.update(fields)
    return Snapshot(**values)  # type: ignore[arg-type]


def redirected(final: str, *hops: int, text: str = ARTICLE, **fields: object) -> Snapshot:
    """A page reached through redirects with the given statuses, ending at `final`."""
    chain = [URL] + [f"{URL}hop{i}" for i in range(1, len(hops))]
    return page(text, final_url=final, redirects=tuple(zip(chain, hops, strict=True)), **fields)


BASE = page()
NEGATED = ARTICLE.replace("minister denied on", "minister did not deny on")
PROBE_404 = failure(status=404, url="https://news.example/2016/10/qwertyuiopasdfghjklzxcvbn")
PROBE_TEMPLATE = page(
    NOT_FOUND,
    url="https://news.example/2016/10/qwertyuiopasdfghjklzxcvbn",
    title="News",
    visible=f"Home News World Politics\n{NOT_FOUND}\n(c) News",
)
# A site whose nav and footer dwarf a short page's own text.
BOILERPLATE = " ".join(f"section{i} menu{i}" for i in range(150))
HEAVY_PROBE = replace(PROBE_TEMPLATE, visible_text=f"{BOILERPLATE}\n{NOT_FOUND}\n{BOILERPLATE}")

# id, baseline, current, keyword arguments for classify, (outcome, reason, confirmed), rule
CASES = [
    ("new", None, BASE, {}, ("new", None, True), "first-capture"),
    ("failed-404", None, failure(status=404), {}, ("failed", "http-404", False), "status.404"),
    ("failed-timeout", None, failure("timeout"), {}, ("failed", "timeout", False), None),
    (
        "failed-soft-404",
        None,
        redirected(ROOT, 301, text="Front page"),
        {},
        ("failed", "soft-404", False),
        "soft404.root-redirect",
    ),
    ("unchanged", BASE, page(), {}, ("unchanged", None, True), "payload.equal"),
    ("cosmetic-nonce", BASE, page(nonce="ad-42"), {}, ("cosmetic", "markup", True), "text.equal"),
    (
        # The wrapper rename pulls the H1 into the main text; the old page showed it too.
        "cosmetic-boundary-shift",
        BASE,
        page(f"{TITLE}\n{ARTICLE}", nonce="wrapper"),
        {},
        ("cosmetic", "boundary-shift", True),
        "text.boundary-shift",
    ),
    (
        "cosmetic-paragraph-breaks",
        BASE,
        page(ARTICLE.replace("wiretap, according", "wiretap,\naccording")),
        {},
        ("cosmetic", "paragraph-breaks", True),
        "text.paragraph-breaks",
    ),
    (
        "cosmetic-reordered",
        BASE,
        page("\n".join([P1, P2, P3, P5, P4, P6])),
        {},
        ("cosmetic", "reordered", True),
        "text.reordered",
    ),
    ("edited-text", BASE, page(NEGATED), {}, ("edited", "text", True), "text.edited"),
    (
        "edited-title-only",
        BASE,
        page(title="Former minister admits ordering wiretap"),
        {},
        ("edited", "title-only", True),
        "title.differs",
    ),
    (
        "edited-links-retargeted",
        BASE,
        page(links=(LINKS[0], ("https://archive.example/memo-v2.pdf", "leaked memo"), LINKS[2])),
        {},
        ("edited", "links-only", True),
        "links.differ",
    ),
    (
        "edited-link-removed-text-kept",
        BASE,
        page(links=LINKS[:2]),
        {},
        ("edited", "links-only", True),
        "links.differ",
    ),
    (
        "edited-link-added",
        BASE,
        page(links=(*LINKS, ("https://court.example/ruling", "ruling"))),
        {},
        ("edited", "links-only", True),
        "links.differ",
    ),
    (
        "edited-title-and-links",
        BASE,
        page(title="New headline", links=LINKS[:1]),
        {},
        ("edited", "title-and-links", True),
        "title+links.differ",
    ),
    (
        "edited-punctuation-only",
        BASE,
        page(ARTICLE.replace("wiretap, according", "wiretap; according")),
        {},
        ("edited", "punctuation-only", True),
        "text.loose-equal",
    ),
    (
        "edited-pdf-payload",
        page("", kind="pdf", links=(), title=None),
        page("", kind="pdf", links=(), title=None, nonce="v2"),
        {},
        ("edited", "payload", True),
        "payload.differs",
    ),
    (
        "edited-kind-changed",
        BASE,
        page("", kind="pdf", links=(), title=None),
        {},
        ("edited", "kind-changed", True),
        "kind.changed",
    ),
    (
        "moved",
        BASE,
        redirected("https://news.example/2016/10/minister-denies-wiretap/", 301),
        {},
        ("moved", None, True),
        "redirect.permanent+payload.equal",
    ),
    (
        "moved-edited",
        BASE,
        redirected("https://news.example/2016/10/minister-denies-wiretap/", 308, text=NEGATED),
        {},
        ("moved", "text", True),
        "redirect.permanent+text.edited",
    ),
    (
        "https-www-slash-is-not-a-move",
        replace(BASE, url="http://news.example/2016/10/story", final_url=None),
        redirected("https://www.news.example/2016/10/story/", 301, nonce="https"),
        {},
        ("cosmetic", "markup", True),
        "text.equal",
    ),
    (
        "temporary-redirect-is-not-a-move",
        BASE,
        redirected("https://news.example/amp/story", 302, nonce="amp"),
        {},
        ("cosmetic", "markup", True),
        "text.equal",
    ),
    (
        "redirect-already-in-baseline-is-not-a-move",
        redirected("https://news.example/2016/10/new-slug/", 301),
        redirected("https://news.example/2016/10/new-slug/", 301, nonce="x"),
        {},
        ("cosmetic", "markup", True),
        "text.equal",
    ),
    ("gone-404", BASE, failure(status=404), {}, ("gone", "http-404", False), "status.404"),
    ("gone-410", BASE, failure(status=410), {}, ("gone", "http-410", False), "status.410"),
    ("gone-451", BASE, failure(status=451), {}, ("gone", "http-451", False), "status.451"),
    ("gone-dns", BASE, failure("dns"), {}, ("gone", "dns", False), "network.nxdomain"),
    (
        "gone-soft-404-root-redirect",
        BASE,
        redirected(ROOT, 301, text="Front page headlines"),
        {},
        ("gone", "soft-404", False),
        "soft404.root-redirect",
    ),
    (
        "gone-soft-404-root-redirect-any-hop",
        BASE,
        page(
            "Front page",
            final_url="https://news.example/en/",
            redirects=((URL, 301), (ROOT, 302)),
        ),
        {},
        ("gone", "soft-404", False),
        "soft404.root-redirect",
    ),
    (
        "gone-soft-404-error-url",
        BASE,
        redirected("https://news.example/404.html", 302, text=NOT_FOUND),
        {},
        ("gone", "soft-404", False),
        "soft404.error-url",
    ),
    (
        "gone-soft-404-probe-match",
        BASE,
        page(NOT_FOUND, title="News", visible=PROBE_TEMPLATE.visible_text),
        {"probe": PROBE_TEMPLATE},
        ("gone", "soft-404", False),
        "soft404.probe-match",
    ),
    (
        "gone-soft-404-probe-same-url",
        BASE,
        redirected("https://news.example/search", 302, text="Search results"),
        {
            "probe": replace(
                PROBE_TEMPLATE,
                final_url="https://news.example/search",
                redirects=((PROBE_TEMPLATE.url, 302),),
            )
        },
        ("gone", "soft-404", False),
        "soft404.probe-same-url",
    ),
    (
        "gone-soft-404-error-title",
        BASE,
        page(NOT_FOUND, title="Page not found | News"),
        {},
        ("gone", "soft-404", False),
        "soft404.error-title",
    ),
    (
        "gone-replaced",
        BASE,
        page(SHOP, title="Garden shop", links=()),
        {},
        ("gone", "replaced", False),
        "text.replaced",
    ),
    (
        # A site that answers 200 to random URLs, but with a different page for this one.
        "alive-probe-200-different-page",
        BASE,
        page(nonce="n"),
        {"probe": PROBE_TEMPLATE},
        ("cosmetic", "markup", True),
        "text.equal",
    ),
    (
        "gone-soft-404-probe-match-without-main-text",
        BASE,
        page("", links=(), visible=HEAVY_PROBE.visible_text),
        {"probe": HEAVY_PROBE},
        ("gone", "soft-404", False),
        "soft404.probe-match",
    ),
    (
        # 97% of the visible text is the same as the probe's, but the page's own text is not.
        "new-short-page-in-heavy-boilerplate-is-not-soft-404",
        None,
        page(P1, links=(), visible=f"{BOILERPLATE}\n{P1}\n{BOILERPLATE}"),
        {"probe": HEAVY_PROBE},
        ("new", None, True),
        "first-capture",
    ),
    (
        "spa-shell-matching-probe-is-inconclusive",
        BASE,
        page("", links=(), visible="Loading…"),
        {"probe": replace(PROBE_TEMPLATE, text="", visible_text="Loading…")},
        ("restricted", "no-text", False),
        "text.no-text",
    ),
    (
        # The probe 404s: the site is honest, so a template-like answer is judged on content.
        "honest-probe-404-no-soft-404",
        BASE,
        page(NOT_FOUND, title="News", visible=PROBE_TEMPLATE.visible_text),
        {"probe": PROBE_404},
        ("gone", "replaced", False),
        "text.replaced",
    ),
    (
        # The front page changes its headlines and matches what the site answers for a
        # random URL; a root is never a soft-404.
        "site-root-never-soft-404",
        page("Today: " + NOT_FOUND, url=ROOT, title="News"),
        page(NOT_FOUND, url=ROOT, title="News", visible=PROBE_TEMPLATE.visible_text),
        {"probe": PROBE_TEMPLATE},
        ("edited", "text", True),
        "text.edited",
    ),
    (
        "site-root-redirect-to-itself-never-soft-404",
        page(url="https://news.example/index.html"),
        replace(
            page(url="https://news.example/index.html", nonce="r"),
            redirects=(("https://news.example/index.html", 301),),
            final_url=ROOT,
        ),
        {},
        ("cosmetic", "markup", True),
        "text.equal",
    ),
    ("restricted-401", BASE, failure(status=401), {}, ("restricted", "http-401", False), None),
    ("restricted-403", BASE, failure(status=403), {}, ("restricted", "http-403", False), None),
    ("restricted-429", BASE, failure(status=429), {}, ("restricted", "http-429", False), None),
    (
        "restricted-challenge-header-503",
        BASE,
        failure(status=503, headers=(("CF-Mitigated", "challenge"),)),
        {},
        ("restricted", "bot-challenge", False),
        "bot.challenge-header",
    ),
    (
        "restricted-challenge-title-200",
        BASE,
        page("", title="Just a moment...", links=()),
        {},
        ("restricted", "bot-challenge", False),
        "bot.challenge-title",
    ),
    (
        "restricted-login-redirect",
        BASE,
        redirected("https://news.example/login?next=/2016/10/story/", 302, text="Sign in"),
        {},
        ("restricted", "login", False),
        "redirect.login",
    ),
    (
        "restricted-no-text-js-shell",
        BASE,
        page("", links=(), visible="Loading…", nonce="spa"),
        {},
        ("restricted", "no-text", False),
        "text.no-text",
    ),
    (
        "restricted-paywall-teaser",
        BASE,
        page(f"{P1}\nSubscribe to continue reading.", links=()),
        {},
        ("restricted", "paywall", False),
        "text.paywall",
    ),
    ("unreachable-timeout", BASE, failure("timeout"), {}, ("unreachable", "timeout", False), None),
    ("unreachable-refused", BASE, failure("refused"), {}, ("unreachable", "refused", False), None),
    ("unreachable-reset", BASE, failure("reset"), {}, ("unreachable", "reset", False), None),
    (
        "unreachable-dns-temporary",
        BASE,
        failure("dns-temporary"),
        {},
        ("unreachable", "dns-temporary", False),
        "network.dns-temporary",
    ),
    ("unreachable-503", BASE, failure(status=503), {}, ("unreachable", "http-503", False), None),
    (
        "unreachable-truncated",
        BASE,
        page(P1, truncated="disconnect"),
        {},
        ("unreachable", "truncated", False),
        "network.truncated-disconnect",
    ),
    (
        "unreachable-too-many-redirects",
        BASE,
        failure("too-many-redirects"),
        {},
        ("unreachable", "too-many-redirects", False),
        None,
    ),
    (
        "restored-text-equal",
        BASE,
        page(nonce="back"),
        {"history": [PastCheck(T0 - DAY, "gone", "http-404")]},
        ("restored", "http-404", True),
        "restored.text.equal",
    ),
    (
        "restored-edited",
        BASE,
        page(NEGATED),
        {"history": [PastCheck(T0 - DAY, "unreachable", "timeout")]},
        ("restored", "timeout", True),
        "restored.text.edited",
    ),
    (
        "renormalise",
        BASE,
        page(nonce="v2", norm_version=2),
        {},
        ("failed", "renormalise", False),
        "norm.version",
    ),
    (
        "renormalise-not-needed-for-equal-bytes",
        BASE,
        page(norm_version=2),
        {},
        ("unchanged", None, True),
        "payload.equal",
    ),
]


@pytest.mark.parametrize(
    ("baseline", "current", "kwargs", "expected", "rule"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_classify(
    baseline: Snapshot | None,
    current: Snapshot,
    kwargs: dict[str, object],
    expected: tuple[str, str | None, bool],
    rule: str | None,
) -> None:
    outcome = classify(baseline, current, now=T0, **kwargs)  # type: ignore[arg-type]
    assert (outcome.outcome, outcome.reason, outcome.confirmed) == expected
    if rule is not None:
        assert outcome.rule == rule
    assert outcome.rule  # every outcome names the rule that fired


def test_every_outcome_is_covered() -> None:
    covered = {case[4][0] for case in CASES}
    assert covered == {
        "new",
        "failed",
        "unchanged",
        "cosmetic",
        "edited",
        "moved",
        "gone",
        "restricted",
        "unreachable",
        "restored",
    }


def test_edit_names_exactly_the_negated_span() -> None:
    outcome = classify(BASE, page(NEGATED), now=T0)
    edit = outcome.edit
    assert edit is not None and outcome.text_equal is False
    assert [(h.old, h.new) for h in edit.hunks] == [(("denied",), ("did", "not", "deny"))]
    assert (edit.words_removed, edit.words_added) == (1, 3)
    assert edit.first_changed_old == P1
    assert edit.first_changed_new == P1.replace("denied", "did not deny")
    assert edit.negations_removed == ("denied",)
    assert set(edit.negations_added) == {"not", "deny"}
    assert edit.hunks[0].negations


def test_real_edit_inside_a_boundary_shift_reports_only_the_edit() -> None:
    # The H1 is pulled in (explained) and a number is changed (not explained).
    text = f"{TITLE}\n{ARTICLE.replace('40 million', '4 million')}"
    outcome = classify(BASE, page(text), now=T0)
    assert (outcome.outcome, outcome.reason) == ("edited", "text")
    assert outcome.edit is not None
    assert [(h.old, h.new) for h in outcome.edit.hunks] == [(("40",), ("4",))]
    assert outcome.edit.numbers_changed == (("40 million", "4 million"),)


# A real edit and a boundary shift in one hunk: the headline and byline are
# pulled into the main text (the old page showed them) and the edit touches the first words
# after them, so the word diff reports both as one hunk; only the edit may be reported.
HEAD = f"{TITLE}\nBy Jane Doe"
CORRECTION = "Correction: an earlier version misstated the date of the interview."
NO_FORMER = P1.replace("The former", "No former")
MERGED = "Officials said on Friday that the inquiry would reopen."

# id, old main text, new main text, (outcome, reason), reported hunks as (old, new) strings
MIXED_CASES = [
    (
        "headline-and-negation-in-one-hunk",
        ARTICLE,
        "\n".join([HEAD, NO_FORMER, P2, P3, P4, P5, P6]),
        ("edited", "text"),
        [("The", "No")],
    ),
    ("headline-only", ARTICLE, f"{HEAD}\n{ARTICLE}", ("cosmetic", "boundary-shift"), []),
    (
        "headline-and-new-paragraph",
        ARTICLE,
        f"{HEAD}\n{CORRECTION}\n{ARTICLE}",
        ("edited", "text"),
        [("", CORRECTION)],
    ),
    (
        "new-paragraph-only",
        ARTICLE,
        f"{P1}\n{CORRECTION}\n{ARTICLE[len(P1) + 1 :]}",
        ("edited", "text"),
        [("", CORRECTION)],
    ),
    (
        # The extractor merged the headline into the paragraph a sentence was added to: the
        # headline, a whole line of the old page at the start of the paragraph, is shed.
        "headline-merged-into-an-added-sentence",
        ARTICLE,
        f"{TITLE} {MERGED} {ARTICLE}",
        ("edited", "text"),
        [("", MERGED)],
    ),
    (
        # A sidebar heading the old extraction took in is dropped (it is still on the page)
        # in the same hunk as a paragraph really removed.
        "sidebar-dropped-and-paragraph-removed",
        f"{ARTICLE}\nMost read",
        "\n".join([P1, P2, P3, P4, P5]),
        ("edited", "text"),
        [(P6, "")],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected", "reported"),
    [case[1:] for case in MIXED_CASES],
    ids=[case[0] for case in MIXED_CASES],
)
def test_mixed_hunk_reports_only_its_unexplained_part(
    old: str, new: str, expected: tuple[str, str], reported: list[tuple[str, str]]
) -> None:
    outcome = classify(page(old), page(new, nonce="redesign"), now=T0)
    assert (outcome.outcome, outcome.reason) == expected
    if not reported:
        assert outcome.edit is None and outcome.text_equal is True
        return
    edit = outcome.edit
    assert edit is not None and outcome.text_equal is False
    assert [(" ".join(h.old), " ".join(h.new)) for h in edit.hunks] == reported
    assert edit.words_removed == sum(len(old.split()) for old, _ in reported)
    assert edit.words_added == sum(len(new.split()) for _, new in reported)


def test_headline_and_negation_in_one_hunk_summarise_only_the_negation() -> None:
    text = "\n".join([HEAD, NO_FORMER, P2, P3, P4, P5, P6])
    [hunk] = word_diff(ARTICLE, text)
    assert " ".join(hunk.new) == f"{TITLE} By Jane Doe No"  # one hunk, mostly explained
    visible = page(text).visible_text
    assert explained_spans(
        ARTICLE, text, [hunk], old_visible=BASE.visible_text, new_visible=visible
    ) == (False,)
    [only] = unexplained_hunks(
        ARTICLE, text, [hunk], old_visible=BASE.visible_text, new_visible=visible
    )
    assert (only.old, only.new) == (("The",), ("No",))
    edit = classify(BASE, page(text), now=T0).edit
    assert edit is not None
    assert (edit.words_removed, edit.words_added) == (1, 1)
    assert edit.negations_added == ("no",) and edit.negations_removed == ()
    assert (edit.first_changed_old, edit.first_changed_new) == (P1, NO_FORMER)
    assert edit.hunks == (only,)
    assert only.op == "replace" and only.negations and only.after.startswith("former minister")
    assert edit.percent_changed < 2


def test_a_line_inside_a_paragraph_does_not_explain_an_insertion() -> None:
    # An author box reads "Jane Doe"; the same two words put into a sentence are an edit.
    visible = f"Home\nJane Doe\n{ARTICLE}"
    text = ARTICLE.replace("the minister said", "the minister Jane Doe said")
    hunks = word_diff(ARTICLE, text)
    kept = unexplained_hunks(ARTICLE, text, hunks, old_visible=visible, new_visible=text)
    assert [h.new for h in kept] == [("Jane", "Doe")]


def test_unexplained_hunks_keeps_a_wholly_unexplained_hunk_as_it_is() -> None:
    hunks = word_diff(ARTICLE, NEGATED)
    visible = BASE.visible_text
    assert unexplained_hunks(ARTICLE, NEGATED, hunks, old_visible=visible, new_visible="") == hunks


def test_links_only_reports_retargeted_removed_and_added() -> None:
    new_links = (
        (
            "https://radio.example/interview/123?utm_source=x",
            "interview with a regional radio station",
        ),
        ("https://archive.example/memo-v2.pdf", "leaked memo"),
        ("https://court.example/ruling", "ruling"),
    )
    outcome = classify(BASE, page(links=new_links), now=T0)
    links = outcome.links
    assert links is not None
    assert [(r.anchor, r.old_url, r.new_url) for r in links.retargeted] == [
        ("leaked memo", "https://docs.example/memo.pdf", "https://archive.example/memo-v2.pdf")
    ]
    assert [link.url for link in links.removed] == ["https://inquiry.example/report"]
    assert [link.url for link in links.added] == ["https://court.example/ruling"]
    assert links.added_urls() == [
        "https://court.example/ruling",
        "https://archive.example/memo-v2.pdf",
    ]
    assert len(links.describe()) == 3
    json.dumps(links.to_json())


def test_edited_article_also_reports_its_citations() -> None:
    outcome = classify(BASE, page(NEGATED, links=LINKS[:2]), now=T0)
    assert outcome.reason == "text"
    assert outcome.links is not None and len(outcome.links.removed) == 1


def test_title_change_is_carried() -> None:
    outcome = classify(BASE, page(title="Minister admits it"), now=T0)
    assert outcome.metadata == (MetadataChange("title", TITLE, "Minister admits it"),)
    assert outcome.text_equal is True
    assert metadata_json(outcome.metadata) == {
        "title": {"before": TITLE, "after": "Minister admits it"}
    }


DATED = page(byline="By Jane Doe", modified="2026-11-01T08:00:00Z")


@pytest.mark.parametrize(
    ("changes", "expected", "rule"),
    [
        ({"byline": "By John Roe"}, ("edited", "byline-only"), "byline.differs"),
        ({"byline": ""}, ("edited", "byline-only"), "byline.differs"),  # the byline removed
        (
            {"byline": "By John Roe", "title": "Minister admits it"},
            ("edited", "title-and-byline"),
            "title+byline.differ",
        ),
        ({"byline": "By John Roe", "links": LINKS[:2]}, ("edited", "byline-and-links"), None),
        (
            {"byline": "By John Roe", "title": "Minister admits it", "links": LINKS[:2]},
            ("edited", "title-byline-and-links"),
            "title+byline+links.differ",
        ),
        ({"modified": "2026-11-02T09:30:00Z"}, ("cosmetic", "date-modified"), "modified.differs"),
        ({"byline": "  By Jane   Doe "}, ("cosmetic", "markup"), "text.equal"),  # spaces only
    ],
)
def test_byline_and_stated_date_are_compared_each_on_its_own(
    changes: dict[str, object], expected: tuple[str, str], rule: str | None
) -> None:
    values: dict[str, object] = {"byline": "By Jane Doe", "modified": "2026-11-01T08:00:00Z"}
    values.update(changes)
    outcome = classify(DATED, page(nonce="new bytes", **values), now=T0)  # type: ignore[arg-type]
    assert (outcome.outcome, outcome.reason) == expected
    assert rule is None or outcome.rule == rule
    assert outcome.text_equal is True
    changed = {c.field: (c.before, c.after) for c in outcome.metadata}
    for field in ("byline", "modified"):
        if field in changes and expected[1] != "markup":
            assert changed[field] == (getattr(DATED, field), changes[field] or None)


def test_a_byline_or_date_the_baseline_never_recorded_is_no_change() -> None:
    # Captures made before preserve recorded them hold NULL: unknown, not "none".
    unknown = page()
    assert unknown.byline is None and unknown.modified is None
    current = page(nonce="new bytes", byline="By Jane Doe", modified="2026-11-02")
    outcome = classify(unknown, current, now=T0)
    assert (outcome.outcome, outcome.reason, outcome.metadata) == ("cosmetic", "markup", ())


def test_an_edit_under_the_same_stated_date_is_silent() -> None:
    silent = classify(DATED, page(NEGATED, byline="By Jane Doe", modified=DATED.modified), now=T0)
    assert (silent.outcome, silent.reason, silent.silent_edit) == ("edited", "text", True)
    assert silent.metadata == ()
    owned = classify(DATED, page(NEGATED, byline="By Jane Doe", modified="2026-11-03"), now=T0)
    assert (owned.reason, owned.silent_edit) == ("text", False)
    assert owned.metadata == (MetadataChange("modified", DATED.modified, "2026-11-03"),)
    undated = page(byline="By Jane Doe", modified="")
    never = classify(undated, page(NEGATED, byline="By Jane Doe", modified=""), now=T0)
    assert (never.reason, never.silent_edit) == ("text", False)  # no date stated: no claim
    same_text = classify(
        DATED, page(nonce="x", byline="By Jane Doe", modified=DATED.modified), now=T0
    )
    assert same_text.silent_edit is False


def stamped(when: str, text: str = ARTICLE) -> str:
    return f"Updated {when} by the news desk.\n{text}"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("5 minutes ago", "12 minutes ago"),
        ("5 minutes ago", "2 hours ago"),
        ("just now", "an hour ago"),
        ("1 day ago", "3 days ago"),
    ],
)
def test_a_time_said_relative_to_the_fetch_is_not_an_edit(before: str, after: str) -> None:
    """ "Updated 5 minutes ago" in the main text changes at every fetch."""
    outcome = classify(page(stamped(before)), page(stamped(after)), now=T0)
    assert (outcome.outcome, outcome.reason, outcome.rule) == (
        "cosmetic",
        "relative-time",
        "text.relative-time",
    )


def test_a_real_edit_beside_a_relative_time_reports_only_the_edit() -> None:
    outcome = classify(
        page(stamped("5 minutes ago")), page(stamped("2 hours ago", NEGATED)), now=T0
    )
    assert (outcome.outcome, outcome.reason) == ("edited", "text")
    assert outcome.edit is not None
    changed = [" ".join(h.old + h.new) for h in outcome.edit.hunks]
    assert changed == ["denied did not deny"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Viewed 12,345 times.", "Viewed 12,400 times."),  # a counter: pinned as an edit
        ("It drew 40 million views.", "It drew 4 million views."),
        ("The vote is 5 days away.", "The vote is 3 days away."),  # not relative to the fetch
    ],
)
def test_other_numbers_that_change_are_edits(before: str, after: str) -> None:
    outcome = classify(page(f"{before}\n{ARTICLE}"), page(f"{after}\n{ARTICLE}"), now=T0)
    assert (outcome.outcome, outcome.reason) == ("edited", "text")


ZH = (
    "市议会周二批准了港口预算，议员们以十二票对三票通过了这项计划。"
    "港口管理局表示，工程将于明年春天开始。"
)
ZH_OTHER = (
    "今天天气很好，我们去公园散步，看到很多人在跑步和打太极拳。"
    "孩子们在草地上放风筝，老人们在树下下棋。"
)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (ZH, ZH.replace("十二票", "十一票"), ("edited", "text")),  # one character: an edit
        (ZH, ZH_OTHER, ("gone", "replaced")),
        (
            "東京都は火曜日に港湾予算を承認した。",
            "東京都は水曜日に港湾予算を承認した。",
            ("edited", "text"),
        ),
        (
            "สภาเมืองอนุมัติงบประมาณท่าเรือเมื่อวันอังคาร",
            "สภาเมืองอนุมัติงบประมาณท่าเรือเมื่อวันพุธ",
            ("edited", "text"),
        ),
        (
            "وافق مجلس المدينة يوم الثلاثاء على ميزانية الميناء",
            "وافق مجلس المدينة يوم الأربعاء على ميزانية الميناء",
            ("edited", "text"),
        ),
    ],
)
def test_scripts_without_spaces_are_compared_by_character(
    old: str, new: str, expected: tuple[str, str]
) -> None:
    """A paragraph of Chinese is one whitespace "word": a one-character edit
    made it a text with every word changed and no shingle left, so `gone/replaced`, a false
    takedown. Similarity now counts each character of such scripts as a token."""
    outcome = classify(page(old), page(new), now=T0)
    assert (outcome.outcome, outcome.reason) == expected


@given(st.text(alphabet=st.characters(max_codepoint=0x0DFF), max_size=200))
def test_tokens_are_whitespace_words_outside_those_scripts(text: str) -> None:
    assert tokens(text) == text.split()


CONSENT = (
    "We value your privacy. We and our partners store and access information on a device, "
    "such as cookies, and process personal data for personalised ads and content, ad and "
    "content measurement and audience insights. Click Accept all to consent, or Manage "
    "options to choose."
)


def test_a_cookie_consent_wall_in_place_of_the_page_is_restricted_not_gone() -> None:
    """A consent interstitial is access-restricted; it was `gone/replaced`."""
    wall = page(CONSENT, title="Before you continue", links=())
    outcome = classify(BASE, wall, now=T0)
    assert (outcome.outcome, outcome.reason, outcome.confirmed) == ("restricted", "consent", False)
    assert classify(BASE, replace(wall, title="News"), now=T0).reason == "consent"  # 3 phrases
    # One such phrase in a new article is no wall.
    other = page(SHOP + " The shop will accept all returns.", title="Garden furniture", links=())
    assert classify(BASE, other, now=T0).reason == "replaced"
    # A consent banner in the chrome of a page that was replaced does not hide the fact.
    shop = page(SHOP, title="Garden furniture", links=())
    bannered = replace(shop, visible_text=shop.visible_text + "\nWe use cookies. Accept all")
    assert classify(BASE, bannered, now=T0).reason == "replaced"


def test_a_parked_domain_is_gone_parked() -> None:
    """A parked domain is `gone/parked`; a repurposed one stays `replaced`."""
    parking = (
        "This domain may be for sale. Related searches: garden furniture, cheap flights, "
        "online degrees, car insurance quotes, best credit cards, web hosting deals."
    )
    parked = classify(BASE, page(parking, title="news.example", links=()), now=T0)
    assert (parked.outcome, parked.reason, parked.rule) == ("gone", "parked", "text.parked")
    later = classify(
        BASE,
        page(parking, title="news.example", links=()),
        history=[PastCheck(T0 - 2 * DAY, "gone", "parked")],
        now=T0,
    )
    assert later.confirmed is True
    shop = classify(BASE, page(SHOP, title="Garden furniture", links=()), now=T0)
    assert (shop.outcome, shop.reason) == ("gone", "replaced")


def test_451_keeps_blocked_by() -> None:
    link = '<https://isp.example/legal>; rel="blocked-by", <https://x.example/>; rel="help"'
    outcome = classify(BASE, failure(status=451, headers=(("Link", link),)), now=T0)
    assert outcome.blocked_by == "https://isp.example/legal"


def test_moved_carries_new_url_and_edit() -> None:
    target = "https://news.example/2016/10/minister-denies-wiretap/"
    plain = classify(BASE, redirected(target, 301), now=T0)
    assert plain.new_url == target and plain.edit is None
    edited = classify(BASE, redirected(target, 301, text=NEGATED), now=T0)
    assert edited.new_url == target and edited.edit is not None


def test_permanent_redirect_to_unrelated_text_is_not_a_move() -> None:
    outcome = classify(BASE, redirected("https://shop.example/garden", 301, text=SHOP), now=T0)
    assert (outcome.outcome, outcome.reason) == ("gone", "replaced")


def test_restored_says_whether_text_equals_baseline() -> None:
    history = [PastCheck(T0 - 2 * DAY, "gone", "http-404"), PastCheck(T0 - DAY, "gone", "http-404")]
    same = classify(BASE, page(nonce="back"), history=history, now=T0)
    assert (same.outcome, same.text_equal, same.edit) == ("restored", True, None)
    edited = classify(BASE, page(NEGATED), history=history, now=T0)
    assert (edited.outcome, edited.text_equal) == ("restored", False)
    assert edited.edit is not None and edited.edit.words_removed == 1


def test_restored_only_after_a_bad_state() -> None:
    history = [PastCheck(T0 - DAY, "cosmetic", "markup")]
    assert classify(BASE, page(nonce="x"), history=history, now=T0).outcome == "cosmetic"


def test_restored_soft_404_is_still_gone() -> None:
    history = [PastCheck(T0 - DAY, "gone", "http-404")]
    outcome = classify(BASE, redirected(ROOT, 301, text="Front"), history=history, now=T0)
    assert (outcome.outcome, outcome.reason) == ("gone", "soft-404")


# --- confirmation over time: the clock is `now`, moved by the test ---------------------------


def checks(outcome: str, reason: str | None, *offsets: timedelta) -> list[PastCheck]:
    return [PastCheck(T0 + offset, outcome, reason) for offset in offsets]


def at(offset: timedelta, current: Snapshot, history: list[PastCheck]) -> Outcome:
    return classify(BASE, current, history=history, now=T0 + offset)


NOT_FOUND_404 = failure(status=404)


def test_404_three_times_across_days_is_confirmed() -> None:
    history = checks("gone", "http-404", timedelta(0), DAY)
    assert at(2 * DAY, NOT_FOUND_404, history).confirmed


def test_404_twice_within_an_hour_is_not_confirmed() -> None:
    assert not at(
        30 * timedelta(minutes=1), NOT_FOUND_404, checks("gone", "http-404", timedelta(0))
    ).confirmed


def test_404_three_times_in_one_day_is_not_confirmed() -> None:
    history = checks("gone", "http-404", timedelta(0), 8 * HOUR)
    assert not at(16 * HOUR, NOT_FOUND_404, history).confirmed


def test_404_run_skips_transient_errors_between() -> None:
    history = checks("gone", "http-404", timedelta(0)) + checks("unreachable", "timeout", DAY)
    history += checks("gone", "http-404", 2 * DAY)
    assert at(3 * DAY, NOT_FOUND_404, history).confirmed


def test_404_run_is_reset_by_a_good_answer() -> None:
    history = checks("gone", "http-404", timedelta(0), DAY) + checks("unchanged", None, 2 * DAY)
    history += checks("gone", "http-404", 3 * DAY)
    assert not at(4 * DAY, NOT_FOUND_404, history).confirmed


def test_410_twice_is_confirmed() -> None:
    history = checks("gone", "http-410", timedelta(0))
    assert not at(timedelta(0), failure(status=410), []).confirmed
    assert at(2 * HOUR, failure(status=410), history).confirmed
    assert not at(10 * timedelta(minutes=1), failure(status=410), history).confirmed


def test_451_twice_is_confirmed() -> None:
    assert at(2 * HOUR, failure(status=451), checks("gone", "http-451", timedelta(0))).confirmed


def test_nxdomain_three_checks_across_days_is_confirmed() -> None:
    dns = failure("dns")
    assert not at(DAY, dns, checks("gone", "dns", timedelta(0))).confirmed
    assert at(2 * DAY, dns, checks("gone", "dns", timedelta(0), DAY)).confirmed


def test_soft_404_twice_a_day_apart_is_confirmed() -> None:
    soft = redirected(ROOT, 301, text="Front")
    assert not at(HOUR, soft, checks("gone", "soft-404", timedelta(0))).confirmed
    assert at(DAY, soft, checks("gone", "soft-404", timedelta(0))).confirmed


def test_single_transient_error_is_never_gone() -> None:
    outcome = at(timedelta(0), failure("timeout"), [])
    assert (outcome.outcome, outcome.confirmed) == ("unreachable", False)


def test_unreachable_five_times_over_eight_days_becomes_gone() -> None:
    history = checks("unreachable", "timeout", timedelta(0), 2 * DAY, 4 * DAY, 6 * DAY)
    outcome = at(8 * DAY, failure("timeout"), history)
    assert (outcome.outcome, outcome.reason, outcome.confirmed) == (
        "gone",
        "unreachable-persistent",
        True,
    )
    assert outcome.rule == "unreachable.persistent"
    # and it stays so on the next check
    later = at(
        9 * DAY, failure(status=503), [*history, *checks("gone", "unreachable-persistent", 8 * DAY)]
    )
    assert (later.outcome, later.reason) == ("gone", "unreachable-persistent")


def test_unreachable_five_times_in_two_days_stays_unreachable() -> None:
    history = checks("unreachable", "timeout", timedelta(0), 12 * HOUR, DAY, 36 * HOUR)
    assert at(2 * DAY, failure("timeout"), history).outcome == "unreachable"


def test_one_good_answer_resets_unreachable() -> None:
    history = checks("unreachable", "timeout", timedelta(0), 2 * DAY, 4 * DAY)
    history += checks("unchanged", None, 5 * DAY) + checks("unreachable", "refused", 6 * DAY)
    assert at(8 * DAY, failure("timeout"), history).outcome == "unreachable"


def test_restricted_twice_is_confirmed() -> None:
    assert not at(timedelta(0), failure(status=403), []).confirmed
    assert at(DAY, failure(status=403), checks("restricted", "http-403", timedelta(0))).confirmed


def test_replaced_confirmed_after_a_day() -> None:
    shop = page(SHOP, title="Garden shop", links=())
    assert at(DAY, shop, checks("gone", "replaced", timedelta(0))).confirmed


# --- word diff ---------------------------------------------------------------------------


def test_word_diff_hunk_has_paragraph_context() -> None:
    [hunk] = word_diff(ARTICLE, NEGATED)
    assert (hunk.op, hunk.old, hunk.new) == ("replace", ("denied",), ("did", "not", "deny"))
    assert hunk.before == "The former minister"
    assert hunk.after.startswith("on Tuesday that he had ordered")
    assert (hunk.context_before, hunk.context_after) == ("", P2)
    assert (hunk.old_paragraph, hunk.new_paragraph) == (0, 0)
    assert hunk.negations and not hunk.numbers
    segments = list(hunk.segments())
    assert segments[1:3] == [("delete", "denied"), ("insert", "did not deny")]


def test_word_diff_flags_numbers() -> None:
    [hunk] = word_diff(ARTICLE, ARTICLE.replace("40 million", "4 million"))
    assert hunk.numbers and not hunk.negations
    assert (hunk.old, hunk.new) == (("40",), ("4",))


@pytest.mark.parametrize(
    "before, after",
    [
        ("В результате удара погибли два солдата.", "В результате удара погибли три солдата."),
        ("Загинули двоє, поранено дві тисячі людей.", "Загинули двоє, поранено три тисячі людей."),
        ("Il y avait vingt soldats.", "Il y avait trente soldats."),
        ("Es gab zwei Tote.", "Es gab drei Tote."),
        ("Murieron cinco personas.", "Murieron seis personas."),
    ],
)
def test_a_number_written_as_a_word_is_a_number_in_other_languages_too(
    before: str, after: str
) -> None:
    """A changed number in words is reported as a changed number, as "two" → "three" is."""
    [hunk] = word_diff(before, after)
    assert hunk.numbers
    assert summarise(before, after).numbers_changed


def test_articles_are_not_numbers() -> None:
    hunks = word_diff("Un soldat est mort.", "Une soldate est morte.")
    assert hunks and not any(hunk.numbers for hunk in hunks)


def test_word_diff_paragraph_removed_and_inserted() -> None:
    removed = "\n".join([P1, P2, P4, P5, P6])
    [hunk] = word_diff(ARTICLE, removed)
    assert hunk.op == "delete" and " ".join(hunk.old) == P3
    assert (hunk.context_before, hunk.context_after) == (P2, P4)
    inserted = ARTICLE + "\nCorrection: an earlier version misstated the date of the interview."
    [hunk] = word_diff(ARTICLE, inserted)
    assert hunk.op == "insert" and hunk.new[0] == "Correction:"
    assert hunk.context_before == P6 and hunk.old_paragraph == 6
    summary = summarise(ARTICLE, inserted)
    assert summary.first_changed_old == ""
    assert summary.first_changed_new.startswith("Correction:")


def test_word_diff_marks_a_moved_paragraph() -> None:
    hunks = word_diff(ARTICLE, "\n".join([P1, P2, P3, P5, P4, P6]))
    assert hunks and all(h.moved for h in hunks)
    assert summarise(ARTICLE, "\n".join([P1, P2, P3, P5, P4, P6])).moves == 1


def test_word_diff_short_span_is_never_a_move() -> None:
    hunks = word_diff("he did not deny it\nand that is all", "he did deny it\nand that is not all")
    assert not any(h.moved for h in hunks)


def test_word_diff_non_ascii() -> None:
    old = "Министр отрицал, что отдал приказ о прослушке.\nРасследование продолжается."
    new = "Министр не отрицал, что отдал приказ о прослушке.\nРасследование продолжается."
    [hunk] = word_diff(old, new)
    assert (hunk.op, hunk.old, hunk.new) == ("insert", (), ("не",))
    assert hunk.before == "Министр" and hunk.negations
    summary = summarise(old, new)
    assert summary.negations_added == ("не",)
    assert summary.first_changed_new == "Министр не отрицал, что отдал приказ о прослушке."
    json.dumps(summary.to_json(), ensure_ascii=False)


def test_word_diff_include_equal_renders_the_whole_new_text() -> None:
    hunks = word_diff(ARTICLE, NEGATED, include_equal=True)
    assert {h.op for h in hunks} == {"equal", "replace"}
    assert " ".join(w for h in hunks for w in h.new) == " ".join(NEGATED.split())


def long_article(words: int = 5000, seed: int = 7) -> str:
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(400)] + ["the", "of", "and", "a", "to", "in"] * 30
    paragraphs = []
    while sum(len(p.split()) for p in paragraphs) < words:
        sentence_count = rng.randint(2, 5)
        paragraphs.append(
            " ".join(
                " ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 20))) + "."
                for _ in range(sentence_count)
            )
        )
    return "\n".join(paragraphs)


def test_word_diff_finds_one_negation_in_5000_words() -> None:
    old = long_article()
    paragraphs = old.split("\n")
    middle = len(paragraphs) // 2
    words = paragraphs[middle].split()
    paragraphs[middle] = " ".join([*words[:4], "denied", *words[4:]])
    edited = "\n".join(paragraphs)
    new = edited.replace(" denied ", " did not deny ")
    [hunk] = word_diff(edited, new)
    assert (hunk.old, hunk.new) == (("denied",), ("did", "not", "deny"))
    assert hunk.old_paragraph == middle and hunk.negations
    # and classify calls it an edit of exactly that span
    outcome = classify(page(edited, links=()), page(new, links=()), now=T0)
    assert (outcome.outcome, outcome.reason) == ("edited", "text")
    assert outcome.edit is not None and len(outcome.edit.hunks) == 1


def test_word_diff_and_boundary_test_on_5000_words() -> None:
    # Correctness only: how fast this runs is measured by `make bench`, not asserted here.
    old = long_article()
    paragraphs = old.split("\n")
    for i in range(3, len(paragraphs), len(paragraphs) // 4):  # four edits
        paragraphs[i] = paragraphs[i].replace(" the ", " not the ", 1) + " Added words here."
    new = "\n".join(["A headline pulled in", *paragraphs])
    visible = f"Home\nA headline pulled in\n{old}\nFooter"
    hunks = word_diff(old, new)
    kept = unexplained_hunks(old, new, hunks, old_visible=visible, new_visible=new)
    assert sum("not" in h.new for h in kept) == 4  # the four negations, each reported
    assert sum("Added" in h.new for h in kept) == 4
    assert "pulled" not in " ".join(w for h in kept for w in h.new)


WORDS = st.sampled_from(["a", "b", "c", "not", "40", "Мир", "end.", "x,"])
TEXTS = st.lists(st.lists(WORDS, min_size=1, max_size=8), max_size=6).map(
    lambda paragraphs: "\n".join(" ".join(p) for p in paragraphs)
)


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS)
def test_word_diff_reconstructs_both_sides(old: str, new: str) -> None:
    hunks = word_diff(old, new, include_equal=True)
    assert [w for h in hunks for w in h.old] == old.split()
    assert [w for h in hunks for w in h.new] == new.split()
    changed = [h for h in hunks if h.op != "equal"]
    assert (old.split() == new.split()) == (not changed)
    verdicts = explained_spans(old, new, changed, old_visible=old, new_visible=new)
    assert len(verdicts) == len(changed)
    summary = summarise(old, new)
    assert summary.words_added + summary.words_removed <= len(old.split()) + len(new.split())


# --- the boundary-shift test ---------------------------------------------------------------


def test_short_span_needs_its_context_to_be_explained() -> None:
    # "not" is removed, and "not" still occurs elsewhere on the new page: without the
    # context window it would wrongly be explained away.
    old = "He said he did not deny the report.\nOthers did not comment."
    new = "He said he did deny the report.\nOthers did not comment."
    hunks = word_diff(old, new)
    assert explained_spans(old, new, hunks, old_visible=old, new_visible=new) == (False,)


def test_heading_pulled_in_is_explained() -> None:
    new = f"{TITLE}\n{ARTICLE}"
    hunks = word_diff(ARTICLE, new)
    assert explained_spans(ARTICLE, new, hunks, old_visible=BASE.visible_text, new_visible="") == (
        True,
    )


def test_removed_span_still_on_the_page_is_explained() -> None:
    new = "\n".join([P1, P2, P3, P4, P5])
    hunks = word_diff(ARTICLE, new)
    visible = f"{new}\nSidebar\n{P6}"
    assert explained_spans(ARTICLE, new, hunks, old_visible="", new_visible=visible) == (True,)
    assert explained_spans(ARTICLE, new, hunks, old_visible="", new_visible=new) == (False,)


def test_nothing_is_explained_without_visible_text() -> None:
    hunks = word_diff(ARTICLE, f"{TITLE}\n{ARTICLE}")
    assert explained_spans(
        ARTICLE, f"{TITLE}\n{ARTICLE}", hunks, old_visible="", new_visible=""
    ) == (False,)


# --- citations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://example.org/a", "https://example.org/a"),
        ("https://www.example.org/a", "https://example.org/a"),
        ("https://example.org/a/", "https://example.org/a"),
        ("https://example.org/a?utm_source=x&id=3&fbclid=y", "https://example.org/a?id=3"),
        ("https://Example.org:443/a#top", "https://example.org/a"),
        ("https://example.org/a?gclid=1", "https://example.org/a"),
    ],
)
def test_url_key_equal(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.org/A", "https://example.org/a"),
        ("https://example.org/a?id=3", "https://example.org/a?id=4"),
        ("https://example.org:8080/a", "https://example.org/a"),
    ],
)
def test_url_key_different(a: str, b: str) -> None:
    assert url_key(a) != url_key(b)


def test_link_changes() -> None:
    old = [("https://a.example/1", "the report"), ("https://b.example/2", "a memo")]
    new = [
        ("http://www.a.example/1/", "the report"),  # the same citation
        ("https://c.example/3", "A  memo"),  # same anchor, another URL
        ("https://d.example/4", "new source"),
    ]
    changes = link_changes(old, new)
    assert [r.new_url for r in changes.retargeted] == ["https://c.example/3"]
    assert [link.url for link in changes.added] == ["https://d.example/4"]
    assert changes.removed == () and changes.reanchored == ()
    assert not link_changes(old, list(reversed(old)))
    reanchored = link_changes(old, [("https://a.example/1", "the full report"), old[1]])
    assert [(r.old_anchor, r.new_anchor) for r in reanchored.reanchored] == [
        ("the report", "the full report")
    ]


def test_outcome_parts_serialise_to_json() -> None:
    outcome = classify(BASE, page(NEGATED, links=LINKS[:1]), now=T0)
    assert outcome.edit is not None and outcome.links is not None
    text = json.dumps({"edit": outcome.edit.to_json(), "links": outcome.links.to_json()})
    assert '"did not deny"' in text
