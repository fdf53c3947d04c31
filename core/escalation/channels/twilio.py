"""Twilio SMS and voice calls through the official client.

Twilio has no idempotency key of its own. Each call and SMS carries its message's token in
its callback URLs, and a callback that names it records the SID on the row (core/escalation/
voice.py) — the exact answer, when it came before the retry. Otherwise a retry of a message
in doubt asks Twilio, and adopts only what is provably its own: a call (or an SMS with the
same body) to that number from our number, created between the first unsettled try and this
one, whose SID no settled message recorded. The dispatcher lets only one message per number
be in doubt at a time (core/escalation/outbox_claims.py), so such a call can be no one
else's. Nothing found: the call is placed — a second call is acceptable, a lost one is not.

In dev and tests the client is pointed at the local fake (``settings.twilio_api_url``) by
rewriting the host in a small HTTP client, which is the supported extension point of twilio 9.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from requests import RequestException
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from core.enums import Channel
from core.errors import PermanentFailure, RetryLater
from core.escalation.channels.base import OutgoingMessage, SendResult
from core.settings import Settings

TWILIO_API = "https://api.twilio.com"
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
SKEW = timedelta(seconds=2)  # Twilio's clock against ours (its times are whole seconds)


class RedirectingHttpClient(TwilioHttpClient):
    """Sends what the client addresses to api.twilio.com to ``base_url`` instead."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


def make_client(settings: Settings) -> Client:
    """A twilio Client with a timeout on every call, aimed at the fake when configured."""
    timeout = settings.http_timeout_seconds
    http: TwilioHttpClient
    if settings.twilio_api_url:
        http = RedirectingHttpClient(settings.twilio_api_url, timeout)
    else:
        http = TwilioHttpClient(timeout=timeout)
    return Client(settings.twilio_sid, settings.twilio_token, http_client=http)


def _classify(exc: TwilioRestException) -> Exception:
    status = exc.status or 0
    if status == 429 or status >= 500:
        return RetryLater(f"twilio {status}: {exc.code}", uncertain=False)  # Twilio answered: not created
    return PermanentFailure(f"twilio {status}: {exc.code}")


class TwilioSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            if message.maybe_sent_before and (sid := self.find_earlier(message)):
                return SendResult(sid, duplicate=True)
            if message.channel is Channel.VOICE:
                return self._call(message)
            return self._sms(message)
        except TwilioRestException as exc:
            raise _classify(exc) from exc
        except RequestException as exc:
            raise RetryLater(f"twilio: {type(exc).__name__}") from exc

    def find_earlier(self, message: OutgoingMessage) -> str | None:
        """The SID of this message if an earlier, unsettled try reached Twilio; None if not provable."""
        began = message.in_doubt_since or message.created_at
        since = began.replace(microsecond=0) - SKEW
        until = (message.started_at or began) + SKEW

        def ours(sid: object, created: datetime | None) -> bool:
            return created is not None and since <= created <= until and str(sid) not in message.not_ours

        if message.channel is Channel.VOICE:
            calls = self.client.calls.list(
                to=message.recipient, from_=self.settings.twilio_from, start_time_after=since, limit=50
            )
            found = [c for c in calls if ours(c.sid, c.date_created)]
        else:
            body = message.payload["body"]
            sms = self.client.messages.list(
                to=message.recipient, from_=self.settings.twilio_from, date_sent_after=since, limit=50
            )
            found = [m for m in sms if m.body == body and ours(m.sid, m.date_created)]
        # Twilio lists newest first; the earliest is the first try's (later ones were duplicates).
        return str(min(found, key=lambda r: r.date_created).sid) if found else None

    def _call(self, message: OutgoingMessage) -> SendResult:
        p = message.payload
        kwargs: dict[str, Any] = {}
        if p.get("status_callback"):  # a one-way call (a heat nudge) has no outcome to record
            kwargs.update(status_callback=p["status_callback"], status_callback_event=CALL_EVENTS,
                          status_callback_method="POST")
        if p.get("amd_callback"):
            kwargs.update(machine_detection="Enable", async_amd="true", async_amd_status_callback=p["amd_callback"],
                          async_amd_status_callback_method="POST")
        call = self.client.calls.create(
            to=message.recipient,
            from_=self.settings.twilio_from,
            twiml=p["twiml"],
            timeout=int(p.get("ring_seconds", 30)),
            **kwargs,
        )
        return SendResult(str(call.sid))

    def _sms(self, message: OutgoingMessage) -> SendResult:
        kwargs: dict[str, Any] = {}
        if message.payload.get("status_callback"):
            kwargs["status_callback"] = message.payload["status_callback"]
        sms = self.client.messages.create(
            to=message.recipient, from_=self.settings.twilio_from, body=message.payload["body"], **kwargs
        )
        return SendResult(str(sms.sid))
