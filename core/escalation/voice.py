"""What Twilio's callbacks mean for an attempt: status, answering-machine detection, digits.

Callbacks may come late, twice or out of order; everything goes through
``attempts.advance`` so nothing moves back. A person answering (AMD ``human``) or
pressing 1 confirms the resident is fine; a voicemail or answering machine does not.
The web routes (bot/twilio_routes.py) verify the signature and call these.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.db import is_postgres
from core.enums import AttemptState, Channel
from core.escalation.attempts import advance
from core.escalation.channels.base import retry_uuid
from core.models import EscalationAttempt, Incident, OutboxMessage

NO_ANSWER_STATUSES = {"busy", "no-answer", "canceled", "completed"}
LIVE_STATUSES = {"queued", "initiated", "ringing", "in-progress", "answered"}


def _token_matches(session: Session, attempt: EscalationAttempt, sid: str, token: str | None) -> bool:
    """A callback URL carries its message's token (core/escalation/dispatcher.render): the call is
    that message's, provably, so its SID is recorded on the outbox row too — a retry of a
    message in doubt then adopts it instead of looking anything up."""
    if token is None:  # a call placed before tokens existed
        return True
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.attempt_id == attempt.id,
                                                     OutboxMessage.channel == attempt.channel))
    if row is None or retry_uuid(row.idempotency_key) != token:
        return False
    if row.provider_id is None and sid:
        row.provider_id = sid
    return True


def _attempt(session: Session, attempt_id: int | None, channel: Channel, sid: str,
             token: str | None = None) -> EscalationAttempt | None:
    if attempt_id is None:
        return None
    attempt = session.get(EscalationAttempt, attempt_id, with_for_update=True if is_postgres(session) else None)
    if attempt is None or attempt.channel is not channel or not _token_matches(session, attempt, sid, token):
        return None
    if attempt.provider_id is None:
        attempt.provider_id = sid  # the callback may beat the dispatcher's own record
    elif sid and attempt.provider_id != sid:
        return None
    return attempt


def record_call_event(session: Session, attempt_id: int | None, call_sid: str, *, status: str | None = None,
                      answered_by: str | None = None, digits: str | None = None, token: str | None = None) -> str:
    """Apply one voice callback; returns the outcome: confirmed, machine, no_answer, live or ignored."""
    from core.incidents import confirm_resident

    attempt = _attempt(session, attempt_id, Channel.VOICE, call_sid, token)
    if attempt is None:
        return "ignored"
    seen = list((attempt.detail or {}).get("events", []))
    event = status or (f"amd:{answered_by}" if answered_by else f"digits:{digits}")
    attempt.detail = {**(attempt.detail or {}), "events": [*seen, event]}
    if answered_by:
        attempt.detail = {**attempt.detail, "answered_by": answered_by}
    outcome = "live"
    if digits == "1" or answered_by == "human":
        advance(attempt, AttemptState.SUCCEEDED)
        incident = session.get(Incident, attempt.incident_id)
        if incident is not None and incident.closed_at is None:
            confirm_resident(session, incident, "voice")
        outcome = "confirmed"
    elif answered_by and (answered_by.startswith("machine") or answered_by == "fax"):
        advance(attempt, AttemptState.NO_ANSWER)
        outcome = "machine"
    elif status == "failed":
        advance(attempt, AttemptState.FAILED)
        outcome = "no_answer"
    elif status in NO_ANSWER_STATUSES:
        advance(attempt, AttemptState.NO_ANSWER)
        outcome = "no_answer"
    elif status in LIVE_STATUSES:
        advance(attempt, AttemptState.IN_PROGRESS)
    if event not in seen:
        audit.record(session, "twilio", "call_event", incident_id=attempt.incident_id, attempt=attempt.id,
                     event=event, outcome=outcome, state=attempt.state.value)
    return outcome


def record_sms_status(session: Session, attempt_id: int | None, sms_sid: str, status: str,
                      token: str | None = None) -> str:
    attempt = _attempt(session, attempt_id, Channel.SMS, sms_sid, token)
    if attempt is None:
        return "ignored"
    if status in {"failed", "undelivered"}:
        advance(attempt, AttemptState.FAILED, sms_status=status)
        audit.record(session, "twilio", "sms_undelivered", incident_id=attempt.incident_id, attempt=attempt.id)
        return "failed"
    advance(attempt, AttemptState.IN_PROGRESS)
    return "live"
