"""Leaving: what is deleted when a watcher quits or a home's contract ends.

- A watcher who leaves ("退会", or ``mimamori watchers delete``) loses their personal data
  at once: name, email, phone, LINE id, their links to homes, their chat state and the
  webhook events and messages that carried their id. The row stays as an empty shell
  so the ids in the audit trail still join to something.
- A home whose contract ends (``mimamori homes end``) stops being watched at once
  (incidents closed, pending messages cancelled, watchers told); after
  ``RETENTION_DAYS`` the retention job deletes the home itself with its readings,
  resident, links, schedule, pauses, incidents and messages, and leaves one audit row of
  anonymous counts.
- The daily :func:`clean_up` also drops delivered messages and handled webhook events
  older than the retention period: they hold names and message texts.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from core import audit, clock
from core.enums import AttemptState, CloseReason, HomeStatus, OutboxState, WebhookState
from core.errors import NotFound
from core.expiry import tell_watchers
from core.incidents import close, open_incidents_of
from core.logging import log_event
from core.models import (
    ConversationState,
    EscalationAttempt,
    Home,
    HomeWatcher,
    Incident,
    Invite,
    MeterReading,
    OutboxMessage,
    Watcher,
    WebhookEvent,
)
from core.settings import get_settings

log = logging.getLogger(__name__)

ERASED = "erased"
ERASE_BATCH = 50  # homes erased per run; the rest follow the next day


# ---- a watcher leaves -----------------------------------------------------------------
def delete_watcher(session: Session, watcher_id: int, actor: str) -> dict[str, int]:
    """Delete a watcher's personal data now. Idempotent; NotFound for an unknown id."""
    watcher = session.get(Watcher, watcher_id)
    if watcher is None:
        raise NotFound(f"watcher {watcher_id}")
    if watcher.deleted_at is not None:
        return {}
    identifiers = [v for v in (watcher.line_user_id, watcher.email, watcher.phone) if v]
    home_ids = list(session.scalars(select(HomeWatcher.home_id).where(HomeWatcher.watcher_id == watcher.id)))
    counts: dict[str, int] = {"homes": len(home_ids)}

    if watcher.line_user_id:
        uid = watcher.line_user_id
        counts["conversations"] = _deleted(session, delete(ConversationState).where(ConversationState.chat_id == uid))
        counts["webhook_events"] = _deleted(session, delete(WebhookEvent).where(WebhookEvent.source_key == uid))
        session.execute(update(Invite).where(Invite.used_by == uid).values(used_by=None))
    if identifiers:
        to_them = OutboxMessage.recipient.in_(identifiers)
        session.execute(
            update(OutboxMessage).where(to_them, OutboxMessage.state == OutboxState.PENDING)
            .values(state=OutboxState.CANCELLED)
        )
        counts["messages"] = _deleted(
            session, update(OutboxMessage).where(to_them).values(recipient=ERASED, payload={"erased": True})
        )
    attempts = or_(EscalationAttempt.watcher_id == watcher.id, EscalationAttempt.target.in_(identifiers or [""]))
    session.execute(
        update(EscalationAttempt).where(attempts, EscalationAttempt.state == AttemptState.PENDING)
        .values(state=AttemptState.CANCELLED)
    )
    session.execute(update(EscalationAttempt).where(attempts).values(target=ERASED))
    if watcher.display_name and home_ids:
        _scrub_name(session, watcher.display_name, home_ids)
    session.execute(delete(HomeWatcher).where(HomeWatcher.watcher_id == watcher.id))

    watcher.display_name = None
    watcher.email = None
    watcher.phone = None
    watcher.line_user_id = None
    watcher.following = False
    watcher.line_quota_exhausted_at = None
    watcher.deleted_at = clock.now()
    audit.record(session, actor, "watcher_deleted", watcher_id=watcher.id, **counts)
    log_event(log, "retention.watcher_deleted", watcher_id=watcher.id, **counts)
    return counts


