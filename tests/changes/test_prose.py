"""changes.prose: which changes of a page's visible text outside its main text are edits of
its prose (a word, a number, a negation, a sentence, a paragraph) and which are the page
around the article changing (lists, teasers, comments, counters, times)."""

from __future__ import annotations

import pytest

from preserve.changes.prose import ProseEdit, edited_passages, is_prose, prose_edits

# The page around the prose: nav, headline, byline; then the footer.
HEAD = ["Home", "World", "Politics", "Harbour plan approved after a long night", "By Staff Writer"]
FOOT = ["About us", "Privacy", "Contact"]

VOTE = (
    "The council approved the harbour plan on Tuesday after a long debate that ran past midnight."
)
FERRY = (
    "Residents asked whether the ferry would run again before the winter storms reached the coast."
)
LOAN = "The mayor said the rate on the harbour loan was 0.50 percent for the first five years."
CORRECTION = (
    "Correction: an earlier version of this story said the vote was 7 to 2 in favour of the plan."
)
# A paragraph of three sentences; the middle one is more than a third of its words.
INQUIRY = (
    "The inquiry opened in March. It heard forty witnesses over six long weeks of hearings "
    "in the old town hall by the quay. Its report is due next spring."
)


def visible(*blocks: str) -> str:
    """A page's visible text, a block a line: the page's head, `blocks`, its footer."""
    return "\n".join([*HEAD, *blocks, *FOOT])


def changes(edit: ProseEdit) -> list[tuple[str, str]]:
    """The hunks of an edit as (removed words, added words)."""
    return [(" ".join(h.old), " ".join(h.new)) for h in edit.hunks]


# --- a block of prose edited ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "hunk"),
    [
        (VOTE, VOTE.replace("long debate", "long and bitter debate"), ("", "and bitter")),
        (VOTE, VOTE.replace("a long debate", "a debate"), ("long", "")),
        (VOTE, VOTE.replace("Tuesday", "Wednesday"), ("Tuesday", "Wednesday")),
        (LOAN, LOAN.replace("0.50 percent", "2.50 percent"), ("0.50", "2.50")),
        (LOAN, LOAN.replace("loan was", "loan was not"), ("", "not")),
        (CORRECTION, CORRECTION.replace("7 to 2", "5 to 2"), ("7", "5")),
    ],
    ids=["word-inserted", "word-removed", "word-replaced", "number", "negation", "vote"],
)
def test_a_few_words_changed_in_a_paragraph_are_one_edit_with_that_hunk(
    before: str, after: str, hunk: tuple[str, str]
) -> None:
    blocks = [VOTE, FERRY, LOAN, CORRECTION]
    old = visible(*blocks)
    new = visible(*[after if b == before else b for b in blocks])

    (edit,) = prose_edits(old, new)

    assert (edit.old, edit.new) == (before, after)
    assert changes(edit) == [hunk]


INQUIRY_CUT = "The inquiry opened in March. Its report is due next spring."
WALKOUT = " Two members walked out before the vote and did not return to the chamber."


@pytest.mark.parametrize(
    ("before", "after", "hunk"),
    [
        (
            INQUIRY,
            INQUIRY_CUT,
            (
                "It heard forty witnesses over six long weeks of hearings in the old town hall "
                "by the quay.",
                "",
            ),
        ),
        (VOTE, VOTE + WALKOUT, ("", WALKOUT.strip())),
    ],
    ids=["sentence-cut", "sentence-added"],
)
def test_a_whole_sentence_cut_from_or_added_to_a_paragraph_is_an_edit(
    before: str, after: str, hunk: tuple[str, str]
) -> None:
    """However long the sentence: the one cut here is more than a third of its paragraph,
    which a share of words changed cannot tell from a paragraph rewritten whole."""
    old, new = visible(FERRY, before, LOAN), visible(FERRY, after, LOAN)
    shorter, longer = sorted((before, after), key=len)
    assert len(longer.split()) - len(shorter.split()) > len(longer.split()) / 3

    (edit,) = prose_edits(old, new)

    assert (edit.old, edit.new) == (before, after)
    assert changes(edit) == [hunk]


