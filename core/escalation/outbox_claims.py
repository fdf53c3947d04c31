"""Which outbox rows a dispatcher may send now, claimed so that no one else sends them.

A row is claimed in one short transaction:

1. Candidates: pending, due, not claimed by a live process (``pg_locks``), and — for a call
   or an SMS — no *other* row to that number still in doubt (see below). ``FOR UPDATE SKIP
   LOCKED`` keeps two claimers from even looking at the same row at once.
2. The claim itself: a session advisory lock on the row (core/claims.py), and for a call
   or an SMS one on its recipient too, so at most one message per number is in flight.
   With the recipient held, the "no other row in doubt" check is made again on fresh data.
3. ``attempts`` goes up by one (the fencing token). ``in_doubt_since`` is set if it was not:
   at once for a message with an idempotency key (LINE, webhook, email); for a call or an
   SMS only when its own try begins (:func:`mark_begun`, just before the provider is asked),
   so the rest of a killed worker's batch is sent by another worker at once, with no lookup.

**In doubt** means a try began and its outcome was never recorded: the worker died between
sending and committing, or the provider timed out. Twilio keeps no idempotency key, so the
next try must ask Twilio what went out — and it can only tell its own call from another if
no other message to that number can be in doubt at the same time. Hence the gate: a call
waits until the earlier call to that number is settled (sent with its SID recorded, or
refused), and a retry adopts only a call placed between its first unsettled try and its
own start that no settled row has recorded (core/escalation/channels/twilio.py).

The claims end with the worker's database session: a killed worker's rows are free at once.
On SQLite (one process) claims are in-process; rows are also leased for :data:`LEASE` so that
a second process, should one be started by mistake, keeps off them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, column, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from core import clock
from core.claims import ClaimHolder, ClaimKind, Key, claimed_ids_sql, string_key
from core.db import is_postgres
from core.enums import Channel, OutboxState
from core.escalation.channels import OutgoingMessage
from core.models import EscalationAttempt, OutboxMessage

LEASE = timedelta(minutes=2)  # SQLite only: another process keeps off a claimed row this long
GATED = (Channel.VOICE, Channel.SMS)  # no idempotency key at the provider: one in doubt per number
# A call or SMS whose worker died may still be in flight: the provider can create it after the
# worker is gone. Its retry waits this long, so the lookup sees it (within the 15 s take-over).
IN_FLIGHT = timedelta(seconds=10)
SETTLED_LOOKBACK = timedelta(days=2)


@dataclass(frozen=True)
class Job:
    row_id: int
    fence: int
    message: OutgoingMessage
    known_provider_id: str | None
    keys: tuple[Key, ...]


def _other_in_doubt(session: Session, row: OutboxMessage) -> bool:
    other = aliased(OutboxMessage)
    return bool(session.scalar(select(exists().where(
        other.channel == row.channel, other.recipient == row.recipient, other.id != row.id,
        other.state == OutboxState.PENDING, other.in_doubt_since.is_not(None)))))


def _candidates(session: Session, limit: int) -> list[OutboxMessage]:
    now = clock.now()
    other = aliased(OutboxMessage)
    blocked = exists().where(
        other.channel == OutboxMessage.channel, other.recipient == OutboxMessage.recipient,
        other.id != OutboxMessage.id, other.state == OutboxState.PENDING, other.in_doubt_since.is_not(None))
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now,
               or_(OutboxMessage.channel.not_in(GATED), ~blocked))
        # A row in doubt first: its worker died holding it, and it is the oldest try of all.
        .order_by(OutboxMessage.in_doubt_since.is_(None), OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres(session):
        claimed = text(claimed_ids_sql(ClaimKind.OUTBOX_ROW)).columns(column("objid", BigInteger))
        stmt = stmt.where(OutboxMessage.id.not_in(claimed)).with_for_update(skip_locked=True, of=OutboxMessage)
    return list(session.scalars(stmt))


Taken = list[tuple[OutboxMessage, tuple[Key, ...]]]


def _take(session: Session, rows: list[OutboxMessage], claims: ClaimHolder) -> Taken:
    """Claim the rows (and their recipients where gated); the rows that could not be are dropped."""
    got_rows = claims.try_claim((ClaimKind.OUTBOX_ROW, r.id) for r in rows)
    taken = [r for r in rows if (ClaimKind.OUTBOX_ROW, r.id) in got_rows]
    out: Taken = []
    seen: set[Key] = set()
    for row in taken:
        row_key: Key = (ClaimKind.OUTBOX_ROW, row.id)
        if row.channel not in GATED:
            out.append((row, (row_key,)))
            continue
        who = string_key(ClaimKind.OUTBOX_RECIPIENT, f"{row.channel.value}:{row.recipient}")
        if who in seen or not claims.try_claim([who]):
            claims.release([row_key])
            continue
        seen.add(who)
        if _other_in_doubt(session, row):  # fresh data, read with the recipient held
            claims.release([row_key, who])
            continue
        out.append((row, (row_key, who)))
    return out


def _not_ours(session: Session, row: OutboxMessage) -> frozenset[str]:
    """Provider ids settled rows to the same number recorded: never this row's delivery."""
    since = clock.now() - SETTLED_LOOKBACK
    ids = session.scalars(select(OutboxMessage.provider_id).where(
        OutboxMessage.channel == row.channel, OutboxMessage.recipient == row.recipient,
        OutboxMessage.id != row.id, OutboxMessage.provider_id.is_not(None), OutboxMessage.created_at >= since))
    return frozenset(str(i) for i in ids)


