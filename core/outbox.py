"""Write outgoing messages into the outbox, in the caller's transaction.

Whatever changes state and must tell someone calls :func:`enqueue` in the same
session, before commit: the message exists if and only if the change does. The
dispatcher (core/escalation/dispatcher.py) sends rows later with their idempotency key.

Payload shapes by channel (the dispatcher's contract):
- LINE:    ``{"messages": [<LINE message objects>]}``; recipient is a user or group id
- EMAIL:   ``{"subject": str, "text": str, "html": str | None}``; recipient is an address
- SMS:     ``{"body": str}``; recipient is an E.164 phone number
- VOICE:   ``{"twiml": str}`` or as core/escalation defines; recipient is a phone number
- WEBHOOK: ``{"url": str, "json": dict}``
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.enums import Channel
from core.models import OutboxMessage


def enqueue(
    session: Session,
    *,
    channel: Channel,
    recipient: str,
    payload: dict[str, Any],
    key: str,
    home_id: int | None = None,
    incident_id: int | None = None,
    attempt_id: int | None = None,
    not_before: datetime | None = None,
    fresh_key: bool = False,
) -> OutboxMessage:
    """Add a message unless one with the same idempotency ``key`` exists; return the row.

    Keys are deterministic (``"daily:{home}:{date}:{watcher}"``), so a job that runs twice
    enqueues once. ``fresh_key=True`` says the key cannot exist yet (it names a row created
    in this transaction): the lookup and the flush are skipped (the unique index still guards).
    """
    if not fresh_key:
        existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        if existing is not None:
            return existing
    row = OutboxMessage(
        idempotency_key=key,
        channel=channel,
        recipient=recipient,
        payload=payload,
        home_id=home_id,
        incident_id=incident_id,
        attempt_id=attempt_id,
        next_attempt_at=not_before or clock.now(),
    )
    session.add(row)
    if not fresh_key:
        session.flush()
    return row
