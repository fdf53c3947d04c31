"""What the operator needs to know, computed from the database in one place.

``/metrics`` (bot/metrics.py) and ``mimamori status`` read the same :class:`OpsSnapshot`,
so the numbers on a dashboard and in a terminal never disagree. Everything is a count,
an age or an id: no names, phone numbers or addresses.

The numbers are computed from PostgreSQL (the system of record) at each scrape, so any
number of web processes report the same values; each query is an aggregate over an
indexed or small table, so a scrape stays cheap at 100,000 homes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.enums import HomeStatus, OutboxState
from core.jobs import READINGS_INGESTED_JOB
from core.models import Home, Incident, JobState, OutboxMessage
from core.push_budget import push_month, warning_due
from core.settings import Settings, get_settings

LIST_LIMIT = 20  # rows shown per list in `mimamori status`


@dataclass
class OpsSnapshot:
    at: datetime
    homes_by_status: dict[str, int] = field(default_factory=dict)
    homes_with_gap: int = 0
    gap_homes: list[dict[str, Any]] = field(default_factory=list)
    homes_never_read: int = 0
    lag_max_seconds: float | None = None
    lag_median_seconds: float | None = None
    readings_ingested_total: int = 0
    open_incidents: dict[tuple[str, str], int] = field(default_factory=dict)
    oldest_open_incidents: list[dict[str, Any]] = field(default_factory=list)
    outbox_pending: dict[str, int] = field(default_factory=dict)
    outbox_due: int = 0
    outbox_oldest_due_seconds: float | None = None
    outbox_stuck: int = 0
    stuck_messages: list[dict[str, Any]] = field(default_factory=list)
    outbox_failed: dict[str, int] = field(default_factory=dict)
    failed_messages: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    weather_gaps: list[dict[str, Any]] = field(default_factory=list)  # offices without a fresh forecast today
    line: dict[str, Any] = field(default_factory=dict)  # this month's LINE pushes and bill (core.push_budget)

    @property
    def open_incidents_by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (kind, _state), n in self.open_incidents.items():
            out[kind] = out.get(kind, 0) + n
        return out


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


def _message_row(m: OutboxMessage, now: datetime) -> dict[str, Any]:
    """A message as the operator sees it: ids and state, never the recipient or the text."""
    return {
        "id": m.id,
        "channel": m.channel.value,
        "home_id": m.home_id,
        "incident_id": m.incident_id,
        "attempts": m.attempts,
        "age_minutes": round((now - m.created_at).total_seconds() / 60, 1),
        "last_error": (m.last_error or "")[:120] or None,
    }


def snapshot(session: Session, now: datetime, *, gap_after_minutes: int = 180, stuck_minutes: int = 15,
             lists: bool = True, settings: Settings | None = None) -> OpsSnapshot:
    """Collect every operations number at ``now``; ``lists`` adds the per-row details."""
    snap = OpsSnapshot(at=now)
    snap.line = line_numbers(session, now, settings or get_settings())
    watched = Home.status != HomeStatus.ENDED

    for status, n in session.execute(select(Home.status, func.count()).group_by(Home.status)):
        snap.homes_by_status[status.value] = n

    gap = watched & or_(
        Home.data_gap_since.is_not(None), Home.last_reading_at < now - timedelta(minutes=gap_after_minutes)
    )
    snap.homes_with_gap = session.scalar(select(func.count()).select_from(Home).where(gap)) or 0
    snap.homes_never_read = session.scalar(
        select(func.count()).select_from(Home).where(watched, Home.last_reading_at.is_(None))
    ) or 0
    read = watched & Home.last_reading_at.is_not(None)
    n_read = session.scalar(select(func.count()).select_from(Home).where(read)) or 0
    if n_read:
        oldest = session.scalar(select(func.min(Home.last_reading_at)).where(read))
        # The middle one (odd count) or the mean of the middle two (even count).
        middle = list(session.scalars(
            select(Home.last_reading_at).where(read).order_by(Home.last_reading_at)
            .offset((n_read - 1) // 2).limit(1 if n_read % 2 else 2)
        ))
        snap.lag_max_seconds = _age(now, oldest)
        snap.lag_median_seconds = sum(_age(now, m) or 0.0 for m in middle) / len(middle)

    snap.readings_ingested_total = session.scalar(
        select(JobState.total_count).where(JobState.name == READINGS_INGESTED_JOB)
    ) or 0

    open_ = Incident.closed_at.is_(None)
    for kind, state, n in session.execute(
        select(Incident.kind, Incident.state, func.count()).where(open_).group_by(Incident.kind, Incident.state)
    ):
        snap.open_incidents[(kind.value, state.value)] = n

    pending = OutboxMessage.state == OutboxState.PENDING
    for channel, n in session.execute(
        select(OutboxMessage.channel, func.count()).where(pending).group_by(OutboxMessage.channel)
    ):
        snap.outbox_pending[channel.value] = n
    due = pending & (OutboxMessage.next_attempt_at <= now)
    snap.outbox_due, oldest_due = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(due)
    ).one()
    snap.outbox_oldest_due_seconds = _age(now, oldest_due)
    # Stuck: pending for a while and either due (nobody picks it up) or already retried.
    stuck = pending & (OutboxMessage.created_at <= now - timedelta(minutes=stuck_minutes)) & or_(
        OutboxMessage.next_attempt_at <= now, OutboxMessage.attempts > 0
    )
    snap.outbox_stuck = session.scalar(select(func.count()).select_from(OutboxMessage).where(stuck)) or 0
    failed = OutboxMessage.state == OutboxState.FAILED
    for channel, n in session.execute(
        select(OutboxMessage.channel, func.count()).where(failed).group_by(OutboxMessage.channel)
    ):
        snap.outbox_failed[channel.value] = n

    for job in session.scalars(select(JobState).order_by(JobState.name)):
        snap.jobs.append({
            "name": job.name, "last_ok_at": job.last_ok_at, "last_started_at": job.last_started_at,
            "last_count": job.last_count, "last_seconds": job.last_seconds, "runs": job.runs,
            "failures": job.failures, "total_count": job.total_count, "last_error": job.last_error,
        })

    if lists:
        _add_lists(session, snap, now, gap, stuck, failed)
        from core.weather.store import weather_gaps

        snap.weather_gaps = weather_gaps(session, now)
    return snap


def line_numbers(session: Session, now: datetime, settings: Settings) -> dict[str, Any]:
    """This month's LINE pushes, their pace per home, and the projected bill on the configured plan."""
    month = push_month(session, now, settings)
    per_home = month.per_home_month
    return {
        "month": month.month.isoformat()[:7],
        "plan": month.plan.name,
        "quota": month.plan.included,
        "pushes": month.pushes,
        "projected_pushes": round(month.projected),
        "homes": month.homes,
        "pushes_per_home_month": None if per_home is None else round(per_home, 2),
        "projected_bill_yen": round(month.projected_bill_yen),
        "quota_warning": warning_due(month, settings.line_quota_warn_ratio),
    }