def _scrub_name(session: Session, name: str, home_ids: list[int]) -> None:
    """Remove the leaver's name where others were told "<name> is on it" (sent messages, acks)."""
    session.execute(
        update(Incident).where(Incident.home_id.in_(home_ids), Incident.acknowledged_by == name)
        .values(acknowledged_by=None)
    )
    forms = (name, json.dumps(name)[1:-1])
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.home_id.in_(home_ids), OutboxMessage.state != OutboxState.PENDING)
    )
    for row in rows:
        text = json.dumps(row.payload, ensure_ascii=False)
        if any(form in text for form in forms):
            row.payload = {"erased": True}


def _deleted(session: Session, statement: Any) -> int:
    return session.execute(statement).rowcount or 0


# ---- a home's contract ends ---------------------------------------------------------------
def end_home(session: Session, home: Home, actor: str) -> bool:
    """Stop watching now; data goes after the retention period. False if already ended."""
    if home.status == HomeStatus.ENDED:
        return False
    now = clock.now()
    home.status = HomeStatus.ENDED
    home.ended_at = now
    for incident in open_incidents_of(session, home.id):
        close(session, incident, CloseReason.CONTRACT_ENDED, actor)
    incident_ids = select(Incident.id).where(Incident.home_id == home.id).scalar_subquery()
    session.execute(
        update(EscalationAttempt)
        .where(EscalationAttempt.incident_id.in_(incident_ids), EscalationAttempt.state == AttemptState.PENDING)
        .values(state=AttemptState.CANCELLED)
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.home_id == home.id, OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.CANCELLED)
    )
    tell_watchers(session, home, "ops.watching_ended", key=f"home_ended:{home.id}")
    audit.record(session, actor, "home_ended", home_id=home.id)
    log_event(log, "retention.home_ended", home_id=home.id)
    return True


def erase_home(session: Session, home_id: int, actor: str = "retention") -> dict[str, Any]:
    """Delete an ended home and everything about it; keep one audit row of anonymous counts."""
    home = session.get(Home, home_id)
    if home is None:
        raise NotFound(f"home {home_id}")
    kinds = Counter(k.value for k in session.scalars(select(Incident.kind).where(Incident.home_id == home_id)))
    incident_ids = select(Incident.id).where(Incident.home_id == home_id).scalar_subquery()
    counts: dict[str, Any] = {
        "readings": _deleted(session, delete(MeterReading).where(MeterReading.home_id == home_id)),
        "messages": _deleted(
            session,
            delete(OutboxMessage).where(
                or_(OutboxMessage.home_id == home_id, OutboxMessage.incident_id.in_(incident_ids))
            ),
        ),
        "watchers": session.scalar(
            select(func.count()).select_from(HomeWatcher).where(HomeWatcher.home_id == home_id)
        ) or 0,
        "incidents": dict(kinds),
        "days_watched": (home.ended_at - home.created_at).days if home.ended_at else None,
    }
    # The database cascades the rest: resident, links, schedule, pauses, baseline, invites,
    # incidents with their attempts and check-in links.
    session.execute(delete(Home).where(Home.id == home_id))
    session.expunge(home)
    audit.record(session, actor, "home_erased", home_id=home_id, **counts)
    log_event(log, "retention.home_erased", home_id=home_id, readings=counts["readings"])
    return counts


# ---- the daily job ----------------------------------------------------------------------------
def clean_up(session: Session, now: datetime, retention_days: int | None = None) -> dict[str, int]:
    """Erase homes ended more than the retention period ago; drop old delivered messages."""
    days = retention_days if retention_days is not None else get_settings().retention_days
    cutoff = now - timedelta(days=days)
    due = list(
        session.scalars(
            select(Home.id).where(Home.status == HomeStatus.ENDED, Home.ended_at <= cutoff)
            .order_by(Home.ended_at).limit(ERASE_BATCH)
        )
    )
    for home_id in due:
        erase_home(session, home_id)
    done = (OutboxState.SENT, OutboxState.CANCELLED, OutboxState.FAILED)
    messages = _deleted(
        session, delete(OutboxMessage).where(OutboxMessage.state.in_(done), OutboxMessage.created_at < cutoff)
    )
    events = _deleted(
        session,
        delete(WebhookEvent).where(
            WebhookEvent.state.in_((WebhookState.PROCESSED, WebhookState.FAILED)), WebhookEvent.received_at < cutoff
        ),
    )
    return {"homes_erased": len(due), "messages": messages, "webhook_events": events}
