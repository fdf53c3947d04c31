"""A recording fake channel for tests of the engine and dispatcher logic.

It records every send (so a duplicate is visible, never hidden) and can be told to
fail the next sends with any delivery error.
"""

from __future__ import annotations

import threading
from collections import Counter

from core.escalation.channels.base import OutgoingMessage, SendResult


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.failures: list[Exception] = []
        self._lock = threading.Lock()

    def fail_next(self, *errors: Exception) -> None:
        with self._lock:
            self.failures.extend(errors)

    def send(self, message: OutgoingMessage) -> SendResult:
        with self._lock:
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append(message)
            return SendResult(f"fake-{len(self.sent)}")

    def counts(self) -> Counter[str]:
        """How many times each idempotency key was sent."""
        return Counter(m.key for m in self.sent)
