"""Reports and graphs on a real home's readings (../shared/data/lcl-dev), not only on made-up days."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.dev.line_emulator import validate_messages
from core.db import session_scope
from core.models import Home, MeterReading, OutboxMessage
from core.reports import graph
from core.reports.jobs import send_due_daily_reports
from core.reports.usage import usual_range
from tests.core.reports.test_graph import count_colour, plot_area

pytestmark = pytest.mark.shared_data

METER = "MAC000002"
DAY = date(2013, 5, 15)  # a Wednesday


def load(path: Path, meter: str, first: date, last: date) -> list[tuple[datetime, float]]:
    rows = []
    lo, hi = first.isoformat(), (last + timedelta(days=1)).isoformat()
    with gzip.open(path, "rt", newline="") as f:
        for meter_id, start, kwh in csv.reader(f):
            if meter_id == meter and lo <= start[:10] < hi:
                rows.append((datetime.fromisoformat(start).astimezone(UTC), float(kwh)))
    return rows


def test_a_real_home_gets_a_graph_with_its_usual_range_and_a_sound_report(
    lcl_readings: Path, make_home, make_watcher, clock
) -> None:
    home = make_home(meter_id=METER)
    make_watcher(home, notify_daily=True)
    rows = load(lcl_readings, METER, DAY - timedelta(weeks=8), DAY)
    assert len(rows) > 50 * 48
    with session_scope() as s:
        s.execute(insert(MeterReading), [{"home_id": home.id, "interval_start": at, "kwh": k} for at, k in rows])

    with session_scope() as s:
        png = graph.render_day(s, home.id, DAY)
        assert usual_range(s, s.get(Home, home.id), DAY) is not None
    area = plot_area(png)
    assert count_colour(area, graph.INK) > 2000
    assert count_colour(area, "#FAE0AA", tolerance=30) > 1000  # its usual range, learned from its own weeks

    assert send_due_daily_reports(datetime(2013, 5, 15, 23, 30, tzinfo=UTC)) == 1  # 08:30 JST on the 16th
    with session_scope() as s:
        row = s.scalar(select(OutboxMessage))
    validate_messages(row.payload["messages"])
    body = " ".join(c["text"] for c in row.payload["messages"][0]["contents"]["body"]["contents"])
    assert "kWh" in body and ("前日比" in body or "比べられません" in body)
