"""Readings for report and graph tests: whole days written as local half-hours."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from core.db import session_scope
from core.models import MeterReading
from core.reports.usage import SLOTS, local_midnight
from core.settings import get_settings

BASE = 0.05  # the fridge and standby, every half-hour


def active_day(scale: float = 1.0) -> np.ndarray:
    """Someone at home: up at 7, meals, TV in the evening, bed at 22:30."""
    slots = np.full(SLOTS, BASE)
    slots[14:18] = 0.35  # 07:00-09:00
    slots[23:26] = 0.25  # lunch
    slots[36:45] = 0.45  # 18:00-22:30
    return slots * scale


def quiet_day() -> np.ndarray:
    """Nobody doing anything: only the fridge."""
    return np.full(SLOTS, BASE)


def late_night_day() -> np.ndarray:
    slots = active_day()
    slots[45:48] = 0.45  # still on after 22:30 until midnight
    return slots


def put_day(home_id: int, day: date, slots: np.ndarray, tz: str = "Asia/Tokyo") -> None:
    """Store a day's half-hours; NaN slots are left absent (a gap, not zero)."""
    from zoneinfo import ZoneInfo

    start = local_midnight(day, ZoneInfo(tz))
    with session_scope() as s:
        for i, kwh in enumerate(slots):
            if not np.isnan(kwh):
                s.add(MeterReading(home_id=home_id, interval_start=start + timedelta(minutes=30 * i), kwh=float(kwh)))


def put_days(home_id: int, first: date, days: int, slots: np.ndarray) -> None:
    for i in range(days):
        put_day(home_id, first + timedelta(days=i), slots)


def history(home_id: int, day: date, weeks: int = 8) -> None:
    """Eight usual weeks before ``day`` (each day a little different) so the home has a usual range."""
    first = day - timedelta(weeks=weeks)
    for i in range(weeks * 7):
        put_day(home_id, first + timedelta(days=i), active_day(0.8 + 0.4 * ((i * 7) % 11) / 10))


def base_url() -> str:
    return get_settings().base_url
