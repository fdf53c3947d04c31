"""Webhooks (the dispatch partner): JSON POST with an Idempotency-Key header."""

from __future__ import annotations

import requests

from core.errors import PermanentFailure, RetryLater
from core.escalation.channels.base import OutgoingMessage, SendResult
from core.settings import Settings


class WebhookSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            resp = requests.post(
                message.payload["url"],
                json=message.payload["json"],
                headers={"Idempotency-Key": message.retry_uuid},
                timeout=self.settings.http_timeout_seconds,
            )
        except requests.RequestException as exc:
            raise RetryLater(f"webhook: {type(exc).__name__}") from exc
        if resp.status_code == 429 or resp.status_code >= 500:
            raise RetryLater(f"webhook {resp.status_code}")
        if resp.status_code >= 400 and resp.status_code != 409:
            raise PermanentFailure(f"webhook {resp.status_code}")
        return SendResult(resp.headers.get("X-Request-Id"), duplicate=resp.status_code == 409)