def _add_lists(session: Session, snap: OpsSnapshot, now: datetime, gap: Any, stuck: Any, failed: Any) -> None:
    for home_id, meter_id, since, last in session.execute(
        select(Home.id, Home.meter_id, Home.data_gap_since, Home.last_reading_at)
        .where(gap).order_by(Home.last_reading_at.asc()).limit(LIST_LIMIT)
    ):
        snap.gap_homes.append({"home_id": home_id, "meter_id": meter_id, "gap_since": since, "last_reading_at": last})
    for m in session.scalars(select(OutboxMessage).where(stuck).order_by(OutboxMessage.created_at).limit(LIST_LIMIT)):
        snap.stuck_messages.append(_message_row(m, now))
    for m in session.scalars(select(OutboxMessage).where(failed).order_by(OutboxMessage.id.desc()).limit(LIST_LIMIT)):
        snap.failed_messages.append(_message_row(m, now))
    for i in session.scalars(
        select(Incident).where(Incident.closed_at.is_(None)).order_by(Incident.detected_at).limit(LIST_LIMIT)
    ):
        snap.oldest_open_incidents.append({
            "incident_id": i.id, "home_id": i.home_id, "kind": i.kind.value, "state": i.state.value,
            "step_index": i.step_index, "age_minutes": round((now - i.detected_at).total_seconds() / 60, 1),
        })
