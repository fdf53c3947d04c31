"""Time as integer half-hour slots, so every detector works on plain integer arrays.

A slot is ``epoch_seconds // 1800``: slot ``s`` covers [s*30 min, (s+1)*30 min) UTC.
Homes live in Japan (UTC+9, no summer time), so the local half-hour of the day and the
local day are fixed offsets of the slot number; day types (weekday vs weekend/holiday)
come from jpholiday once per day number and are cached.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

import jpholiday
import numpy as np

SLOT_SECONDS = 1800
SLOTS_PER_DAY = 48
LOCAL_OFFSET_SLOTS = 18  # +09:00
JST = timezone(timedelta(hours=9))
_EPOCH_DATE = date(1970, 1, 1)

WEEKDAY, RESTDAY = 0, 1  # day types: index into baseline profiles


def slot_of(moment: datetime) -> int:
    """The slot that contains an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return int(moment.timestamp()) // SLOT_SECONDS


def slot_start(slot: int) -> datetime:
    return datetime.fromtimestamp(int(slot) * SLOT_SECONDS, UTC)


def local_halfhour(slots: np.ndarray | int) -> np.ndarray | int:
    """Local half-hour of the day, 0..47 (0 = 00:00-00:30 JST)."""
    return (slots + LOCAL_OFFSET_SLOTS) % SLOTS_PER_DAY


def local_day(slots: np.ndarray | int) -> np.ndarray | int:
    """Local day number (days since 1970-01-01 in JST)."""
    return (slots + LOCAL_OFFSET_SLOTS) // SLOTS_PER_DAY


def day_first_slot(day: int) -> int:
    return day * SLOTS_PER_DAY - LOCAL_OFFSET_SLOTS


@lru_cache(maxsize=4096)
def _day_type(day: int) -> int:
    d = _EPOCH_DATE + timedelta(days=int(day))
    return RESTDAY if d.weekday() >= 5 or jpholiday.is_holiday(d) else WEEKDAY


def day_types(days: np.ndarray) -> np.ndarray:
    """Day type (WEEKDAY/RESTDAY) of each local day number, any shape."""
    days = np.asarray(days)
    uniq, inverse = np.unique(days, return_inverse=True)
    types = np.fromiter((_day_type(int(d)) for d in uniq), dtype=np.int8, count=len(uniq))
    return types[inverse].reshape(days.shape)


def local_clock_text(halfhour: int | float) -> str:
    """'7:30' for half-hour 15."""
    minutes = round(float(halfhour) * 30) % (24 * 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def iso_local(slot_or_moment: int | datetime) -> str:
    moment = slot_start(slot_or_moment) if isinstance(slot_or_moment, int | np.integer) else slot_or_moment
    return moment.astimezone(JST).isoformat()
