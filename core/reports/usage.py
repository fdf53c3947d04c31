"""A home's use of electricity by local day: half-hour arrays, totals, the usual range.

Reports and graphs read the same numbers, so they live here once. A missing reading
is NaN, never zero: a day with gaps says how much is missing, and comparisons that
would need the missing part are not made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Home, MeterReading

SLOTS = 48  # half-hours in a day
BAND_WEEKS = 8
MIN_BAND_DAYS = 3  # fewer days of the same type than this: no usual range yet


def home_tz(home: Home) -> ZoneInfo:
    return home.tz


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a local day starts."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def is_day_off(day: date) -> bool:
    """Weekends and Japanese public holidays look alike in a home; weekdays look alike."""
    return day.weekday() >= 5 or jpholiday.is_holiday(day)


def load_slots(session: Session, home: Home, first: date, days: int) -> np.ndarray:
    """Readings of ``days`` local days from ``first`` as a (days, 48) array; NaN where missing."""
    tz = home_tz(home)
    start, end = local_midnight(first, tz), local_midnight(first + timedelta(days=days), tz)
    grid = np.full((days, SLOTS), np.nan)
    rows = session.execute(
        select(MeterReading.interval_start, MeterReading.kwh).where(
            MeterReading.home_id == home.id,
            MeterReading.interval_start >= start,
            MeterReading.interval_start < end,
        )
    )
    for at, kwh in rows:
        local = at.astimezone(tz)
        row = (local.date() - first).days
        slot = local.hour * 2 + local.minute // 30
        if 0 <= row < days:
            # A DST day can map two readings onto one slot; add them rather than lose one.
            grid[row, slot] = kwh if np.isnan(grid[row, slot]) else grid[row, slot] + kwh
    return grid


@dataclass(frozen=True)
class DayUsage:
    """One local day: its half-hours (NaN = missing) and what can honestly be said of it."""

    day: date
    slots: np.ndarray

    @property
    def present(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.slots)))

    @property
    def missing(self) -> int:
        return SLOTS - self.present

    @property
    def complete(self) -> bool:
        return self.missing == 0

    @property
    def kwh(self) -> float | None:
        """Total of the readings there are; None when there are none at all."""
        return float(np.nansum(self.slots)) if self.present else None


@dataclass(frozen=True)
class UsualRange:
    """The home's usual half-hours for a type of day (weekday / day off), from recent weeks."""

    low: np.ndarray  # 10th percentile per slot
    median: np.ndarray
    high: np.ndarray  # 90th percentile per slot
    days_used: int
    base_load: float  # what the fridge and standby draw: a low percentile of all slots
    daily_low: float
    daily_median: float
    daily_high: float


def usual_range(session: Session, home: Home, day: date, history: np.ndarray | None = None) -> UsualRange | None:
    """The usual range for ``day``: complete days of the same type in the 8 weeks before it.

    ``history`` may pass the (56, 48) array of those weeks already loaded.
    """
    first = day - timedelta(weeks=BAND_WEEKS)
    grid = history if history is not None else load_slots(session, home, first, BAND_WEEKS * 7)
    same_type = [i for i in range(grid.shape[0]) if is_day_off(first + timedelta(days=i)) == is_day_off(day)]
    rows = grid[same_type]
    rows = rows[~np.isnan(rows).any(axis=1)]  # only complete days: a gap must not look like quiet
    if rows.shape[0] < MIN_BAND_DAYS:
        return None
    totals = rows.sum(axis=1)
    return UsualRange(
        low=np.percentile(rows, 10, axis=0),
        median=np.percentile(rows, 50, axis=0),
        high=np.percentile(rows, 90, axis=0),
        days_used=int(rows.shape[0]),
        base_load=float(np.percentile(rows, 5)),
        daily_low=float(np.percentile(totals, 10)),
        daily_median=float(np.percentile(totals, 50)),
        daily_high=float(np.percentile(totals, 90)),
    )


def day_usage(session: Session, home: Home, day: date) -> DayUsage:
    return DayUsage(day, load_slots(session, home, day, 1)[0])


def days_usage(session: Session, home: Home, first: date, days: int) -> list[DayUsage]:
    grid = load_slots(session, home, first, days)
    return [DayUsage(first + timedelta(days=i), grid[i]) for i in range(days)]


@dataclass(frozen=True)
class PeriodUsage:
    """A run of days (a month): the total of what arrived and the use per day of data."""

    first: date
    days: int
    kwh: float
    slots_present: int

    @property
    def slots_expected(self) -> int:
        return self.days * SLOTS

    @property
    def days_of_data(self) -> float:
        return self.slots_present / SLOTS

    @property
    def missing_days(self) -> float:
        return self.days - self.days_of_data

    @property
    def per_day(self) -> float | None:
        """kWh per day of data: fair across months of different lengths and with gaps."""
        return self.kwh / self.days_of_data if self.slots_present else None


def period_usage(session: Session, home: Home, first: date, days: int) -> PeriodUsage:
    grid = load_slots(session, home, first, days)
    present = int(np.count_nonzero(~np.isnan(grid)))
    return PeriodUsage(first, days, float(np.nansum(grid)), present)


def month_bounds(any_day: date) -> tuple[date, int]:
    """(first day, number of days) of the calendar month holding ``any_day``."""
    first = any_day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, (following - first).days


def activity_threshold(usual: UsualRange | None, slots: np.ndarray) -> float:
    """Above this a half-hour counts as someone doing something (not just the fridge)."""
    if usual is not None:
        base = usual.base_load
    else:
        values = slots[~np.isnan(slots)]
        base = float(np.percentile(values, 10)) if values.size else 0.0
    return base * 1.5 + 0.03
