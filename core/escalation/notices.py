"""Stop every pending step and tell the people already alerted what happened.

Called by core.incidents in the same transaction as the acknowledgement or closing,
so "the others are told" exists exactly when the change does. Someone counts as
alerted when their alert was sent or is being sent (claimed by a dispatcher); alerts
not yet claimed are cancelled and their recipients are not bothered at all.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.enums import AttemptState, Channel, CloseReason, OutboxState
from core.escalation import messages
from core.escalation.attempts import advance
from core.models import EscalationAttempt, Home, HomeWatcher, Incident, OutboxMessage, Watcher
from core.texts import normalize_language, t

ALERT_STEPS = ("alert_family", "alert_landlord_group", "alert_dispatch")
CLOSE_NOTICES = {
    CloseReason.USAGE_SEEN: "escalation.usage_seen_notice",
    CloseReason.RESIDENT_OK: "escalation.resident_ok_notice",
    CloseReason.SAFE: "escalation.closed_safe_notice",
    CloseReason.FALSE_ALARM: "escalation.closed_false_alarm_notice",
}


def alerted(session: Session, incident: Incident) -> list[tuple[EscalationAttempt, OutboxMessage]]:
    """Alert attempts whose message went out (or is going out right now)."""
    rows = session.execute(
        select(EscalationAttempt, OutboxMessage)
        .join(OutboxMessage, OutboxMessage.attempt_id == EscalationAttempt.id)
        .where(EscalationAttempt.incident_id == incident.id, EscalationAttempt.step_kind.in_(ALERT_STEPS))
        .order_by(EscalationAttempt.id)
    ).all()
    return [(a, o) for a, o in rows
            if o.state is OutboxState.SENT or (o.state is OutboxState.PENDING and o.attempts > 0)]


def stop_pending(session: Session, incident: Incident) -> int:
    """Cancel the incident's unsent messages and open attempts. Returns messages cancelled."""
    cancelled = 0
    for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.incident_id == incident.id, OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.attempt_id.is_not(None))):
        if row.attempts > 0 and row.last_error is None:
            continue  # a dispatcher holds it right now: it is going out, and counts as alerted
        row.state = OutboxState.CANCELLED
        cancelled += 1
    for attempt in incident.attempts:
        if attempt.state in (AttemptState.PENDING, AttemptState.IN_PROGRESS):
            advance(attempt, AttemptState.CANCELLED)
    return cancelled


def tell_alerted(session: Session, incident: Incident, event: str, text_key: str, *,
                 who: str | None = None, except_watcher_id: int | None = None) -> int:
    """One short message to each alerted recipient (except the one who acted). Returns count."""
    home = session.get(Home, incident.home_id)
    assert home is not None
    sent: set[tuple[Channel, str]] = set()
    for attempt, row in alerted(session, incident):
        route = (attempt.channel, attempt.target)
        if route in sent or (except_watcher_id is not None and attempt.watcher_id == except_watcher_id):
            continue
        sent.add(route)
        watcher = session.get(Watcher, attempt.watcher_id) if attempt.watcher_id else None
        lang = normalize_language(watcher.language if watcher else "ja")
        link = session.scalar(select(HomeWatcher).where(
            HomeWatcher.home_id == home.id, HomeWatcher.watcher_id == attempt.watcher_id)) if watcher else None
        name = messages.resident_name(home, lang, link.relation_label if link else None)
        text = t(text_key, lang, name=name, who=messages.honorific(who or "", lang))
        subject = t("escalation.notice_subject", lang, name=name)
        payload = (messages.text_payload(row.channel.value, text, subject) if row.channel is not Channel.WEBHOOK
                   else {"url": row.recipient, "json": {"incident": {"id": incident.id}, "event": event}})
        outbox.enqueue(session, channel=row.channel, recipient=row.recipient, payload=payload,
                       key=f"inc:{incident.id}:tell:{event}:{attempt.id}", home_id=home.id, incident_id=incident.id)
    return len(sent)
