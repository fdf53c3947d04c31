"""Scheduler jobs for the reports. Safe to run any number of times: keys make them once-only.

``send_due_daily_reports`` runs every few minutes: a home is due once its local report
time has passed today. If yesterday's readings are not all in yet, it waits up to
``LATE_DATA_WAIT`` for them, then sends what there is and says what is missing.
``send_due_weekly_digests`` sends the weekly digest (the default report) on Mondays the same
way, and ``send_monthly_reports`` last month's report on the first days of a month (LINE
watchers who take the digest get it inside the month's first digest instead).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import session_scope
from core.enums import HomeStatus
from core.models import Home, MeterReading, Resident
from core.reports import daily, monthly, weekly
from core.reports.usage import SLOTS, home_tz, local_midnight

log = logging.getLogger(__name__)

LATE_DATA_WAIT = timedelta(hours=3)
MONTHLY_CATCH_UP_DAYS = 3  # a scheduler down on the 1st still sends by the 3rd
WEEKLY_CATCH_UP_DAYS = 2  # a scheduler down on Monday still sends the digest by Wednesday
REPORTED_STATUSES = (HomeStatus.ACTIVE, HomeStatus.PAUSED)


def _watched_home_ids(session: Session) -> list[int]:
    """Homes being watched with the resident's consent standing."""
    return list(
        session.scalars(
            select(Home.id)
            .join(Resident, Resident.home_id == Home.id)
            .where(
                Home.status.in_(REPORTED_STATUSES),
                Home.ended_at.is_(None),
                Resident.consent_given_at.is_not(None),
                Resident.consent_withdrawn_at.is_(None),
            )
            .order_by(Home.id)
        )
    )


def _readings_in(session: Session, home: Home, start: datetime, end: datetime) -> int:
    return session.scalar(
        select(func.count()).where(
            MeterReading.home_id == home.id, MeterReading.interval_start >= start, MeterReading.interval_start < end
        )
    ) or 0


def _each_home(job: str, now: datetime, one: Callable[[Session, Home, datetime], int]) -> int:
    with session_scope() as s:
        ids = _watched_home_ids(s)
    sent = 0
    for home_id in ids:
        try:
            with session_scope() as s:
                home = s.get(Home, home_id)
                if home is not None:
                    sent += one(s, home, now)
        except Exception:  # one home's trouble must not stop the others' reports
            log.exception("%s failed for home %s", job, home_id)
    return sent


def _report_day(session: Session, home: Home, now: datetime) -> date | None:
    """The home's local date once its report time has passed and yesterday's readings are in
    (or waited for long enough); None before that."""
    tz = home_tz(home)
    local = now.astimezone(tz)
    due_at = datetime.combine(local.date(), home.daily_report_time, tzinfo=tz)
    if local < due_at:
        return None
    if local < due_at + LATE_DATA_WAIT:
        start = local_midnight(local.date() - timedelta(days=1), tz)
        if _readings_in(session, home, start, local_midnight(local.date(), tz)) < SLOTS:
            return None  # readings are about an hour late; give them time before saying they are missing
    return local.date()


def _daily_for(session: Session, home: Home, now: datetime) -> int:
    today = _report_day(session, home, now)
    return 0 if today is None else daily.send_daily(session, home, today - timedelta(days=1))


def _days_since_digest_day(local_day: date) -> int:
    return (local_day.weekday() - weekly.DIGEST_WEEKDAY) % 7


def _weekly_for(session: Session, home: Home, now: datetime) -> int:
    local_day = now.astimezone(home_tz(home)).date()
    since_digest_day = _days_since_digest_day(local_day)
    if since_digest_day > WEEKLY_CATCH_UP_DAYS:
        return 0
    if since_digest_day == 0 and _report_day(session, home, now) is None:
        return 0  # Monday: after the report time, once Sunday's readings are in (or waited for)
    if since_digest_day and now.astimezone(home_tz(home)).time() < home.daily_report_time:
        return 0  # a catch-up day: the week's data is in; still never before the report time (no push at 1 a.m.)
    digest_day = local_day - timedelta(days=since_digest_day)
    return weekly.send_weekly(session, home, digest_day - timedelta(days=7), digest_day)


def _monthly_for(session: Session, home: Home, now: datetime) -> int:
    tz = home_tz(home)
    local = now.astimezone(tz)
    if local.day > MONTHLY_CATCH_UP_DAYS:
        return 0
    if local.day == 1 and local.time() < home.daily_report_time:
        return 0
    last_month = local.date().replace(day=1) - timedelta(days=1)
    return monthly.send_monthly(session, home, last_month)


def send_due_daily_reports(now: datetime) -> int:
    """Enqueue every daily report now due; returns how many outbox rows were added."""
    return _each_home("daily report", now, _daily_for)


def send_due_weekly_digests(now: datetime) -> int:
    """Enqueue every weekly digest now due (the digest day's report time has passed); returns how many."""
    with session_scope() as s:  # most of the week no home's digest is due: one query says so
        zones = s.scalars(select(Home.timezone).where(Home.status.in_(REPORTED_STATUSES)).distinct()).all()
    if all(_days_since_digest_day(now.astimezone(ZoneInfo(z or "Asia/Tokyo")).date()) > WEEKLY_CATCH_UP_DAYS
           for z in zones):
        return 0
    return _each_home("weekly digest", now, _weekly_for)


def send_monthly_reports(now: datetime) -> int:
    """Enqueue last month's report for homes whose 1st-of-month report time has passed."""
    return _each_home("monthly report", now, _monthly_for)
