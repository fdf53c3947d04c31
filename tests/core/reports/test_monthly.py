from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import select

from bot.dev.line_emulator import validate_messages
from core import links
from core.clock import ManualClock
from core.db import session_scope
from core.models import OutboxMessage
from core.reports.jobs import send_monthly_reports
from core.reports.usage import SLOTS
from tests.core.reports.helpers import put_day, put_days

ON_THE_1ST = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)  # 2026-06-01 08:30 JST


def flat(kwh_per_day: float) -> np.ndarray:
    return np.full(SLOTS, kwh_per_day / SLOTS)


def texts() -> list[str]:
    with session_scope() as s:
        rows = list(s.scalars(select(OutboxMessage)))
    out = []
    for row in rows:
        validate_messages(row.payload["messages"])
        bubble = row.payload["messages"][0]["contents"]
        out.append(" ".join(c["text"] for c in bubble["body"]["contents"]))
    return out


def test_last_month_is_compared_per_day_with_the_month_before(make_home, make_watcher, clock: ManualClock):
    home = make_home()
    mother_watcher = make_watcher(home, relation_label="母", notify_weekly=False)
    put_days(home.id, date(2026, 4, 1), 30, flat(8.0))  # April: 240 kWh over 30 days
    put_days(home.id, date(2026, 5, 1), 31, flat(10.0))  # May: 310 kWh over 31 days

    assert send_monthly_reports(ON_THE_1ST - timedelta(hours=1)) == 0  # 07:30: not yet
    assert send_monthly_reports(ON_THE_1ST) == 1
    assert send_monthly_reports(ON_THE_1ST + timedelta(minutes=15)) == 0
    [text] = texts()
    assert "2026年5月" in text
    assert "合計 310 kWh（1日あたり 10.0 kWh）" in text
    # Per day: 10.0 / 8.0 = 125%, not the 129% raw totals (310/240) would claim.
    assert "前月比 125%" in text
    with session_scope() as s:
        row = s.scalar(select(OutboxMessage))
    token = row.payload["messages"][1]["originalContentUrl"].rsplit("/", 1)[1].removesuffix(".png")
    assert links.verify(token, "graph", links.GRAPH_TTL) == {"h": home.id, "d": "2026-05-01", "v": "month"}
    assert row.idempotency_key == f"monthly:{home.id}:2026-05:{mother_watcher.id}:line"


def test_missing_days_are_said_and_not_counted_as_zero(make_home, make_watcher, clock: ManualClock):
    home = make_home()
    make_watcher(home, notify_weekly=False)
    put_days(home.id, date(2026, 4, 1), 30, flat(8.0))
    put_days(home.id, date(2026, 5, 1), 28, flat(10.0))  # 29-31 May never arrived
    assert send_monthly_reports(ON_THE_1ST) == 1
    [text] = texts()
    assert "1日あたり 10.0 kWh" in text and "前月比 125%" in text
    assert "約3日分のデータが届いていません" in text


def test_too_little_data_is_not_compared(make_home, make_watcher, clock: ManualClock):
    home = make_home()
    make_watcher(home, notify_weekly=False)
    put_day(home.id, date(2026, 4, 30), flat(8.0))
    put_days(home.id, date(2026, 5, 1), 31, flat(10.0))
    assert send_monthly_reports(ON_THE_1ST) == 1
    assert "前月とは比べられません" in texts()[0]


def test_monthly_is_not_sent_mid_month_or_to_those_who_opted_out(make_home, make_watcher, clock: ManualClock):
    home = make_home()
    make_watcher(home, notify_monthly=False, notify_weekly=False)
    put_days(home.id, date(2026, 5, 1), 31, flat(10.0))
    assert send_monthly_reports(ON_THE_1ST) == 0
    other = make_home()
    make_watcher(other, notify_weekly=False)
    assert send_monthly_reports(datetime(2026, 6, 15, 0, 0, tzinfo=UTC)) == 0
