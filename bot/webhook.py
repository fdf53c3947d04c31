"""``POST /callback``: LINE's webhook. Verify, store, answer 200 — then handle.

- The signature is checked with line-bot-sdk against the current channel secret and,
  during a rotation, the previous one. Forged or missing → 400 and nothing stored.
- The body must be LINE's shape (``destination``, ``events``); an empty ``events`` list is
  LINE's "verify" request → 200.
- Each event is stored once by ``webhookEventId`` (redeliveries and duplicates are
  ignored), the chats are handed to background drains (:mod:`bot.processing`, in order
  per chat) and the response goes out, so LINE gets its 200 well inside 2 seconds.
- Bodies over ``MAX_CONTENT_LENGTH`` are refused by Flask (413) before being read.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

from flask import Flask, Response, request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhook import WebhookParser

from bot import processing
from core import clock
from core.db import get_engine
from core.enums import WebhookState
from core.models import WebhookEvent
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
MAX_EVENTS = 100


class Rejected(Exception):
    pass


def parse(body: str, signature: str, settings: Settings) -> list[tuple[dict[str, Any], Any]]:
    """(raw event, parsed event) pairs, or Rejected for a bad signature or shape."""
    if not signature:
        raise Rejected("missing signature")
    for secret in settings.line_secrets:
        try:
            events = WebhookParser(secret).parse(body, signature)
            break
        except InvalidSignatureError:
            continue
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Rejected(f"malformed body: {type(exc).__name__}") from exc
    else:
        raise Rejected("bad signature")
    payload = json.loads(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise Rejected("no events list")
    raws = payload["events"]
    if len(raws) > MAX_EVENTS:
        raise Rejected("too many events")
    return list(zip(raws, events, strict=True))


@cache
def _insert(dialect: str) -> Any:
    """The dialect's INSERT .. ON CONFLICT DO NOTHING RETURNING, built once (compiled once)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return (insert(WebhookEvent).on_conflict_do_nothing(index_elements=["webhook_event_id"])
            .returning(WebhookEvent.source_key))


def store(pairs: list[tuple[dict[str, Any], Any]]) -> set[str]:
    """Store new events in one statement (``ON CONFLICT DO NOTHING`` on webhookEventId, so
    redeliveries and duplicates vanish even when they race); returns the chats with new work."""
    rows = []
    for raw, event in pairs:
        event_id = raw.get("webhookEventId")
        if isinstance(event, UnknownEvent) or not isinstance(event_id, str) or not 0 < len(event_id) <= 64:
            continue
        if raw.get("mode") == "standby":
            continue  # another channel handles this chat (module mode)
        chat, _user, _group = processing.source_of(raw)
        rows.append({"webhook_event_id": event_id, "source_key": chat[:64], "event_type": str(raw.get("type"))[:32],
                     "body": raw, "state": WebhookState.RECEIVED, "received_at": clock.now()})
    if not rows:
        return set()
    engine = get_engine()
    with engine.begin() as conn:
        return set(conn.execute(_insert(engine.dialect.name), rows).scalars())


def register_webhook(app: Flask) -> None:
    @app.post("/callback")
    def callback() -> Response:
        settings = app.config.get("SETTINGS") or get_settings()
        with processing.intake():
            body = request.get_data(as_text=True)
            try:
                pairs = parse(body, request.headers.get("X-Line-Signature", ""), settings)
            except Rejected as exc:
                log.info("webhook refused: %s", exc)
                return Response("Bad Request", status=400)
            touched = store(pairs)
        processing.schedule(touched)
        return Response("OK", status=200)