def test_a_paragraph_removed_between_two_paragraphs_is_an_edit() -> None:
    (edit,) = prose_edits(visible(VOTE, FERRY, LOAN), visible(VOTE, LOAN))

    assert (edit.old, edit.new, edit.hunks) == (FERRY, "", ())


def test_the_same_paragraph_added_is_an_edit() -> None:
    (edit,) = prose_edits(visible(VOTE, LOAN), visible(VOTE, FERRY, LOAN))

    assert (edit.old, edit.new, edit.hunks) == ("", FERRY, ())


CAPTION = "The harbour wall and the new moorings, seen from the air. Photo: Coast Agency"


def test_a_caption_followed_by_its_credit_is_prose_and_its_edit_an_edit() -> None:
    assert is_prose(CAPTION)
    edited = CAPTION.replace("from the air", "from the north pier")

    (edit,) = prose_edits(visible(VOTE, CAPTION, LOAN), visible(VOTE, edited, LOAN))

    assert changes(edit) == [("air.", "north pier.")]


def test_an_edit_beside_a_relative_time_reports_only_the_edit() -> None:
    before = "Updated 5 minutes ago. " + VOTE
    after = "Updated 2 hours ago. " + VOTE.replace("Tuesday", "Wednesday")

    (edit,) = prose_edits(visible(before, FERRY), visible(after, FERRY))

    assert changes(edit) == [("Tuesday", "Wednesday")]


def test_several_edits_are_each_reported_and_their_passages_joined() -> None:
    old = visible(VOTE, FERRY, LOAN, CORRECTION)
    new = visible(
        VOTE.replace("Tuesday", "Monday"), FERRY, LOAN, CORRECTION.replace("7 to 2", "6 to 2")
    )

    edits = prose_edits(old, new)

    assert [changes(e) for e in edits] == [[("Tuesday", "Monday")], [("7", "6")]]
    assert edited_passages(edits) == (
        f"{VOTE}\n{CORRECTION}",
        VOTE.replace("Tuesday", "Monday") + "\n" + CORRECTION.replace("7 to 2", "6 to 2"),
    )


def test_the_passages_of_a_removed_and_an_added_paragraph_have_one_side_each() -> None:
    removed = prose_edits(visible(VOTE, FERRY, LOAN), visible(VOTE, LOAN))
    added = prose_edits(visible(VOTE, LOAN), visible(VOTE, FERRY, LOAN))

    assert edited_passages(removed) == (FERRY, "")
    assert edited_passages(added) == ("", FERRY)
    assert edited_passages([]) == ("", "")


# --- scripts written without spaces ---------------------------------------------------------------

ZH_VOTE = "市议会周二批准了港口计划，辩论一直持续到午夜之后，议员们最终以七票对二票通过。"
ZH_FERRY = "居民们询问渡轮能否在冬季风暴到来之前恢复运行，但港务局没有人回答他们的问题。"
ZH_LOAN = "市长表示，港口贷款在最初五年的利率为百分之零点五，之后将由议会重新审议。"
ZH_TEASER = "推荐阅读：山上的博物馆本周末重新开放，并举办一场免费的古地图展览，欢迎市民参观。"
ZH_OTHER_TEASER = "推荐阅读：一座铁路桥因维修而关闭，工程师正在检查桥墩上发现的裂缝，预计下月通车。"


def test_a_long_enough_block_in_a_script_without_spaces_is_prose() -> None:
    assert is_prose(ZH_VOTE)
    assert is_prose("港務局は、新しい係留設備を来年の春までに設置すると発表しました。")
    assert not is_prose("港口计划获得批准。")  # a sentence, but too short to be a paragraph


def test_a_one_character_edit_of_a_chinese_paragraph_is_an_edit() -> None:
    """ "Tuesday" becomes "Wednesday": one character, in a paragraph that is one "word" to
    a split on spaces."""
    edited = ZH_VOTE.replace("周二", "周三")

    edits = prose_edits(visible(ZH_FERRY, ZH_VOTE, ZH_LOAN), visible(ZH_FERRY, edited, ZH_LOAN))

    assert edits
    assert edited_passages(edits) == (ZH_VOTE, edited)


# --- what is not an edit --------------------------------------------------------------------------

