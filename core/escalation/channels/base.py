"""The one interface every channel implements, and what it is given and returns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.enums import Channel

_RETRY_NAMESPACE = uuid.UUID("6f1c1a52-7d3e-4c55-9a51-2d0f3b7f5e10")


def retry_uuid(key: str) -> str:
    """A UUID derived from an outbox idempotency key: a message's own identity at every provider
    (LINE's retry key, the webhook's Idempotency-Key, the token in a Twilio callback URL)."""
    return str(uuid.uuid5(_RETRY_NAMESPACE, key))


@dataclass(frozen=True)
class OutgoingMessage:
    """An outbox row as a channel sees it (no session, no ORM object)."""

    key: str
    channel: Channel
    recipient: str
    payload: dict[str, Any]
    attempt_no: int  # 1 on the first try; more means a previous try may have gone out
    created_at: datetime
    in_doubt_since: datetime | None = None  # when the earliest unsettled earlier try began (None: none)
    started_at: datetime | None = None  # when this try began (its claim)
    not_ours: frozenset[str] = frozenset()  # provider ids already recorded for other messages

    @property
    def retry_uuid(self) -> str:
        """A UUID derived from the idempotency key: the same message always has the same one."""
        return retry_uuid(self.key)

    @property
    def maybe_sent_before(self) -> bool:
        """An earlier try began and was never settled: it may have reached the provider."""
        if self.started_at is None:  # built by hand (tests): only the count is known
            return self.attempt_no > 1
        return self.in_doubt_since is not None


@dataclass(frozen=True)
class SendResult:
    """What the provider said: its id for the message, and whether it was a repeat."""

    provider_id: str | None
    duplicate: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


class Sender(Protocol):
    """Send one message; raise RetryLater, PermanentFailure or QuotaExhausted when it fails."""

    def send(self, message: OutgoingMessage) -> SendResult: ...
