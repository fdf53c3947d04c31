"""The wake and sleep times a family sets (local wall-clock times of the home)."""

from __future__ import annotations

from datetime import time

from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import ValidationError
from core.models import Home, Schedule


def set_times(
    session: Session, home: Home, *, wake: time | None = None, sleep: time | None = None, by: int | None = None
) -> Schedule:
    """Store wake and/or sleep; they may not be the same minute (nothing to watch between)."""
    schedule = session.get(Schedule, home.id)
    if schedule is None:
        schedule = Schedule(home_id=home.id)
        session.add(schedule)
    new_wake = wake if wake is not None else schedule.wake_time
    new_sleep = sleep if sleep is not None else schedule.sleep_time
    if new_wake is not None and new_wake == new_sleep:
        raise ValidationError("time.same")
    schedule.wake_time, schedule.sleep_time = new_wake, new_sleep
    schedule.updated_at = clock.now()
    schedule.updated_by = by
    session.flush()
    audit.record(session, f"watcher:{by or '-'}", "schedule_set", home_id=home.id)
    return schedule


def plain_time(value: time | None, lang: str = "ja") -> str:
    """07:30 → 午前7時30分 / 7:30 am: how people say it."""
    if value is None:
        return "—" if lang == "en" else "未設定"
    if lang == "en":
        return value.strftime("%-I:%M %p").lower()
    half = "午前" if value.hour < 12 else "午後"
    hour = value.hour % 12
    minutes = f"{value.minute}分" if value.minute else ""
    return f"{half}{hour}時{minutes}"
