"""The one interface every channel implements, and what it is given and returns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.enums import Channel

_RETRY_NAMESPACE = uuid.UUID("6f1c1a52-7d3e-4c55-9a51-2d0f3b7f5e10")


@dataclass(frozen=True)
class OutgoingMessage:
    """An outbox row as a channel sees it (no session, no ORM object)."""

    key: str
    channel: Channel
    recipient: str
    payload: dict[str, Any]
    attempt_no: int  # 1 on the first try; more means a previous try may have gone out
    created_at: datetime

    @property
    def retry_uuid(self) -> str:
        """A UUID derived from the idempotency key: the same message always has the same one."""
        return str(uuid.uuid5(_RETRY_NAMESPACE, self.key))

    @property
    def maybe_sent_before(self) -> bool:
        return self.attempt_no > 1


@dataclass(frozen=True)
class SendResult:
    """What the provider said: its id for the message, and whether it was a repeat."""

    provider_id: str | None
    duplicate: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


class Sender(Protocol):
    """Send one message; raise RetryLater, PermanentFailure or QuotaExhausted when it fails."""

    def send(self, message: OutgoingMessage) -> SendResult: ...
