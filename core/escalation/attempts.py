"""Attempt states only move forward; where a watcher is reached, and by which channel.

Twilio callbacks arrive late, twice and out of order, so every update goes through
:func:`advance`, which refuses to move an attempt back (a "ringing" that arrives after
"completed" changes nothing). A late "a person answered" may still upgrade a no-answer:
that is more information, not less.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.enums import AttemptState, Channel
from core.models import EscalationAttempt, HomeWatcher, Watcher

RANK = {
    AttemptState.PENDING: 0,
    AttemptState.IN_PROGRESS: 1,
    AttemptState.NO_ANSWER: 2,
    AttemptState.FAILED: 2,
    AttemptState.SUCCEEDED: 3,
    AttemptState.CANCELLED: 3,
}
FINAL = {AttemptState.SUCCEEDED, AttemptState.CANCELLED}


def advance(attempt: EscalationAttempt, new: AttemptState, **detail: Any) -> bool:
    """Move ``attempt`` to ``new`` if that is forward; record ``detail``. False if refused."""
    if attempt.state in FINAL or RANK[new] <= RANK[attempt.state]:
        return False
    now = clock.now()
    attempt.state = new
    if new is AttemptState.IN_PROGRESS:
        attempt.started_at = attempt.started_at or now
    elif new is not AttemptState.PENDING:
        attempt.finished_at = now
    if detail:
        attempt.detail = {**(attempt.detail or {}), **detail}
    return True


def attempts_of_step(session: Session, incident_id: int, step_index: int) -> list[EscalationAttempt]:
    return list(session.scalars(
        select(EscalationAttempt)
        .where(EscalationAttempt.incident_id == incident_id, EscalationAttempt.step_index == step_index)
        .order_by(EscalationAttempt.id)
    ))


def new_attempt(session: Session, incident_id: int, step_index: int, step_kind: str, attempt_no: int,
                channel: Channel, target: str, due_at: datetime, watcher_id: int | None = None) -> EscalationAttempt:
    attempt = EscalationAttempt(
        incident_id=incident_id, step_index=step_index, step_kind=step_kind, attempt_no=attempt_no,
        channel=channel, target=target, watcher_id=watcher_id, state=AttemptState.PENDING, due_at=due_at,
    )
    session.add(attempt)
    session.flush()
    return attempt


def quota_exhausted_this_month(watcher: Watcher, now: datetime) -> bool:
    at = watcher.line_quota_exhausted_at
    return at is not None and (at.year, at.month) == (now.year, now.month)


def routes(watcher: Watcher, link: HomeWatcher | None, now: datetime) -> list[tuple[Channel, str]]:
    """Where to reach a watcher: their chosen channels, LINE falling back to SMS/email when
    they unfollowed or LINE's monthly quota is used up."""
    wanted = [Channel(c) for c in (link.channels if link and link.channels else [Channel.LINE.value])]
    out: list[tuple[Channel, str]] = []
    for channel in wanted:
        if channel is Channel.LINE:
            if watcher.line_user_id and watcher.following and not quota_exhausted_this_month(watcher, now):
                out.append((Channel.LINE, watcher.line_user_id))
                continue
            out.extend(fallback_routes(watcher))
        elif channel is Channel.EMAIL and watcher.email:
            out.append((Channel.EMAIL, watcher.email))
        elif channel is Channel.SMS and watcher.phone:
            out.append((Channel.SMS, watcher.phone))
    seen: set[tuple[Channel, str]] = set()
    return [r for r in out if not (r in seen or seen.add(r))]


def fallback_routes(watcher: Watcher) -> list[tuple[Channel, str]]:
    if watcher.email:
        return [(Channel.EMAIL, watcher.email)]
    if watcher.phone:
        return [(Channel.SMS, watcher.phone)]
    return []
