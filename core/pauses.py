"""Pauses: no alert while the resident is away (trip), up late, or sleeping in.

Dates and times are the home's local ones; rows are stored in UTC. Every function returns
the Pause so the caller can say plainly when watching resumes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.enums import PauseReason
from core.errors import ValidationError
from core.models import Home, Pause

MAX_TRIP_DAYS = 60
MAX_AHEAD_DAYS = 365
LATE_NIGHT_UNTIL = time(5, 0)
SLEEP_IN_FROM, SLEEP_IN_UNTIL = time(4, 0), time(12, 0)


def _tz(home: Home) -> ZoneInfo:
    return home.tz


def local_today(home: Home) -> date:
    return clock.now().astimezone(_tz(home)).date()


def _at(home: Home, day: date, when: time) -> datetime:
    return datetime.combine(day, when, tzinfo=_tz(home))


def _add(session: Session, home: Home, starts: datetime, ends: datetime, reason: PauseReason, by: int | None) -> Pause:
    pause = Pause(home_id=home.id, starts_at=starts, ends_at=ends, reason=reason, created_by=by)
    session.add(pause)
    session.flush()
    audit.record(session, f"watcher:{by or '-'}", "pause_added", home_id=home.id, reason=reason.value)
    return pause


def check_trip(home: Home, first: date, last: date) -> None:
    """A trip is today or later, ends on or after it starts, within limits (else ValidationError)."""
    today = local_today(home)
    if first < today:
        raise ValidationError("pause.in_past")
    if first > today + timedelta(days=MAX_AHEAD_DAYS):
        raise ValidationError("pause.too_far", days=MAX_AHEAD_DAYS)
    if last < first:
        raise ValidationError("pause.end_before_start")
    if (last - first).days + 1 > MAX_TRIP_DAYS:
        raise ValidationError("pause.too_long", days=MAX_TRIP_DAYS)


def trip(session: Session, home: Home, first: date, last: date, by: int | None = None) -> Pause:
    """Away from the first day to the last day (both included); watching resumes the day after."""
    check_trip(home, first, last)
    starts = max(_at(home, first, time(0, 0)), clock.now())
    return _add(session, home, starts, _at(home, last + timedelta(days=1), time(0, 0)), PauseReason.TRIP, by)


def late_night(session: Session, home: Home, by: int | None = None) -> Pause:
    """今夜は夜更かし: no night alert from now until 5:00 tomorrow morning."""
    now_local = clock.now().astimezone(_tz(home))
    day = now_local.date() if now_local.time() < LATE_NIGHT_UNTIL else now_local.date() + timedelta(days=1)
    return _add(session, home, clock.now(), _at(home, day, LATE_NIGHT_UNTIL), PauseReason.LATE_NIGHT, by)


def sleep_in(session: Session, home: Home, by: int | None = None) -> Pause:
    """明日は朝寝坊: no wake-up alert on the next morning, 4:00 to 12:00."""
    now_local = clock.now().astimezone(_tz(home))
    day = now_local.date() if now_local.time() < SLEEP_IN_FROM else now_local.date() + timedelta(days=1)
    return _add(session, home, _at(home, day, SLEEP_IN_FROM), _at(home, day, SLEEP_IN_UNTIL), PauseReason.SLEEP_IN, by)


def current_and_future(session: Session, home_id: int) -> list[Pause]:
    return list(
        session.scalars(
            select(Pause)
            .where(Pause.home_id == home_id, Pause.cancelled_at.is_(None), Pause.ends_at > clock.now())
            .order_by(Pause.starts_at)
        )
    )


def active(session: Session, home_id: int, at: datetime | None = None) -> Pause | None:
    """The pause in force at ``at`` (now by default), if any: detection asks this."""
    at = at or clock.now()
    return session.scalar(
        select(Pause)
        .where(Pause.home_id == home_id, Pause.cancelled_at.is_(None), Pause.starts_at <= at, Pause.ends_at > at)
        .order_by(Pause.ends_at.desc())
        .limit(1)
    )


def resume_now(session: Session, home: Home, by: int | None = None) -> int:
    """Cancel every current and future pause; returns how many were cancelled."""
    pauses = current_and_future(session, home.id)
    for pause in pauses:
        pause.cancelled_at = clock.now()
    if pauses:
        audit.record(session, f"watcher:{by or '-'}", "pause_cancelled", home_id=home.id, count=len(pauses))
    return len(pauses)


def local(home: Home, when: datetime) -> datetime:
    return when.astimezone(_tz(home))