TEASER = (
    "Read next: The museum on the hill opens its doors again this weekend with a free "
    "exhibition of old maps."
)
OTHER_TEASER = (
    "Read next: A railway bridge closes for repairs while engineers inspect the cracks "
    "found in its piers."
)
COMMENTS = [
    "Ana wrote: I think the council made the right choice for the harbour this time.",
    "Ben wrote: The plan costs far too much for a town of our size, and nobody asked us.",
    "Cleo wrote: When will the ferry run again? Nobody at the port seems to know.",
]


def most_read(*headlines: str) -> list[str]:
    return ["Most read", *headlines]


NOT_EDITS = [
    (
        "most-read-headlines-replaced",
        [VOTE, FERRY, *most_read("Storm closes coast road", "Mayor opens bridge")],
        [VOTE, FERRY, *most_read("Fishing quota cut again", "School roof repaired at last")],
    ),
    (
        "most-read-list-of-sentences-replaced",
        [VOTE, FERRY, *most_read(TEASER, "Storm closes coast road")],
        [VOTE, FERRY, *most_read(OTHER_TEASER, "Fishing quota cut again")],
    ),
    (
        # The first story drops to the bottom of the list, just above a paragraph: moved,
        # not added (as spans moved in the main text are only reordered).
        "most-read-list-of-sentences-rotated-above-a-paragraph",
        [VOTE, *most_read(TEASER, OTHER_TEASER, CAPTION), FERRY],
        [VOTE, *most_read(OTHER_TEASER, CAPTION, TEASER), FERRY],
    ),
    ("teaser-replaced-at-the-end", [VOTE, FERRY, TEASER], [VOTE, FERRY, OTHER_TEASER]),
    ("teaser-replaced-inside-the-article", [VOTE, TEASER, FERRY], [VOTE, OTHER_TEASER, FERRY]),
    (
        "chinese-teaser-replaced-inside-the-article",
        [ZH_VOTE, ZH_TEASER, ZH_FERRY],
        [ZH_VOTE, ZH_OTHER_TEASER, ZH_FERRY],
    ),
    ("comments-added", [VOTE, FERRY, "Comments"], [VOTE, FERRY, "Comments", *COMMENTS]),
    ("comments-gone", [VOTE, FERRY, "Comments", *COMMENTS], [VOTE, FERRY, "Comments"]),
    ("counter", [VOTE, "1,204 views", FERRY], [VOTE, "1,205 views", FERRY]),
    (
        "relative-time-in-a-paragraph",
        ["Updated 5 minutes ago. " + VOTE, FERRY],
        ["Updated 2 hours ago. " + VOTE, FERRY],
    ),
    (
        "clock-stamp-in-a-paragraph",
        ["The live page was last updated at 10:42 as members left the chamber.", FERRY],
        ["The live page was last updated at 11:05 as members left the chamber.", FERRY],
    ),
    ("clock-stamp-line", [VOTE, "10:42", FERRY], [VOTE, "11:05", FERRY]),
    (
        "render-time-in-the-footer",
        [VOTE, FERRY, "Page generated in 871 ms."],
        [VOTE, FERRY, "Page generated in 478 ms."],
    ),
    (
        "live-ticker-moves-on",
        [VOTE, "Live", "10:42 Storm closes coast road.", "10:31 Ferry delayed by fog.", FERRY],
        [VOTE, "Live", "10:55 Mayor opens bridge.", "10:42 Storm closes coast road.", FERRY],
    ),
    (
        "menu-items",
        [VOTE, "News Sport Weather Business Culture Science Travel Opinion", FERRY],
        [VOTE, "News Sport Weather Business Culture Science Travel Podcasts", FERRY],
    ),
    (
        "product-listing-without-a-sentence-end",
        [VOTE, "Oak garden bench, two seats, weatherproof finish, 149 EUR, delivered in 3 days"],
        [VOTE, "Oak garden bench, two seats, weatherproof finish, 129 EUR, delivered in 5 days"],
    ),
    ("only-white-space", [VOTE, FERRY], [f"  {VOTE}", f"{FERRY}  ", ""]),
]


@pytest.mark.parametrize(
    ("old", "new"), [case[1:] for case in NOT_EDITS], ids=[case[0] for case in NOT_EDITS]
)
def test_the_page_around_the_prose_changing_is_not_an_edit(old: list[str], new: list[str]) -> None:
    assert prose_edits(visible(*old), visible(*new)) == []


