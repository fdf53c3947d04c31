"""What LINE pushes cost: the plan table, this month's count, its projection, and the early warning.

LINE counts every push (and multicast) message a recipient receives; replies to a user's
own message or menu tap are free. One push call with up to five message objects counts
as one message per recipient. The quota is per account and per calendar month (Japan time).

Plans (Japan, tax excluded; LINE's "Messaging API pricing" page, plan table as revised
2023-06): コミュニケーションプラン (``free``) ¥0 with 200 messages; ライトプラン (``light``)
¥5,000 with 5,000; スタンダードプラン (``standard``) ¥15,000 with 30,000, then additional
messages at up to ¥3 each (the unit price falls with volume; we project with ¥3, the
ceiling). Only the Standard plan may send beyond its quota: on the others a push past the
quota is refused (429) and the dispatcher switches that watcher to SMS/email.

The count is the outbox's LINE rows sent this month (the system of record for pushes).
A push to a group is counted once here, while LINE counts one per member of the group.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.db import session_scope
from core.enums import Channel, HomeStatus, OutboxState
from core.logging import log_event
from core.models import AuditLog, Home, OutboxMessage
from core.settings import Settings

log = logging.getLogger(__name__)

WARNING_ACTION = "line_quota_warning"
MIN_DAYS_TO_PROJECT = 2.0  # a projection from the first hours of a month is noise
CHECK_EVERY_SECONDS = 300.0  # the dispatcher looks at most this often per process


@dataclass(frozen=True)
class Plan:
    name: str
    monthly_fee_yen: int
    included: int  # messages a month within the fee
    extra_yen: float | None  # per message beyond ``included``; None: the plan cannot send more

    def bill(self, pushes: float) -> float:
        """What a month of ``pushes`` costs on this plan (pushes it cannot send cost nothing)."""
        over = max(0.0, pushes - self.included)
        return self.monthly_fee_yen + (over * self.extra_yen if self.extra_yen is not None else 0.0)

    def refused(self, pushes: float) -> float:
        """Pushes past the quota that this plan cannot send at all (they go by SMS/email)."""
        return max(0.0, pushes - self.included) if self.extra_yen is None else 0.0


PLANS: dict[str, Plan] = {
    "free": Plan("free", 0, 200, None),
    "light": Plan("light", 5_000, 5_000, None),
    "standard": Plan("standard", 15_000, 30_000, 3.0),
}


def month_start(now: datetime, settings: Settings) -> datetime:
    """The start of LINE's counting month (the calendar month in the service's timezone), as UTC-aware."""
    local = now.astimezone(settings.tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    first = (start.date().replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.replace(year=first.year, month=first.month, day=1)


@dataclass(frozen=True)
class PushMonth:
    """This month's pushes so far and where they are heading."""

    month: date
    plan: Plan
    pushes: int
    homes: int
    elapsed_days: float
    days_in_month: int

    @property
    def projected(self) -> float:
        """Pushes by the month's end at this month's pace so far."""
        if self.elapsed_days <= 0:
            return float(self.pushes)
        return self.pushes * self.days_in_month / self.elapsed_days

    @property
    def per_home_month(self) -> float | None:
        return self.projected / self.homes if self.homes else None

    @property
    def projected_bill_yen(self) -> float:
        return self.plan.bill(self.projected)

    @property
    def quota_used_ratio(self) -> float:
        return self.pushes / self.plan.included

    @property
    def quota_projected_ratio(self) -> float:
        return self.projected / self.plan.included


def push_month(session: Session, now: datetime, settings: Settings) -> PushMonth:
    """Count this month's LINE pushes (two aggregate queries, cheap at any size)."""
    start = month_start(now, settings)
    end = _next_month(start)
    pushes = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == Channel.LINE, OutboxMessage.state == OutboxState.SENT,
            OutboxMessage.sent_at >= start, OutboxMessage.sent_at < end,
        )
    ) or 0
    homes = session.scalar(select(func.count()).select_from(Home).where(Home.status != HomeStatus.ENDED)) or 0
    elapsed = max(0.0, (now - start).total_seconds() / 86400)
    return PushMonth(start.date(), PLANS[settings.line_plan], pushes, homes, elapsed, (end - start).days)


def warning_due(month: PushMonth, warn_ratio: float) -> str | None:
    """Why the operator should hear about the quota now, or None.

    ``used``: the month's pushes already passed ``warn_ratio`` of the quota; ``projected``: at
    this pace the month will pass it (judged once a couple of days have gone by).
    """
    if month.quota_used_ratio >= warn_ratio:
        return "used"
    if month.elapsed_days >= MIN_DAYS_TO_PROJECT and month.quota_projected_ratio >= warn_ratio:
        return "projected"
    return None


def warn_if_nearing_quota(session: Session, now: datetime, settings: Settings) -> str | None:
    """Warn the operator once a month, before the quota runs out (a log line and an audit row).

    Returns the reason when a warning was given now. The audit row makes it once per month
    across every dispatcher process.
    """
    month = push_month(session, now, settings)
    reason = warning_due(month, settings.line_quota_warn_ratio)
    if reason is None:
        return None
    start = month_start(now, settings)
    already = session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == WARNING_ACTION, AuditLog.at >= start,
                                                         AuditLog.at < _next_month(start))
    )
    if already:
        return None
    detail = {"reason": reason, "plan": month.plan.name, "pushes": month.pushes, "quota": month.plan.included,
              "projected": round(month.projected), "projected_bill_yen": round(month.projected_bill_yen)}
    audit.record(session, "dispatcher", WARNING_ACTION, **detail)
    log_event(log, "line.quota_nearing", logging.WARNING, **detail)
    return reason


_last_check = float("-inf")
_pending = False  # LINE pushes went out since the last look


def after_pushes(settings: Settings, pushed: bool = True) -> str | None:
    """Called by the dispatcher on every round (``pushed``: it sent on LINE): :func:`warn_if_nearing_quota`
    in its own transaction, at most every :data:`CHECK_EVERY_SECONDS` in this process, and still once
    after a burst that ended inside that window (so a Monday's digests are judged the same morning,
    not at next week's burst); never raises."""
    global _last_check, _pending
    _pending = _pending or pushed
    tick = time.monotonic()
    if not _pending or tick - _last_check < CHECK_EVERY_SECONDS:
        return None
    _last_check, _pending = tick, False
    try:
        with session_scope() as session:
            return warn_if_nearing_quota(session, clock.now(), settings)
    except Exception:  # the warning must never stop messages from going out
        log.exception("checking the LINE push quota failed")
        return None


def reset_throttle() -> None:
    """Tests and benchmarks: let the next dispatch look at the quota again."""
    global _last_check, _pending
    _last_check, _pending = float("-inf"), False
