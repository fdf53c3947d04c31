"""Send what the outbox holds, once: claim, send with an idempotency key, record.

1. Claim due rows in one short transaction (PostgreSQL ``FOR UPDATE SKIP LOCKED``):
   ``attempts`` goes up by one and the row is leased for :data:`LEASE`. That count is
   the row's fencing token, and ``attempts > 1`` tells the channel an earlier try may
   already have gone out (Twilio is then asked first; LINE answers a repeated retry key
   with 409; email repeats its Message-ID).
2. Send outside any transaction, every call with a timeout.
3. Record the outcomes (a group at a time) in a second transaction, only for rows that
   were not re-claimed meanwhile.

A crash between any two of these leaves the row leased; when the lease ends it is
claimed again and the idempotency key makes the repeat harmless.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock, outbox, push_budget
from core.db import is_postgres, session_scope
from core.enums import AttemptState, Channel, OutboxState
from core.errors import DeliveryError, QuotaExhausted, RetryLater
from core.escalation import checkin, messages
from core.escalation.attempts import advance, fallback_routes
from core.escalation.channels import OutgoingMessage, Sender, SendResult, default_channels
from core.escalation.faults import checkpoint
from core.models import EscalationAttempt, OutboxMessage, Watcher
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=30)
FINISH_EVERY = 20  # outcomes recorded per transaction
FINISH_AFTER_SECONDS = 20.0  # ... or sooner, well inside the lease

_channels: tuple[int, dict[Channel, Sender]] | None = None


def channels_for(settings: Settings) -> dict[Channel, Sender]:
    """The real channels, built once per settings object."""
    global _channels
    if _channels is None or _channels[0] != id(settings):
        _channels = (id(settings), default_channels(settings))
    return _channels[1]


@dataclass(frozen=True)
class Job:
    row_id: int
    fence: int
    message: OutgoingMessage
    known_provider_id: str | None


def _claim(session: Session, limit: int) -> list[Job]:
    now = clock.now()
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    jobs = []
    rows = list(session.scalars(stmt))
    # The attempts a provider may already know, in one query (not one per row).
    wanted = [r.attempt_id for r in rows if r.provider_id is None and r.attempt_id
              and r.channel in (Channel.VOICE, Channel.SMS)]
    _held = list(session.scalars(select(EscalationAttempt).where(EscalationAttempt.id.in_(wanted)))) if wanted else []
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        known = row.provider_id
        if known is None and row.attempt_id and row.channel in (Channel.VOICE, Channel.SMS):
            attempt = session.get(EscalationAttempt, row.attempt_id)
            known = attempt.provider_id if attempt else None  # a Twilio callback already named it
        message = OutgoingMessage(row.idempotency_key, row.channel, row.recipient, dict(row.payload), row.attempts,
                                  row.created_at)
        jobs.append(Job(row.id, row.attempts, message, known))
    return jobs


def render(message: OutgoingMessage, settings: Settings) -> OutgoingMessage:
    """Fill in what must not sit in the database: the secret check-in link."""
    nonce = message.payload.get("checkin_nonce")
    if not nonce:
        return message
    url = checkin.checkin_url(checkin.derive_token(nonce, settings), settings)
    return replace(message, payload={**message.payload, "body": message.payload["body"].replace("{checkin_url}", url)})


def _row(session: Session, job: Job) -> OutboxMessage | None:
    """The row, if this job still owns it (nobody claimed it again since)."""
    row = session.get(OutboxMessage, job.row_id)  # loaded (and locked) by _load_for_finish
    return row if row is not None and row.attempts == job.fence else None


def _load_for_finish(session: Session, jobs: list[Job]) -> list[object]:
    """Lock the group's rows and load their attempts in two queries; the caller keeps the list
    (the identity map holds objects only weakly)."""
    stmt = select(OutboxMessage).where(OutboxMessage.id.in_([j.row_id for j in jobs]))
    if is_postgres(session):
        stmt = stmt.with_for_update()
    rows = list(session.scalars(stmt))
    attempt_ids = [r.attempt_id for r in rows if r.attempt_id]
    attempts = list(session.scalars(select(EscalationAttempt).where(EscalationAttempt.id.in_(attempt_ids))))
    return [*rows, *attempts]


def _sent(session: Session, job: Job, result: SendResult) -> None:
    row = _row(session, job)
    if row is None:
        return
    row.state = OutboxState.SENT  # even if cancelled meanwhile: it did go out
    row.provider_id = result.provider_id
    row.sent_at = clock.now()
    row.last_error = None
    if row.attempt_id and (attempt := session.get(EscalationAttempt, row.attempt_id)):
        attempt.provider_id = attempt.provider_id or result.provider_id
        advance(attempt, AttemptState.IN_PROGRESS)
    audit.record(session, "dispatcher", "message_sent", home_id=row.home_id, incident_id=row.incident_id,
                 outbox=row.id, channel=row.channel.value, duplicate=result.duplicate)


def _failed(session: Session, job: Job, exc: DeliveryError) -> None:
    row = _row(session, job)
    if row is None:
        return
    row.last_error = str(exc)[:500]
    if row.state is not OutboxState.PENDING:
        return
    if isinstance(exc, RetryLater) and row.attempts < MAX_ATTEMPTS:
        seconds = exc.after_seconds or 30 * 2 ** (row.attempts - 1)
        wait = timedelta(seconds=seconds)
        row.next_attempt_at = clock.now() + min(wait, MAX_BACKOFF)
        return
    row.state = OutboxState.FAILED
    if row.attempt_id and (attempt := session.get(EscalationAttempt, row.attempt_id)):
        advance(attempt, AttemptState.FAILED, error=type(exc).__name__)
    audit.record(session, "dispatcher", "delivery_failed", home_id=row.home_id, incident_id=row.incident_id,
                 outbox=row.id, channel=row.channel.value, attempts=row.attempts)
    log.warning("outbox %s (%s) failed for good after %d attempts: %s", row.id, row.channel, row.attempts, exc)


def _quota_exhausted(session: Session, job: Job, exc: QuotaExhausted) -> None:
    """LINE's monthly quota is gone: this watcher is switched to email/SMS, the operator warned."""
    row = _row(session, job)
    if row is None:
        return
    row.last_error = str(exc)[:500]
    row.state = OutboxState.FAILED
    now = clock.now()
    watcher = session.scalar(select(Watcher).where(Watcher.line_user_id == row.recipient))
    audit.record(session, "dispatcher", "line_quota_exhausted", home_id=row.home_id, incident_id=row.incident_id,
                 outbox=row.id, watcher_id=watcher.id if watcher else None)
    log.error("LINE monthly message quota exhausted (outbox %s); switching recipients to SMS/email", row.id)
    if watcher is None:
        return
    watcher.line_quota_exhausted_at = watcher.line_quota_exhausted_at or now
    fallback = row.payload.get("fallback") or {}
    text = fallback.get("text") or " ".join(m.get("text", m.get("altText", "")) for m in row.payload["messages"])
    for channel, target in fallback_routes(watcher):
        outbox.enqueue(session, channel=channel, recipient=target,
                       payload=messages.text_payload(channel.value, text, fallback.get("subject", text[:60])),
                       key=f"{row.idempotency_key}:fallback:{channel.value}", home_id=row.home_id,
                       incident_id=row.incident_id, attempt_id=row.attempt_id)