def test_a_whole_page_replaced_is_not_an_edit_of_its_prose() -> None:
    """Every block different: nothing to pair, nothing between blocks that stayed."""
    old = [
        f"Paragraph {n} of the first story tells of the harbour and its ferry." for n in range(5)
    ]
    new = [
        f"Section {n} of a shop page lists garden benches, lamps and rugs for sale."
        for n in range(5)
    ]

    assert prose_edits("\n".join(old), "\n".join(new)) == []


# --- what is prose --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "prose"),
    [
        (VOTE, True),
        (CAPTION, True),
        ("He said no. " * 3, True),  # sentences of few words, a sentence or more in all
        ("Harbour plan approved after a long night of debate in the council", False),  # no end
        ("Storm closes coast road.", False),  # a sentence, but a headline's length
        ("1,204 views", False),
        ("10:42", False),
        ("News Sport Weather Business Culture Science Travel Opinion", False),
        ("", False),
    ],
)
def test_is_prose(block: str, prose: bool) -> None:
    assert is_prose(block) is prose


# --- a short block beside the article -------------------------------------------------------------

# Lines too short to be prose, in the article's flow: a caption without a sentence, a link's
# label between two paragraphs.
SHORT_CAPTION = "Cloche placed on a terracotta saucer (Harbour Archive)"
LINK_LABEL = "Here is the council's page for the vote"
MAIN = f"{VOTE}\n{LOAN}"  # the main text, which has the paragraphs but not the short lines


@pytest.mark.parametrize(
    ("before", "after", "hunk"),
    [
        (SHORT_CAPTION, SHORT_CAPTION.replace("a terracotta", "a"), ("terracotta", "")),
        (LINK_LABEL, LINK_LABEL.replace("is the", "is not the"), ("", "not")),
        (LINK_LABEL, LINK_LABEL.replace("vote", "ballot"), ("vote", "ballot")),
    ],
    ids=["caption-word-removed", "label-negation", "label-word-replaced"],
)
def test_a_word_changed_in_a_short_block_beside_the_main_text_is_an_edit(
    before: str, after: str, hunk: tuple[str, str]
) -> None:
    assert not is_prose(before)

    (edit,) = prose_edits(visible(VOTE, before, LOAN), visible(VOTE, after, LOAN), MAIN)

    assert (edit.old, edit.new) == (before, after)
    assert changes(edit) == [hunk]


def test_a_short_block_is_judged_only_beside_the_main_text() -> None:
    old, new = visible(VOTE, LINK_LABEL, LOAN), visible(VOTE, LINK_LABEL + " again", LOAN)
    # Without the main text, or when its neighbours are not the main text's (a sidebar's
    # label between the sidebar's own lines), a short line is the page around the article.
    assert prose_edits(old, new) == []
    assert prose_edits(old, new, "Another story altogether, with none of these lines.") == []
    sidebar_old = visible(VOTE, "Most read", LINK_LABEL, "Weather", LOAN)
    sidebar_new = visible(VOTE, "Most read", LINK_LABEL + " again", "Weather", LOAN)
    assert prose_edits(sidebar_old, sidebar_new, MAIN) == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Comments on this story: 12", "Comments on this story: 13"),  # a counter
        ("Shared 1,204 times (so far)", "Shared 1,310 times (so far)"),
        ("Updated 5 minutes ago", "Updated 7 minutes ago"),  # a time
        ("Listen to this story", "Listen to the podcast"),  # a short block rewritten
        ("Read more: Museum reopens", "Read more: Bridge closes"),  # a teaser rotating
        ("Step 9", "Step ten"),  # a label under SHORT_WORDS words
        ("Updated Monday 7 December 2026, 10:45", "Updated Tuesday 8 December 2026, 09:12"),
        ("Last updated on Monday at 10:45", "Last updated on Tuesday at 09:12"),
    ],
    ids=["counter", "shares", "relative-time", "rewritten", "teaser", "label", "date", "day"],
)
def test_a_short_block_beside_the_main_text_that_counts_tells_time_or_rotates_is_not_an_edit(
    before: str, after: str
) -> None:
    assert prose_edits(visible(VOTE, before, LOAN), visible(VOTE, after, LOAN), MAIN) == []
