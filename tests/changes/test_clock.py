"""changes.clock: a time of day or a timestamp (`clock_stamp`) and a time said relative to
the fetch (`relative_time`) changing are never edits; a number that only looks like one is.
A line stating a date or a time of day is `dated`."""

from __future__ import annotations

import pytest

from preserve.changes.clock import clock_stamp, dated, relative_time, render_time
from preserve.changes.diff import Hunk, word_diff


def hunk(old: str, new: str) -> Hunk:
    """The one hunk of the word diff of two sentences."""
    (found,) = word_diff(old, new)
    return found


def changed(before: str, after: str, sentence: str = "The page was refreshed at {} today.") -> Hunk:
    return hunk(sentence.format(before), sentence.format(after))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("10:42", "11:05"),
        ("9:05", "23:59"),
        ("10:42:07", "10:43:12"),
        ("10.42pm", "11.05pm"),
        ("10:42am", "10:58a.m."),
        ("2026-12-07T10:42", "2026-12-07T11:05"),
        ("2026-12-07T10:42:07Z", "2026-12-08T09:00:00Z"),
        ("(10:42)", "(11:05)"),
    ],
)
def test_a_time_of_day_or_a_timestamp_is_a_clock_stamp(before: str, after: str) -> None:
    assert clock_stamp(changed(before, after))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("0.50", "2.50"),  # a rate
        ("12.30", "12.45"),  # a price, or a time: a point needs am/pm or a date to be one
        ("3.14", "3.15"),
        ("1,204", "1,205"),
        ("24:00", "25:00"),  # no such hour
        ("10:60", "10:75"),  # no such minute
        ("10:42", "noon"),  # one side is no time
    ],
)
def test_a_number_is_not_a_clock_stamp(before: str, after: str) -> None:
    assert not clock_stamp(changed(before, after))


def test_a_hunk_with_a_time_and_other_words_is_not_a_clock_stamp() -> None:
    assert not clock_stamp(changed("10:42 GMT", "11:05 BST"))
    assert not clock_stamp(changed("10:42", "11:05 sharp"))


def test_an_empty_hunk_is_not_a_clock_stamp() -> None:
    assert not clock_stamp(Hunk("equal", (), (), 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("5 minutes ago", "2 hours ago"),
        ("just now", "an hour ago"),
        ("a few seconds ago", "3 mins ago"),
        ("1 day ago", "several days ago"),
        ("one week ago", "2 weeks ago"),
    ],
)
def test_a_time_relative_to_the_fetch(before: str, after: str) -> None:
    old = f"Updated {before} by the news desk of the harbour paper."
    new = f"Updated {after} by the news desk of the harbour paper."
    found = hunk(old, new)
    assert relative_time(found, old.split(), new.split())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("The vote is 5 days away.", "The vote is 3 days away."),  # not relative to the fetch
        ("Viewed 1,204 times since Monday.", "Viewed 1,205 times since Monday."),
        ("It drew 40 million views.", "It drew 4 million views."),
        # A number next to a relative time, not inside it.
        ("Updated 5 minutes ago: 40 boats left.", "Updated 5 minutes ago: 4 boats left."),
    ],
)
def test_other_numbers_are_not_relative_times(old: str, new: str) -> None:
    found = hunk(old, new)
    assert not relative_time(found, old.split(), new.split())


def test_a_relative_time_and_another_change_in_one_hunk_is_not_only_a_time() -> None:
    old = "Updated 5 minutes ago by the desk."
    new = "Updated 2 hours ago, corrected by the desk."
    found = hunk(old, new)
    assert not relative_time(found, old.split(), new.split())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Page generated in 871 ms", "Page generated in 478 ms"),
        ("Page generation time: 0.12 s", "Page generation time: 0.31 s"),
        ("Served in 0,045 secs", "Served in 0,051 secs"),
    ],
)
def test_how_long_the_page_took_to_make(old: str, new: str) -> None:
    found = hunk(old, new)
    assert render_time(found, old.split(), new.split())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("The vote took 5 seconds.", "The vote took 50 seconds."),  # not after those words
        ("It was built in 1998.", "It was built in 1989."),  # a year, no unit
        ("Generated in 871 ms by web-3", "Generated in 871 ms by web-4"),  # not the time
    ],
)
def test_other_numbers_are_not_render_times(old: str, new: str) -> None:
    found = hunk(old, new)
    assert not render_time(found, old.split(), new.split())


@pytest.mark.parametrize(
    "line",
    [
        "Updated 10:45",
        "Monday 7 December 2026",
        "Posted 7/12/2026 by the desk",
        "2026-12-07 at the harbour",
        "Last updated on Monday at 9:05",
    ],
)
def test_a_line_with_a_date_or_a_time_of_day_is_dated(line: str) -> None:
    assert dated(line)


@pytest.mark.parametrize(
    "line",
    [
        "The rate was 0.50 percent",
        "Shared 1,204 times",
        "Figure 2: Hex view of the file",
        "Comments on this story: 12",
        "Cloche placed on a terracotta saucer",
    ],
)
def test_a_line_with_other_numbers_is_not_dated(line: str) -> None:
    assert not dated(line)