def _finish(done: list[tuple[Job, SendResult | DeliveryError]]) -> None:
    """Record a group of outcomes in one transaction (fewer commits; a crash before it only
    means those sends are repeated, which their idempotency keys make harmless)."""
    with session_scope() as session:
        _keep = _load_for_finish(session, [job for job, _ in done])
        for job, outcome in done:
            if isinstance(outcome, SendResult):
                _sent(session, job, outcome)
            elif isinstance(outcome, QuotaExhausted):
                _quota_exhausted(session, job, outcome)
            else:
                _failed(session, job, outcome)


def dispatch_due(limit: int = 100, channels: dict[Channel, Sender] | None = None,
                 settings: Settings | None = None) -> int:
    """Send the due outbox rows (up to ``limit``); returns how many were sent."""
    settings = settings or get_settings()
    channels = channels if channels is not None else channels_for(settings)
    with session_scope() as session:
        jobs = _claim(session, limit)
    sent = 0
    done: list[tuple[Job, SendResult | DeliveryError]] = []
    started = time.monotonic()
    for job in jobs:
        outcome: SendResult | DeliveryError
        if job.known_provider_id:
            outcome = SendResult(job.known_provider_id, duplicate=True)
        else:
            checkpoint("dispatch.before_send")
            try:
                outcome = channels[job.message.channel].send(render(job.message, settings))
            except DeliveryError as exc:
                outcome = exc
            except Exception as exc:  # a bug or an unexpected library error: retry, and say so
                log.exception("outbox %s: unexpected error while sending", job.row_id)
                outcome = RetryLater(f"unexpected: {type(exc).__name__}")
            checkpoint("dispatch.after_send")
        done.append((job, outcome))
        sent += isinstance(outcome, SendResult)
        if len(done) >= FINISH_EVERY or time.monotonic() - started > FINISH_AFTER_SECONDS:
            _finish(done)
            checkpoint("dispatch.after_commit")
            done, started = [], time.monotonic()
    if done:
        _finish(done)
        checkpoint("dispatch.after_commit")
    if any(job.message.channel is Channel.LINE for job in jobs):
        push_budget.after_pushes(settings)  # warns the operator before the month's quota runs out
    return sent


__all__ = ["LEASE", "dispatch_due", "render"]
