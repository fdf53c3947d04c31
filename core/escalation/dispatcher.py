"""Send what the outbox holds, once: claim, send with an idempotency key, record.

1. Claim a few due rows in one short transaction (core/escalation/outbox_claims.py): each is
   held by this process's database session, ``attempts`` goes up by one (the row's fencing
   token) and ``in_doubt_since`` marks that a try began. A later try of a row whose earlier
   one was never settled is told so, and the channel asks first (Twilio is looked up; LINE
   answers a repeated retry key with 409; email repeats its Message-ID; the webhook its
   Idempotency-Key).
2. Send outside any transaction, every call with a timeout.
3. Record the outcomes in a second transaction, only for rows whose token is unchanged;
   then give the claims back. A process that loses its claims (its database session) stops
   sending the rest of its batch.

A crash between any two of these leaves the row in doubt and its claim ends with the
process; another worker takes it at once, and the idempotency key (or the lookup) makes
the repeat harmless.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, claims, clock, outbox, push_budget
from core.db import get_engine, is_postgres, session_scope
from core.enums import AttemptState, Channel, OutboxState
from core.errors import DeliveryError, QuotaExhausted, RetryLater
from core.escalation import checkin, messages
from core.escalation.attempts import advance, fallback_routes
from core.escalation.channels import OutgoingMessage, Sender, SendResult, default_channels
from core.escalation.faults import checkpoint
from core.escalation.outbox_claims import GATED, LEASE, Job, claim, mark_begun, needs_mark
from core.models import EscalationAttempt, OutboxMessage, Watcher
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=30)
CLAIM_BATCH = 10  # rows claimed at a time: small, so the work spreads over the workers
FINISH_AFTER_SECONDS = 5.0  # a slow provider: record what is done so far this often

_channels: tuple[int, dict[Channel, Sender]] | None = None


def channels_for(settings: Settings) -> dict[Channel, Sender]:
    """The real channels, built once per settings object."""
    global _channels
    if _channels is None or _channels[0] != id(settings):
        _channels = (id(settings), default_channels(settings))
    return _channels[1]


CALLBACK_FIELDS = ("status_callback", "amd_callback")


def with_token(url: str, token: str) -> str:
    """A Twilio callback URL carrying the message's own token (checked when the callback comes)."""
    return f"{url}{'&' if '?' in url else '?'}o={token}"


def render(message: OutgoingMessage, settings: Settings) -> OutgoingMessage:
    """Fill in what must not sit in the database (the secret check-in link) and what names
    this very message (its token, in the callback URLs of a call or an SMS)."""
    payload = dict(message.payload)
    if message.channel in GATED:
        for name in CALLBACK_FIELDS:
            if payload.get(name):
                payload[name] = with_token(payload[name], message.retry_uuid)
    if nonce := payload.get("checkin_nonce"):
        url = checkin.checkin_url(checkin.derive_token(nonce, settings), settings)
        payload["body"] = payload["body"].replace("{checkin_url}", url)
    return replace(message, payload=payload)


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
    row.in_doubt_since = None
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
        if not exc.uncertain:  # the provider refused it: nothing went out, nothing to look for
            row.in_doubt_since = None
        return
    row.state = OutboxState.FAILED
    row.in_doubt_since = None
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
    row.in_doubt_since = None
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


def _send(job: Job, channels: dict[Channel, Sender], settings: Settings,
          postgres: bool) -> SendResult | DeliveryError | None:
    """Send one claimed message; None if it turned out not to be ours to send any more."""
    if job.known_provider_id:
        return SendResult(job.known_provider_id, duplicate=True)
    checkpoint("dispatch.before_send")
    if needs_mark(job, postgres):
        with session_scope() as session:
            if not mark_begun(session, job):
                return None
    try:
        outcome: SendResult | DeliveryError = channels[job.message.channel].send(render(job.message, settings))
    except DeliveryError as exc:
        outcome = exc
    except Exception as exc:  # a bug or an unexpected library error: retry, and say so
        log.exception("outbox %s: unexpected error while sending", job.row_id)
        outcome = RetryLater(f"unexpected: {type(exc).__name__}")
    checkpoint("dispatch.after_send")
    return outcome


def _send_batch(jobs: list[Job], channels: dict[Channel, Sender], settings: Settings,
                holder: claims.ClaimHolder) -> int:
    """Send a claimed batch, recording outcomes as they come; claims go back once recorded."""
    generation = holder.generation
    postgres = is_postgres(get_engine())
    sent = 0
    done: list[tuple[Job, SendResult | DeliveryError]] = []
    started = time.monotonic()

    def flush() -> None:
        nonlocal done, started
        if done:
            _finish(done)
            checkpoint("dispatch.after_commit")
            holder.release(k for job, _ in done for k in job.keys)
        done, started = [], time.monotonic()

    for job in jobs:
        if not holder.alive() or holder.generation != generation:
            log.warning("outbox claims lost with the database session; leaving %d rows to others", len(jobs))
            break  # another worker may hold them now: sending would race it
        outcome = _send(job, channels, settings, postgres)
        if outcome is None:
            log.warning("outbox %s was claimed again by another worker; not sending it", job.row_id)
            break
        done.append((job, outcome))
        sent += isinstance(outcome, SendResult)
        if time.monotonic() - started > FINISH_AFTER_SECONDS:
            flush()
    flush()
    # Warns the operator before the month's quota runs out (also a few minutes after a burst ends).
    push_budget.after_pushes(settings, pushed=any(job.message.channel is Channel.LINE for job in jobs))
    return sent


def dispatch_due(limit: int = 100, channels: dict[Channel, Sender] | None = None,
                 settings: Settings | None = None) -> int:
    """Send the due outbox rows (up to ``limit``, a few at a time); returns how many were sent."""
    settings = settings or get_settings()
    channels = channels if channels is not None else channels_for(settings)
    holder = claims.holder()
    sent = handled = 0
    while handled < limit:
        jobs: list[Job] = []
        try:
            with session_scope() as session:
                jobs = claim(session, min(CLAIM_BATCH, limit - handled), holder)
            if not jobs:
                break
            sent += _send_batch(jobs, channels, settings, holder)
        finally:  # a crash: what this process holds goes back, as the process dying would do
            holder.release(k for job in jobs for k in job.keys)
        handled += len(jobs)
    push_budget.after_pushes(settings, pushed=False)  # the quota's look after a burst that ended
    return sent


__all__ = ["LEASE", "dispatch_due", "render", "with_token"]
