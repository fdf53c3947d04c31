from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from linebot.v3.messaging import PushMessageRequest
from sqlalchemy import select

from bot.dev.line_emulator import validate_messages
from core import links
from core.clock import ManualClock
from core.db import session_scope
from core.enums import Channel
from core.models import OutboxMessage, Schedule, Watcher
from core.reports.jobs import send_due_daily_reports
from tests.core.reports.helpers import active_day, history, late_night_day, put_day

# 2026-06-02 is a Tuesday; the report on 06-03 08:00 JST (23:00 UTC on 06-02) is about it.
DAY = date(2026, 6, 2)
BEFORE = datetime(2026, 6, 2, 22, 59, tzinfo=UTC)  # 07:59 JST on 06-03
AFTER = datetime(2026, 6, 2, 23, 5, tzinfo=UTC)  # 08:05 JST


def outbox() -> list[OutboxMessage]:
    with session_scope() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def flex_texts(payload: dict[str, Any]) -> str:
    bubble = payload["messages"][0]["contents"]
    return " ".join(c["text"] for c in bubble["body"]["contents"])


def test_the_daily_report_goes_out_once_after_the_home_report_time(make_home, make_watcher, clock: ManualClock):
    home = make_home()
    make_watcher(home, relation_label="お父さん", notify_daily=True)
    history(home.id, DAY - timedelta(days=1))
    put_day(home.id, DAY - timedelta(days=1), active_day())
    put_day(home.id, DAY, active_day(1.1))

    assert send_due_daily_reports(BEFORE) == 0
    assert send_due_daily_reports(AFTER) == 1
    assert send_due_daily_reports(AFTER) == 0  # the scheduler ran twice
    assert send_due_daily_reports(AFTER + timedelta(hours=5)) == 0  # or restarted later that day

    [row] = outbox()
    assert row.channel is Channel.LINE and row.idempotency_key.startswith(f"daily:{home.id}:2026-06-02:")
    messages = row.payload["messages"]
    validate_messages(messages)  # what the real LINE API would accept
    request = PushMessageRequest.from_dict({"to": row.recipient, "messages": messages})  # and line-bot-sdk parses
    assert [type(m).__name__ for m in request.messages] == ["FlexMessage", "ImageMessage"]
    text = flex_texts(row.payload)
    kwh = float(np.sum(active_day(1.1)))
    assert f"{kwh:.1f} kWh" in text
    assert "前日比 110%" in text
    assert "お父さん" in text
    image = messages[1]
    assert image["type"] == "image"
    assert (image["originalContentUrl"], image["previewImageUrl"]) == links.graph_urls(home.id, DAY)
    token = image["originalContentUrl"].rsplit("/", 1)[1].removesuffix(".png")
    assert links.verify(token, "graph", links.GRAPH_TTL) == {"h": home.id, "d": "2026-06-02"}
    assert image["previewImageUrl"].endswith("?size=preview")


def test_the_report_waits_for_late_readings_then_says_what_is_missing(make_home, make_watcher, clock: ManualClock):
    home = make_home()
    make_watcher(home, notify_daily=True)
    history(home.id, DAY - timedelta(days=1))
    put_day(home.id, DAY - timedelta(days=1), active_day())
    gappy = active_day()
    gappy[30:34] = np.nan  # 15:00-17:00 never arrived
    put_day(home.id, DAY, gappy)

    assert send_due_daily_reports(AFTER) == 0  # readings may still be on their way
    assert send_due_daily_reports(AFTER + timedelta(hours=3)) == 1
    text = flex_texts(outbox()[0].payload)
    assert "2時間分のデータが届いていません" in text
    assert "前日とは比べられません" in text  # a gap is not zero use: no ratio
    assert f"{np.nansum(gappy):.1f} kWh" in text


def test_a_day_without_any_readings_says_so_rather_than_zero(make_home, make_watcher, clock: ManualClock):
    home = make_home()
    make_watcher(home, notify_daily=True)
    history(home.id, DAY - timedelta(days=1))
    assert send_due_daily_reports(AFTER + timedelta(hours=3)) == 1
    text = flex_texts(outbox()[0].payload)
    assert "0.0 kWh" not in text
    assert "この日のデータが届いていません" in text


def test_the_reading_of_the_day_follows_what_happened(make_home, make_watcher, clock: ManualClock):
    usual = make_home()
    late = make_home()
    for home, last_day in ((usual, active_day()), (late, late_night_day())):
        make_watcher(home, notify_daily=True)
        history(home.id, DAY - timedelta(days=1))
        put_day(home.id, DAY - timedelta(days=1), active_day())
        put_day(home.id, DAY, last_day)
    with session_scope() as s:
        s.add(Schedule(home_id=late.id, wake_time=time(7, 0), sleep_time=time(22, 0)))
    assert send_due_daily_reports(AFTER) == 2
    by_home = {row.home_id: flex_texts(row.payload) for row in outbox()}
    assert "いつも通りの一日でした" in by_home[usual.id]
    assert "夜遅くまで電気が使われていました" in by_home[late.id]


def test_each_watcher_gets_the_channels_they_chose_in_their_language(make_home, make_watcher, clock: ManualClock):
    home = make_home()
    line_only = make_watcher(home, notify_daily=True)
    both = make_watcher(home, email="kenji@example.com", language="en", channels=["line", "email"], notify_daily=True)
    make_watcher(home, email="yumi@example.com", channels=["email"], notify_daily=True)
    make_watcher(home, notify_daily=False)
    gone = make_watcher(home, notify_daily=True)
    with session_scope() as s:
        s.get(Watcher, gone.id).deleted_at = datetime(2026, 5, 1, tzinfo=UTC)
    history(home.id, DAY - timedelta(days=1))
    put_day(home.id, DAY - timedelta(days=1), active_day())
    put_day(home.id, DAY, active_day())

    assert send_due_daily_reports(AFTER) == 4
    assert send_due_daily_reports(AFTER) == 0
    sent = {(row.recipient, row.channel) for row in outbox()}
    assert sent == {
        (line_only.line_user_id, Channel.LINE),
        (both.line_user_id, Channel.LINE),
        ("kenji@example.com", Channel.EMAIL),
        ("yumi@example.com", Channel.EMAIL),
    }
    mail = next(row.payload for row in outbox() if row.recipient == "kenji@example.com")
    assert mail["subject"].startswith("[mimamori]")
    assert "A day like any other." in mail["text"]
    assert "/p/usage/" in mail["text"]


def test_email_html_escapes_the_names_it_shows(make_home, make_watcher, clock: ManualClock):
    home = make_home(resident_name="<script>alert(1)</script>")
    make_watcher(home, email="a@example.com", channels=["email"], notify_daily=True)
    put_day(home.id, DAY - timedelta(days=1), active_day())
    put_day(home.id, DAY, active_day())
    assert send_due_daily_reports(AFTER) == 1
    html = outbox()[0].payload["html"]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_no_report_for_a_home_whose_resident_withdrew_consent(make_home, make_watcher, clock: ManualClock):
    home = make_home(consent=False)
    make_watcher(home, notify_daily=True)
    put_day(home.id, DAY - timedelta(days=1), active_day())
    put_day(home.id, DAY, active_day())
    assert send_due_daily_reports(AFTER) == 0
