"""changes.confirm: confirmation over time, with the clock (`now`) moved by the test."""

from __future__ import annotations

from datetime import timedelta

from preserve.changes.classify import classify
from preserve.changes.model import Outcome, PastCheck, Snapshot
from tests.changes.helpers import BASE, DAY, HOUR, ROOT, SHOP, T0, failure, page, redirected


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
