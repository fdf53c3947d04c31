"""Replies before pushes, through the real path: signed webhooks, the report jobs, the outbox,
the dispatcher and the fake LINE that checks every body against messaging-api.yml."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from core import links
from core.db import session_scope
from core.escalation.dispatcher import dispatch_due
from core.models import Home, MeterReading
from core.reports.jobs import send_due_daily_reports, send_due_weekly_digests, send_monthly_reports
from core.reports.usage import local_midnight
from core.texts import t
from tests.bot.conftest import texts_of
from tests.bot.test_conversations import register
from tests.core.escalation.conftest import line_channels
from tests.core.reports.helpers import active_day, put_days

JST = "Asia/Tokyo"


def _jst(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(JST)).astimezone(UTC)


def _pushes_to(line, user_id: str) -> list:
    return [c for c in line.state.pushes() if user_id in c.to]


def test_today_answers_with_a_free_reply_carrying_todays_graph(chat, fake_line, client, clock) -> None:
    register(chat)
    with session_scope() as s:
        home = s.scalar(select(Home))
        home_id = home.id
        start = local_midnight(date(2026, 6, 1), ZoneInfo(JST))
        for i in range(16):  # 00:00-08:00 JST today; the clock says 09:00 JST
            s.add(MeterReading(home_id=home_id, interval_start=start + timedelta(minutes=30 * i), kwh=0.2))
    pushes_before = len(fake_line.state.pushes())
    fake_line.state.signals.clear()
    chat.new_messages()

    chat.text("今日の様子")

    assert len(fake_line.state.pushes()) == pushes_before  # nothing counted against the quota
    answer = fake_line.state.calls[-1]
    assert answer.kind == "reply" and answer.to == [chat.user_id]
    card, image = answer.messages
    assert t("bot.status.title", "ja", name="お父さん") in texts_of(card)
    assert t("bot.status.kwh", "ja", kwh="3.2") in texts_of(card)
    original, preview = links.graph_urls(home_id, date(2026, 6, 1))
    assert (image["originalContentUrl"], image["previewImageUrl"]) == (original, preview)
    # LINE's loading animation while it was prepared, and the tap's message marked read.
    assert fake_line.state.signalled("loading") == [{"chatId": chat.user_id, "loadingSeconds": 10}]
    assert len(fake_line.state.signalled("read")) == 1
    # The graph LINE fetches next is there (drawn during the animation).
    response = client.get(original.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200 and response.content_type == "image/png"
    # A button sending it as a postback gets the same free answer.
    chat.postback("action=today")
    assert len(fake_line.state.pushes()) == pushes_before
    assert fake_line.state.calls[-1].kind == "reply" and fake_line.state.calls[-1].messages[1] == image


def test_today_without_a_home_says_so_without_animation_or_graph(chat, fake_line) -> None:
    chat.text("今日の様子")
    assert chat.new_texts() == t("bot.no_home_yet", "ja")
    assert fake_line.state.signalled("loading") == []


def test_the_weekly_digest_is_pushed_once_per_watcher_a_week(fake_line, settings, make_home, make_watcher,
                                                             clock) -> None:
    home = make_home()
    first, second = make_watcher(home), make_watcher(home, order=2)
    quiet = make_watcher(home, order=3, notify_weekly=False)
    put_days(home.id, date(2026, 5, 18), 28, active_day())  # through Sunday 6/14
    channels = line_channels(settings)
    ticks = [_jst(date(2026, 6, 7), 9), _jst(date(2026, 6, 8), 7, 55), _jst(date(2026, 6, 8), 8, 5),
             _jst(date(2026, 6, 8), 8, 20), _jst(date(2026, 6, 9), 9), _jst(date(2026, 6, 12), 9),
             _jst(date(2026, 6, 15), 8, 5), _jst(date(2026, 6, 15), 18)]
    for now in ticks:
        clock.set(now)
        send_due_weekly_digests(now)
        dispatch_due(channels=channels, settings=settings)

    for watcher in (first, second):
        pushes = _pushes_to(fake_line, watcher.line_user_id)
        assert [c.at[:10] for c in pushes] == ["2026-06-07", "2026-06-14"]  # Monday 08:05 JST, in UTC
        for call in pushes:
            [message] = call.messages
            assert message["type"] == "flex" and message["contents"]["type"] == "carousel"
            titles = [b["header"]["contents"][0]["text"] for b in message["contents"]["contents"]]
            assert titles == [t("reports.weekly.title", "ja"), t("reports.weekly.times_title", "ja"),
                              t("reports.weekly.unusual_title", "ja")]
    assert _pushes_to(fake_line, quiet.line_user_id) == []
    week = fake_line.state.pushes()[0].messages[0]["contents"]["contents"]
    assert t("reports.weekly.nothing_unusual", "ja") in texts_of({"type": "flex", "contents": week[2]})
    kwh = float(np.sum(active_day())) * 7
    assert t("reports.weekly.kwh", "ja", kwh=f"{kwh:.1f}") in texts_of({"type": "flex", "contents": week[0]})
    assert t("reports.weekly.ratio", "ja", percent=100) in texts_of({"type": "flex", "contents": week[0]})


def test_the_daily_push_goes_only_to_watchers_who_asked(fake_line, settings, make_home, make_watcher, clock) -> None:
    home = make_home()
    asked = make_watcher(home, notify_daily=True)
    default = make_watcher(home, order=2)
    put_days(home.id, date(2026, 5, 25), 10, active_day())  # through Wednesday 6/3
    for day in (date(2026, 6, 2), date(2026, 6, 3), date(2026, 6, 4)):  # Tuesday to Thursday at 08:05
        clock.set(_jst(day, 8, 5))
        send_due_daily_reports(clock.now())
        dispatch_due(channels=line_channels(settings), settings=settings)
    assert len(_pushes_to(fake_line, asked.line_user_id)) == 3
    assert _pushes_to(fake_line, default.line_user_id) == []


def test_last_months_report_rides_in_the_months_first_digest(fake_line, settings, make_home, make_watcher,
                                                             clock) -> None:
    home = make_home()
    digest = make_watcher(home)  # LINE, weekly digest (default): the month comes inside the digest
    no_digest = make_watcher(home, order=2, notify_weekly=False)  # gets the monthly report on its own
    put_days(home.id, date(2026, 4, 1), 62, active_day())  # April and May
    clock.set(_jst(date(2026, 6, 1), 9, 5))  # Monday the 1st, after the report time
    send_monthly_reports(clock.now())
    send_due_weekly_digests(clock.now())
    dispatch_due(channels=line_channels(settings), settings=settings)

    [carousel] = [m for c in _pushes_to(fake_line, digest.line_user_id) for m in c.messages]
    bubbles = carousel["contents"]["contents"]
    assert len(bubbles) == 4
    assert bubbles[3]["header"]["contents"][0]["text"] == t("reports.monthly.title", "ja")
    alone = [m for c in _pushes_to(fake_line, no_digest.line_user_id) for m in c.messages]
    assert [m["type"] for m in alone] == ["flex", "image"]  # the monthly report as before
    assert t("reports.monthly.title", "ja") in texts_of(alone[0])
    assert len(fake_line.state.pushes()) == 2  # one push each
