"""changes.classify, table-tested: every outcome and reason (docs/outcomes.md)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from preserve.changes.classify import classify
from preserve.changes.model import PastCheck, Snapshot
from tests.changes.helpers import (
    ARTICLE,
    BASE,
    BOILERPLATE,
    DAY,
    HEAVY_PROBE,
    LINKS,
    NEGATED,
    NOT_FOUND,
    P1,
    P2,
    P3,
    P4,
    P5,
    P6,
    PROBE_404,
    PROBE_TEMPLATE,
    ROOT,
    SHOP,
    T0,
    TITLE,
    URL,
    failure,
    page,
    redirected,
)

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


def test_outcome_parts_serialise_to_json() -> None:
    outcome = classify(BASE, page(NEGATED, links=LINKS[:1]), now=T0)
    assert outcome.edit is not None and outcome.links is not None
    text = json.dumps({"edit": outcome.edit.to_json(), "links": outcome.links.to_json()})
    assert '"did not deny"' in text