def claim(session: Session, limit: int, claims: ClaimHolder) -> list[Job]:
    """Claim up to ``limit`` due rows in the caller's transaction (commit it before sending).
    If the transaction fails, the caller releases the jobs' keys (see dispatcher)."""
    now = clock.now()
    postgres = is_postgres(session)
    taken = _take(session, _candidates(session, limit), claims)
    try:
        return _start(session, taken, now, postgres)
    except BaseException:
        claims.release(k for _, keys in taken for k in keys)
        raise


def _start(session: Session, taken: Taken, now: datetime, postgres: bool) -> list[Job]:
    wanted = [r.attempt_id for r, _ in taken if r.provider_id is None and r.attempt_id and r.channel in GATED]
    attempts = {a.id: a for a in session.scalars(
        select(EscalationAttempt).where(EscalationAttempt.id.in_(wanted)))} if wanted else {}
    jobs = []
    for row, keys in taken:
        doubt = row.in_doubt_since is not None  # an earlier try began and was never settled
        row.attempts += 1
        if not postgres:
            row.next_attempt_at = now + LEASE
        if not postgres or row.channel not in GATED:
            row.in_doubt_since = row.in_doubt_since or now  # gated rows on PostgreSQL: mark_begun
        known = row.provider_id
        attempt = attempts.get(row.attempt_id or 0)
        if known is None and attempt is not None and attempt.channel is row.channel:
            known = attempt.provider_id  # a token-checked Twilio callback already named it
        message = OutgoingMessage(row.idempotency_key, row.channel, row.recipient, dict(row.payload), row.attempts,
                                  row.created_at, row.in_doubt_since if doubt else None, now,
                                  _not_ours(session, row) if doubt and row.channel in GATED else frozenset())
        jobs.append(Job(row.id, row.attempts, message, known, keys))
    return jobs


def needs_mark(job: Job, postgres: bool) -> bool:
    """A call or SMS about to be placed on PostgreSQL: its try is recorded as begun first."""
    return postgres and job.message.channel in GATED and job.known_provider_id is None


def mark_begun(session: Session, job: Job) -> bool:
    """Record, in its own commit, that this job's try begins now (so a worker that dies from
    here on leaves the row in doubt: its retry waits :data:`IN_FLIGHT`, then looks the call up).
    False if the row is no longer this job's (claimed again since): do not send it."""
    now = clock.now()
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == job.row_id, OutboxMessage.attempts == job.fence,
               OutboxMessage.state == OutboxState.PENDING)
        .values(in_doubt_since=func.coalesce(OutboxMessage.in_doubt_since, now), next_attempt_at=now + IN_FLIGHT)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)

