"""LINE push through line-bot-sdk v3 (the process's one client, core/line_client.py), with
X-Line-Retry-Key derived from the outbox key.

A 409 on a retry key means LINE already accepted that exact message: success. 429 is a
rate limit (retry with backoff) unless its message says the monthly quota is used up.
"""

from __future__ import annotations

import json
from typing import Any

from linebot.v3.messaging import MessagingApi, PushMessageRequest
from linebot.v3.messaging.exceptions import ApiException

from core.errors import PermanentFailure, QuotaExhausted, RetryLater
from core.escalation.channels.base import OutgoingMessage, SendResult
from core.line_client import shared_client
from core.settings import Settings

MONTHLY_LIMIT_MESSAGE = "You have reached your monthly limit."


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if key.lower() == name:
            return str(value)
    return None


def _error_message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or b"{}").get("message", ""))
    except (ValueError, AttributeError):
        return str(exc.body or "")


class LineSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: OutgoingMessage) -> SendResult:
        client = shared_client(self.settings.line_api_url, self.settings.line_access_token)
        request = PushMessageRequest.from_dict({"to": message.recipient, "messages": message.payload["messages"]})
        try:
            response = MessagingApi(client).push_message_with_http_info(
                request, x_line_retry_key=message.retry_uuid,
                _request_timeout=self.settings.http_timeout_seconds,
            )
        except ApiException as exc:
            return self._failed(exc)
        except (OSError, ValueError) as exc:  # connection refused, timeout, TLS
            raise RetryLater(f"line: {type(exc).__name__}") from exc
        return SendResult(_header(response.headers, "x-line-request-id"))

    def _failed(self, exc: ApiException) -> SendResult:
        status = exc.status or 0
        if status == 409:
            accepted = _header(exc.headers, "x-line-accepted-request-id")
            return SendResult(accepted, duplicate=True)
        text = _error_message(exc)
        if status == 429:
            if MONTHLY_LIMIT_MESSAGE.rstrip(".") in text:
                raise QuotaExhausted(text)
            retry_after = _header(exc.headers, "retry-after")
            raise RetryLater(f"line 429: {text}", float(retry_after) if retry_after else None)
        if status >= 500 or status == 0:
            raise RetryLater(f"line {status}: {text}")
        raise PermanentFailure(f"line {status}: {text}")
