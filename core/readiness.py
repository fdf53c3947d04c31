"""Whether a home has enough history to be watched, and whether its data keeps coming.

A home is watched only after 56 days of history with at least 90% of the half-hours
of those 56 days present: fewer, and "unusual" means nothing yet. Until then it reports
how many more days it needs, assuming readings arrive fully from now on.

``refresh_home_statuses`` keeps the state right and nothing more (detection and
escalation tell the watchers): AWAITING_HISTORY → ACTIVE when ready and the resident
has consented, → AWAITING_CONSENT when ready without consent (and AWAITING_CONSENT →
ACTIVE once consent is recorded); a home with no reading for
``settings.data_gap_after_minutes`` gets ``data_gap_since`` (when its data stopped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.enums import UNMETERED, HomeStatus
from core.models import Home, MeterReading, Resident
from core.settings import get_settings

HISTORY_DAYS = 56
MIN_COVERAGE = 0.90
SLOTS_PER_DAY = 48
HALF_HOUR = timedelta(minutes=30)
ACTOR = "readiness"


@dataclass(frozen=True)
class Readiness:
    ready: bool
    days_of_history: int  # whole days since the first reading
    coverage: float  # share of the last 56 days' half-hours present (0..1)
    days_remaining: int  # 0 when ready


def _floor_half_hour(when: datetime) -> datetime:
    epoch = int(when.timestamp())
    return datetime.fromtimestamp(epoch - epoch % 1800, UTC)


def readiness(session: Session, home: Home, now: datetime) -> Readiness:
    """How far ``home`` is from being watchable at ``now``."""
    end = _floor_half_hour(now)  # half-hours starting before this
    window_start = end - timedelta(days=HISTORY_DAYS)
    first = session.scalar(select(func.min(MeterReading.interval_start)).where(MeterReading.home_id == home.id))
    if first is None:
        return Readiness(False, 0, 0.0, HISTORY_DAYS)
    days_of_history = max(0, (end - first) // timedelta(days=1))
    starts = session.scalars(
        select(MeterReading.interval_start).where(
            MeterReading.home_id == home.id,
            MeterReading.interval_start >= window_start,
            MeterReading.interval_start < end,
        )
    ).all()
    # Readings per day of the window, oldest first; the window slides forward one day at a time.
    per_day = [0] * HISTORY_DAYS
    for start in starts:
        per_day[min(HISTORY_DAYS - 1, (start - window_start) // timedelta(days=1))] += 1
    needed = MIN_COVERAGE * HISTORY_DAYS * SLOTS_PER_DAY
    coverage = sum(per_day) / (HISTORY_DAYS * SLOTS_PER_DAY)
    days_remaining = HISTORY_DAYS
    for extra in range(HISTORY_DAYS + 1):
        present = sum(per_day[extra:]) + extra * SLOTS_PER_DAY
        if days_of_history + extra >= HISTORY_DAYS and present >= needed:
            days_remaining = extra
            break
    return Readiness(days_remaining == 0, days_of_history, round(coverage, 4), days_remaining)


def has_consent(resident: Resident | None) -> bool:
    return resident is not None and resident.consent_given_at is not None and resident.consent_withdrawn_at is None


def refresh_home_statuses(session: Session, now: datetime) -> dict[str, int]:
    """Move homes along as their history and consent allow, and flag data gaps; counts by change."""
    counts = {"activated": 0, "awaiting_consent": 0, "data_gap": 0}
    waiting = session.scalars(
        select(Home).where(Home.status.in_((HomeStatus.AWAITING_HISTORY, HomeStatus.AWAITING_CONSENT)))
    ).all()
    for home in waiting:
        if home.status == HomeStatus.AWAITING_HISTORY:
            state = readiness(session, home, now)
            if not state.ready:
                continue
            home.ready_at = now
        target = HomeStatus.ACTIVE if has_consent(home.resident) else HomeStatus.AWAITING_CONSENT
        if target == home.status:
            continue
        audit.record(session, ACTOR, "home.status_changed", home_id=home.id, old=str(home.status), new=str(target))
        home.status = target
        counts["activated" if target == HomeStatus.ACTIVE else "awaiting_consent"] += 1
    counts["data_gap"] = flag_data_gaps(session, now)
    return counts


def flag_data_gaps(session: Session, now: datetime) -> int:
    """Set ``data_gap_since`` on homes whose readings stopped; returns how many were flagged."""
    limit = now - timedelta(minutes=get_settings().data_gap_after_minutes)
    stale = session.scalars(
        select(Home).where(
            Home.status.not_in(UNMETERED),
            Home.data_gap_since.is_(None),
            (Home.last_reading_at < limit - HALF_HOUR)
            | ((Home.last_reading_at.is_(None)) & (Home.created_at < limit)),
        )
    ).all()
    for home in stale:
        # The gap starts where the data stopped: the end of the newest half-hour held.
        home.data_gap_since = home.last_reading_at + HALF_HOUR if home.last_reading_at else home.created_at
        audit.record(session, ACTOR, "meters.data_gap", home_id=home.id, since=home.data_gap_since.isoformat())
    return len(stale)
