"""The incident rules shared by live and replay: once per situation, closed by usage."""

from __future__ import annotations

from core.detection.book import UNKNOWN, HomeBook, Raised, step
from core.enums import IncidentKind

K = IncidentKind


def test_an_emergency_opens_once_while_the_situation_lasts() -> None:
    book = HomeBook()
    first = step(book, [Raised(K.INACTIVITY, 100, 101)], {K.INACTIVITY: 100})
    again = step(book, [Raised(K.INACTIVITY, 100, 101)], {K.INACTIVITY: 100})
    assert [r.kind for r in first.opened] == [K.INACTIVITY]
    assert again.opened == []


def test_usage_closes_the_emergency_and_says_usage_resumed() -> None:
    book = HomeBook()
    step(book, [Raised(K.INACTIVITY, 100, 101)], {K.INACTIVITY: 100})
    result = step(book, [], {K.INACTIVITY: 130})
    assert result.usage_closed == [K.INACTIVITY]
    assert [(r.kind, r.window_start) for r in result.opened] == [(K.USAGE_RESUMED, 130)]
    assert book.open == {}


def test_a_closed_situation_is_not_raised_again_but_a_new_one_is() -> None:
    book = HomeBook(seen={"emergency": 100})  # e.g. a watcher closed it as "she is fine"
    assert step(book, [Raised(K.INACTIVITY, 100, 101)], {K.INACTIVITY: 100}).opened == []
    assert step(book, [Raised(K.INACTIVITY, 140, 141)], {K.INACTIVITY: 140}).opened


def test_one_emergency_at_a_time_first_in_table_order_wins() -> None:
    book = HomeBook()
    result = step(book, [Raised(K.NO_WAKE, 100, 101), Raised(K.INACTIVITY, 100, 101)], {})
    assert [r.kind for r in result.opened] == [K.NO_WAKE]


def test_a_notice_closes_when_its_condition_ends_and_opens_once_per_episode() -> None:
    book = HomeBook()
    assert step(book, [Raised(K.OVER_USAGE, 10, 10)], {}).opened
    assert step(book, [Raised(K.OVER_USAGE, 10, 10)], {}).opened == []
    assert step(book, [], {}).closed == [K.OVER_USAGE]
    assert step(book, [Raised(K.OVER_USAGE, 10, 10)], {}).opened == []  # same day: once a day
    assert step(book, [Raised(K.OVER_USAGE, 58, 58)], {}).opened  # next day


def test_quiet_since_before_the_window_raises_once_then_again_only_after_use() -> None:
    book = HomeBook()
    assert step(book, [Raised(K.INACTIVITY, UNKNOWN, 10)], {K.INACTIVITY: UNKNOWN}).opened  # never raised: raise
    book.open.clear()  # a watcher closed it ("she is away")
    assert step(book, [Raised(K.INACTIVITY, UNKNOWN, 12)], {K.INACTIVITY: UNKNOWN}).opened == []


def test_an_earlier_situation_does_not_hide_a_long_quiet_one_after_use_was_seen() -> None:
    book = HomeBook()
    step(book, [Raised(K.INACTIVITY, 100, 101)], {K.INACTIVITY: 100})
    assert [r.kind for r in step(book, [], {K.INACTIVITY: 130}).opened] == [K.USAGE_RESUMED]
    # quiet again, and by now longer than the detection window: a new situation
    result = step(book, [Raised(K.NO_WAKE, UNKNOWN, 140)], {K.NO_WAKE: UNKNOWN})
    assert [(r.kind, r.episode) for r in result.opened] == [(K.NO_WAKE, 130)]
    book.open.clear()
    assert step(book, [Raised(K.NO_WAKE, UNKNOWN, 150)], {K.NO_WAKE: UNKNOWN}).opened == []


def test_a_lone_spike_inside_a_long_quiet_stretch_closes_the_emergency_but_raises_no_second_one() -> None:
    book = HomeBook()
    step(book, [Raised(K.INACTIVITY, 100, 101)], {K.INACTIVITY: 100}, {K.INACTIVITY: 100})
    spike = step(book, [], {K.INACTIVITY: 130}, {K.INACTIVITY: 100})  # one active half-hour, not sustained
    assert [(r.kind, r.window_start) for r in spike.opened] == [(K.USAGE_RESUMED, 130)]
    # still quiet, by now longer than the detection window: the same stretch
    assert step(book, [Raised(K.INACTIVITY, UNKNOWN, 140)], {K.INACTIVITY: 130}, {K.INACTIVITY: UNKNOWN}).opened == []


def test_sustained_use_that_closed_an_emergency_makes_the_next_long_quiet_stretch_new() -> None:
    book = HomeBook()
    step(book, [Raised(K.INACTIVITY, 100, 101)], {K.INACTIVITY: 100}, {K.INACTIVITY: 100})
    step(book, [], {K.INACTIVITY: 131}, {K.INACTIVITY: 131})  # up and about
    result = step(book, [Raised(K.INACTIVITY, UNKNOWN, 200)], {K.INACTIVITY: 131}, {K.INACTIVITY: UNKNOWN})
    assert [(r.kind, r.episode) for r in result.opened] == [(K.INACTIVITY, 131)]
