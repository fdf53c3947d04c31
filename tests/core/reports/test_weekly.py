"""The weekly digest's facts and words: the week's days, when they began and ended, what was unusual."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import select

from bot.dev.line_emulator import validate_messages
from core.db import session_scope
from core.enums import Channel, IncidentKind
from core.models import Home, Incident, OutboxMessage
from core.reports import weekly
from core.reports.delivery import recipients
from core.texts import t
from tests.core.reports.helpers import active_day, history, put_day, quiet_day

MONDAY = date(2026, 6, 8)


def _week(home_id: int, quiet_on: date | None = None, missing_on: date | None = None) -> None:
    history(home_id, MONDAY)
    for i in range(7):
        day = MONDAY + timedelta(days=i)
        slots = quiet_day() if day == quiet_on else active_day()
        if day == missing_on:
            slots = slots.copy()
            slots[20:26] = np.nan  # three hours that never arrived
        put_day(home_id, day, slots)


def _facts(home_id: int) -> weekly.WeeklyFacts:
    with session_scope() as s:
        return weekly.build(s, s.get(Home, home_id), MONDAY)


def test_each_day_says_when_activity_began_and_ended(make_home, clock) -> None:
    home = make_home()
    _week(home.id)
    facts = _facts(home.id)
    assert [d.day for d in facts.days] == [MONDAY + timedelta(days=i) for i in range(7)]
    # active_day(): up at 07:00, the evening until 22:30.
    assert {(d.woke_min, d.slept_min) for d in facts.days} == {(7 * 60, 22 * 60 + 30)}
    lines = weekly.times_lines(facts, "ja")
    assert lines[0] == t("reports.weekly.day_span", "ja", date=t("reports.weekly.short_date", "ja", month=6, day=8,
                                                                  weekday="月"),
                         woke=t("reports.weekly.at", "ja", time="7:00"), slept=t("reports.weekly.at", "ja",
                                                                                 time="22:30"))
    assert weekly.unusual_lines(facts, "ja") == [t("reports.weekly.nothing_unusual", "ja")]
    assert facts.month is None  # the digest of 6/15 is not the month's first


def test_a_quiet_day_missing_hours_and_an_alert_are_listed_as_unusual(make_home, clock) -> None:
    home = make_home()
    wednesday, friday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=4)
    _week(home.id, quiet_on=wednesday, missing_on=friday)
    with session_scope() as s:
        at = datetime(2026, 6, 11, 0, 10, tzinfo=UTC)  # Thursday 09:10 JST
        s.add(Incident(home_id=home.id, kind=IncidentKind.NO_WAKE, window_start=at, detected_at=at))
    facts = _facts(home.id)
    lines = weekly.unusual_lines(facts, "ja")
    assert any(line.endswith(t("reports.reading.quiet", "ja")) for line in lines)
    assert any(line.endswith(t("reports.weekly.gap", "ja", hours="3")) for line in lines)
    assert any(line.endswith(f"09:10 {t('reports.kind.no_wake', 'ja')}") for line in lines)
    assert facts.ratio is None  # a week with a gap is not compared
    assert weekly.week_lines(facts, "ja")[-1] == t("reports.weekly.some_unusual", "ja", n=3)


def test_the_digest_is_one_valid_carousel_on_line_and_a_readable_email(make_home, make_watcher, clock) -> None:
    home = make_home()
    make_watcher(home, email="k@example.com", channels=["line", "email"], language="en")
    _week(home.id)
    with session_scope() as s:
        h = s.get(Home, home.id)
        assert weekly.send_weekly(s, h, MONDAY) == 2
        assert weekly.send_weekly(s, h, MONDAY) == 0  # once
        rows = {r.channel: r for r in s.scalars(select(OutboxMessage))}
        assert len(recipients(s, h, "notify_weekly")) == 2
    line, email = rows[Channel.LINE], rows[Channel.EMAIL]
    validate_messages(line.payload["messages"])
    assert line.idempotency_key == f"weekly:{home.id}:2026-06-08:{line.idempotency_key.split(':')[3]}:line"
    assert len(line.payload["messages"]) == 1  # one push, however many bubbles
    assert email.payload["subject"].startswith("[mimamori]")
    assert t("reports.weekly.nothing_unusual", "en") in email.payload["text"]


def test_a_digest_missed_on_monday_goes_out_by_wednesday_at_the_report_time(make_home, make_watcher, clock) -> None:
    from core.reports.jobs import send_due_weekly_digests

    home = make_home()
    make_watcher(home)
    _week(home.id)
    tuesday_1am = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # Tue 6/16 01:00 JST: nobody is pushed at night
    assert send_due_weekly_digests(tuesday_1am) == 0
    assert send_due_weekly_digests(tuesday_1am + timedelta(hours=7, minutes=5)) == 1  # 08:05 JST
    assert send_due_weekly_digests(tuesday_1am + timedelta(days=1, hours=8)) == 0  # once
    assert send_due_weekly_digests(tuesday_1am + timedelta(days=2, hours=8)) == 0  # Thursday: no digest is due
