"""changes.classify: times said relative to the fetch, numbers, scripts without spaces,
and the outcomes that are not edits (consent walls, parked domains, 451, moves, returns)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preserve.changes.classify import classify
from preserve.changes.model import PastCheck
from preserve.tokens import tokens
from tests.changes.helpers import (
    ARTICLE,
    BASE,
    DAY,
    NEGATED,
    ROOT,
    SHOP,
    T0,
    failure,
    page,
    redirected,
)


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


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Page generated in 871 ms", "Page generated in 478 ms"),
        ("Page generated in 0.123 seconds.", "Page generated in 0.09 seconds."),
        ("Rendered in 87ms", "Rendered in 102ms"),
        ("Query time: 12 ms", "Query time: 9 ms"),
    ],
)
def test_how_long_the_page_took_to_make_is_not_an_edit(before: str, after: str) -> None:
    """A page without an article element keeps its footer in the main text: the render time
    there changes at every fetch."""
    outcome = classify(page(f"{ARTICLE}\n{before}"), page(f"{ARTICLE}\n{after}"), now=T0)
    assert (outcome.outcome, outcome.reason, outcome.rule) == (
        "cosmetic",
        "render-time",
        "text.render-time",
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
        # A duration the article states, not one of making the page.
        ("The vote took 5 seconds.", "The vote took 50 seconds."),
        ("The budget was passed in 12 s flat.", "The budget was passed in 21 s flat."),
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
