"""``POST /callback``: LINE's webhook. Verify, store, answer 200 — the handling comes after.

Intake does as little as it can, because LINE waits on it (and a busy moment brings
many at once):

- The signature is checked with line-bot-sdk's ``SignatureValidator`` (one HMAC) against
  the current channel secret and, during a rotation, the previous one. Forged or
  missing → 400 and nothing stored.
- The body must be LINE's shape: a JSON object with an ``events`` list (at most
  ``MAX_EVENTS``) of objects; an empty list is LINE's "verify" request → 200. Anything
  else that is signed but malformed → 400, nothing stored. It is parsed with orjson.
- Each event with a usable ``webhookEventId`` is stored once (``ON CONFLICT DO NOTHING``:
  redeliveries and duplicates vanish even when they race), all in one INSERT, before the
  200 goes out. The full line-bot-sdk model parse happens on the handling side
  (:func:`bot.processing.process_one`): an event the SDK cannot read is marked
  ``skipped`` there, never a 500 here.
- Who handles the stored events: this process's background threads
  (``WEBHOOK_WORKERS`` > 0, as in ``mimamori serve``), or the ``mimamori webhooks``
  process (the Procfile's web runs with ``WEBHOOK_WORKERS=0``), see :mod:`bot.handler_process`.
- Bodies over ``MAX_CONTENT_LENGTH`` are refused by Flask (413) before being read.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import orjson
from flask import Flask, Response, request
from linebot.v3.webhook import SignatureValidator
from sqlalchemy.engine import Dialect

from bot import processing
from core import clock
from core.db import BUSY_TIMEOUT_MS, get_engine
from core.enums import WebhookState
from core.models import WebhookEvent
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
MAX_EVENTS = 100
MAX_EVENT_ID = 64


class Rejected(Exception):
    pass


@cache
def _validator(secret: str) -> SignatureValidator:
    return SignatureValidator(secret)


def verify(body: str, signature: str, settings: Settings) -> None:
    """Rejected unless ``signature`` is the body's HMAC under a current or previous secret."""
    if not signature:
        raise Rejected("missing signature")
    if not any(_validator(secret).validate(body, signature) for secret in settings.line_secrets):
        raise Rejected("bad signature")


def parse(body: str, signature: str, settings: Settings) -> list[dict[str, Any]]:
    """The raw events of a signed body of LINE's shape, or Rejected."""
    verify(body, signature, settings)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Rejected("malformed body: not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise Rejected("no events list")
    events = payload["events"]
    if len(events) > MAX_EVENTS:
        raise Rejected("too many events")
    if not all(isinstance(event, dict) for event in events):
        raise Rejected("an event is not an object")
    return events


COLUMNS = "webhook_event_id, source_key, event_type, body, state, received_at"


@cache
def _insert_sql(dialect: str, n: int) -> str:
    """INSERT of ``n`` rows, ``ON CONFLICT DO NOTHING`` on webhookEventId (so redeliveries and
    duplicates vanish even when they race), returning the chats of the rows that were new."""
    row = "(%s, %s, %s, CAST(%s AS json), %s, %s)" if dialect == "postgresql" else "(?, ?, ?, ?, ?, ?)"
    return (f"INSERT INTO {WebhookEvent.__tablename__} ({COLUMNS}) VALUES {', '.join([row] * n)} "
            "ON CONFLICT (webhook_event_id) DO NOTHING RETURNING source_key")


@cache
def _received_at_bind(dialect: Dialect) -> Callable[[Any], Any]:
    """The column type's own conversion (``UTCDateTime`` and the dialect's), for the raw INSERT."""
    column_type = WebhookEvent.__table__.c.received_at.type.dialect_impl(dialect)
    return column_type.bind_processor(dialect) or (lambda value: value)


def rows_of(events: list[dict[str, Any]], dialect: Dialect) -> list[tuple[Any, ...]]:
    """The rows to store (events with a webhookEventId, not in standby mode), as the driver
    takes them: body as JSON text, received_at as ``UTCDateTime`` stores it on this dialect."""
    rows = []
    received = _received_at_bind(dialect)(clock.now())
    for raw in events:
        event_id = raw.get("webhookEventId")
        if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_EVENT_ID:
            continue
        if raw.get("mode") == "standby":
            continue  # another channel handles this chat (module mode)
        chat, _user, _group = processing.source_of(raw)
        rows.append((event_id, chat[:64], str(raw.get("type"))[:32], orjson.dumps(raw).decode(),
                     WebhookState.RECEIVED.value, received))
    return rows


def store(events: list[dict[str, Any]]) -> set[str]:
    """Store new events in one INSERT and commit; returns the chats with new work.

    This is the one statement every webhook waits on, so it goes straight to the pooled
    driver connection (SQLAlchemy's statement machinery cost more than the INSERT), in
    autocommit on PostgreSQL (one round trip, not BEGIN/INSERT/COMMIT). On SQLite the
    threads of a process take turns on a lock: SQLite's own busy wait sleeps for
    milliseconds, a thread lock hands over at once."""
    engine = get_engine()
    dialect = engine.dialect.name
    rows = rows_of(events, engine.dialect)
    if not rows:
        return set()
    params = [value for row in rows for value in row]
    conn = engine.raw_connection()
    try:
        if dialect == "postgresql":
            conn.driver_connection.autocommit = True
            try:
                with conn.cursor() as cur:
                    cur.execute(_insert_sql(dialect, len(rows)), params)
                    return {key for (key,) in cur.fetchall()}
            finally:
                conn.driver_connection.autocommit = False
        with _sqlite_writer:
            return _sqlite_insert(conn, _insert_sql(dialect, len(rows)), params)
    finally:
        conn.close()  # back to the pool (rolled back there if anything above failed)


_sqlite_writer = threading.Lock()
SQLITE_RETRY, SQLITE_PATIENCE = 0.0005, 30.0  # seconds


def _sqlite_insert(conn: Any, sql: str, params: list[Any]) -> set[str]:
    """Insert and commit, retrying every half millisecond while another process writes.

    SQLite's own busy wait sleeps 1, 2, 5, 10, 15 ms... between tries, and the handler
    process writes after every event; so this one connection asks SQLite not to wait and
    tries again itself, for as long as the busy timeout would have (then raises)."""
    deadline = time.monotonic() + SQLITE_PATIENCE
    cur = conn.cursor()
    try:
        cur.execute("PRAGMA busy_timeout=0")
        while True:
            try:
                cur.execute(sql, params)
                keys = {key for (key,) in cur.fetchall()}
                conn.commit()
                return keys
            except sqlite3.OperationalError as exc:
                conn.rollback()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(SQLITE_RETRY)
    finally:
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()


def register_webhook(app: Flask) -> None:
    @app.post("/callback")
    def callback() -> Response:
        settings = app.config.get("SETTINGS") or get_settings()
        with processing.intake():
            body = request.get_data(as_text=True)
            try:
                events = parse(body, request.headers.get("X-Line-Signature", ""), settings)
            except Rejected as exc:
                log.info("webhook refused: %s", exc)
                return Response("Bad Request", status=400)
            touched = store(events)
        processing.schedule(touched)
        return Response("OK", status=200)
