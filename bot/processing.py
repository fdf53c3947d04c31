"""Handle stored webhook events: each exactly once, one chat's events in order.

The webhook stores events and answers at once. Then either a small pool of background
threads in the same process drains the chats it touched (``WEBHOOK_WORKERS`` > 0, as in
``mimamori serve``: request threads never wait on LINE), or the ``mimamori webhooks``
process polls for waiting chats and drains them (:mod:`bot.handler_process`; the
Procfile's web runs with ``WEBHOOK_WORKERS=0`` so intake never shares its CPU or GIL
with handling). Draining a chat holds a per-chat lock — a thread lock in this process
and, on PostgreSQL, an advisory lock across processes — and handles that chat's RECEIVED
events oldest first, each in its own transaction. Replies are sent after the commit.
:func:`drain_stale` picks up anything a crash left behind (each web process with
handling threads runs it now and then, triggered by traffic).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from linebot.v3.webhooks import Event
from sqlalchemy import func, select, text

from bot.context import Ctx
from bot.handlers import HANDLERS
from bot.line_api import LineClient
from core import clock
from core.db import get_engine, is_postgres, session_scope
from core.enums import WebhookState
from core.models import WebhookEvent
from core.settings import get_settings
from core.texts import t

log = logging.getLogger(__name__)
FLOOD_WINDOW = timedelta(minutes=1)
FLOOD_LIMIT = 60  # events per chat per minute (no person taps that fast); beyond this, one polite note and nothing else

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()

SWEEP_EVERY = 60.0  # seconds: how often a busy web process also looks for events a crash left
_executor: ThreadPoolExecutor | None = None
_last_sweep = 0.0
_queued: set[str] = set()
_busy: set[str] = set()  # chats being drained right now (the poller leaves them alone)
_inflight = 0
_state = threading.Condition()


def schedule(source_keys: set[str]) -> None:
    """Drain these chats in the background (a chat already queued is not queued twice)."""
    global _executor, _inflight, _last_sweep
    workers = get_settings().webhook_workers
    if workers == 0:
        return  # handled by drain_stale in another process
    now = time.monotonic()
    sweep = False
    with _state:
        if now - _last_sweep > SWEEP_EVERY:
            _last_sweep, sweep = now, True
            _inflight += 1
    if sweep:
        _pool(workers).submit(_sweep)
    for key in sorted(source_keys):
        with _state:
            if key in _queued:
                continue  # its queued drain has not started yet, so it will see the new event
            _queued.add(key)
            _inflight += 1
        _pool(workers).submit(_run, key)


def pending_chats(limit: int = 500) -> list[str]:
    """Chats with events waiting to be handled, the longest-waiting first."""
    with session_scope() as s:
        return list(s.scalars(
            select(WebhookEvent.source_key).where(WebhookEvent.state == WebhookState.RECEIVED)
            .group_by(WebhookEvent.source_key).order_by(func.min(WebhookEvent.id)).limit(limit)
        ))


def submit_waiting(source_keys: list[str], workers: int) -> int:
    """The poller's path: drain each chat that is neither queued nor being drained already
    (an event that lands just as its chat's drain ends is found by the next poll)."""
    submitted = 0
    global _inflight
    for key in source_keys:
        with _state:
            if key in _queued or key in _busy:
                continue
            _queued.add(key)
            _inflight += 1
        _pool(workers).submit(_run, key)
        submitted += 1
    return submitted


def _pool(workers: int) -> ThreadPoolExecutor:
    global _executor
    with _state:
        if _executor is None:  # created lazily: after gunicorn forks, in each worker
            _executor = ThreadPoolExecutor(workers, thread_name_prefix="webhook")
        return _executor


def _sweep() -> None:
    global _inflight
    try:
        drain_stale()
    except Exception:
        log.exception("sweeping stale webhook events failed")
    finally:
        with _state:
            _inflight -= 1
            _state.notify_all()


def _run(key: str) -> None:
    global _inflight
    with _state:
        _queued.discard(key)
        _busy.add(key)
    try:
        drain(key)
    except Exception:
        log.exception("draining a chat failed; the stale sweep will retry")
    finally:
        with _state:
            _busy.discard(key)
            _inflight -= 1
            _state.notify_all()


def wait_idle(timeout: float = 30.0) -> bool:
    """Block until every scheduled drain has finished (tests and /dev/chat use this)."""
    with _state:
        return _state.wait_for(lambda: _inflight == 0, timeout)


@contextmanager
def source_lock(source_key: str) -> Iterator[None]:
    with _locks_guard:
        lock = _locks.setdefault(source_key, threading.Lock())
    with lock:
        engine = get_engine()
        if not is_postgres(engine):
            yield
            return
        key = int.from_bytes(hashlib.sha256(source_key.encode()).digest()[:8], "big", signed=True)
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


def source_of(raw: dict) -> tuple[str, str | None, bool]:
    """(chat id, user id, is group) of a raw event (any shape: intake stores events unparsed)."""
    src = raw.get("source")
    if not isinstance(src, dict):
        src = {}
    user = src.get("userId") if isinstance(src.get("userId"), str) else None
    chat = src.get("groupId") or src.get("roomId") or user
    return (str(chat) if chat else "-"), user, bool(src.get("groupId") or src.get("roomId"))


def _timestamp(body: object) -> float:
    """An event's LINE timestamp for ordering; 0 for anything that is not a number."""
    value = body.get("timestamp") if isinstance(body, dict) else None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _next(source_key: str) -> int | None:
    with session_scope() as s:
        rows = s.execute(
            select(WebhookEvent.id, WebhookEvent.body).where(
                WebhookEvent.source_key == source_key, WebhookEvent.state == WebhookState.RECEIVED
            )
        ).all()
    if not rows:
        return None
    return min(rows, key=lambda r: (_timestamp(r.body), r.id)).id


# Intake first: while /callback requests are being answered, handlers step aside for a
# moment (LINE's 2-second limit is hard; a reply a fraction of a second later is not).
# In a web process the sign is a request in hand; the ``mimamori webhooks`` process sets
# ``intake_busy`` to a probe of how fast events are being stored (bot.handler_process).
_intake = 0
YIELD_STEP, YIELD_MAX = 0.005, 0.25
intake_busy: Callable[[], bool] | None = None


@contextmanager
def intake() -> Iterator[None]:
    """Wrap answering a webhook request, so handlers give it the CPU first."""
    global _intake
    with _state:
        _intake += 1
    try:
        yield
    finally:
        with _state:
            _intake -= 1


def _step_aside() -> None:
    waited = 0.0
    while (_intake or (intake_busy is not None and intake_busy())) and waited < YIELD_MAX:
        time.sleep(YIELD_STEP)
        waited += YIELD_STEP


def drain(source_key: str) -> int:
    """Handle every waiting event of one chat, in order; returns how many were handled."""
    done = 0
    with source_lock(source_key):
        while (event_id := _next(source_key)) is not None:
            _step_aside()
            process_one(event_id)
            done += 1
    return done


def _flooding(session, row: WebhookEvent) -> int:
    since = clock.now() - FLOOD_WINDOW
    return session.scalar(
        select(func.count(WebhookEvent.id)).where(
            WebhookEvent.source_key == row.source_key, WebhookEvent.received_at >= since, WebhookEvent.id <= row.id
        )
    ) or 0


def _parsed(raw: dict) -> Event | None:
    """line-bot-sdk's model of a stored event, or None if the SDK cannot read it."""
    try:
        event = Event.from_dict(raw)
    except Exception:  # pydantic's ValidationError, or whatever odd JSON makes the SDK trip on
        log.info("webhook event not readable by line-bot-sdk: type %.32r", raw.get("type"))
        return None
    return event if isinstance(event, Event) else None


def _read_token(raw: dict) -> str | None:
    """The message event's ``markAsReadToken``: with it the user sees their message read."""
    message = raw.get("message") if raw.get("type") == "message" else None
    token = message.get("markAsReadToken") if isinstance(message, dict) else None
    return token if isinstance(token, str) and token else None


def process_one(event_id: int) -> None:
    outgoing: tuple[str, str | None, list[dict]] | None = None
    read_token: str | None = None
    try:
        with session_scope() as s:
            row = s.get(WebhookEvent, event_id)
            if row is None or row.state != WebhookState.RECEIVED:
                return
            raw = row.body
            chat, user, group = source_of(raw)
            event = _parsed(raw)
            if event is None:  # signed by LINE but not a shape the SDK knows: never acted on
                row.state, row.error, row.processed_at = WebhookState.SKIPPED, "unparseable", clock.now()
                return
            ctx = Ctx(s, event, raw, chat, user, group, getattr(event, "reply_token", None))
            if not group:
                _ = ctx.watcher  # speak the user's language from the first word
            count = _flooding(s, row)
            handler = HANDLERS.get(raw.get("type", ""))
            if count > FLOOD_LIMIT:
                row.error = "rate_limited"
                if count == FLOOD_LIMIT + 1:
                    ctx.say("bot.flood")
            elif handler is not None:
                handler(ctx)
            row.state = WebhookState.PROCESSED
            row.processed_at = clock.now()
            read_token = _read_token(raw)
            if ctx.out and chat != "-":
                outgoing = (chat, ctx.reply_token, ctx.out)
    except Exception as exc:
        log.exception("webhook event %s failed", event_id)
        with session_scope() as s:
            row = s.get(WebhookEvent, event_id)
            if row is not None:
                row.state = WebhookState.FAILED
                row.error = type(exc).__name__
                row.processed_at = clock.now()
                chat, _user, _group = source_of(row.body)
                token = row.body.get("replyToken")
                if chat != "-":
                    outgoing = (chat, token, [{"type": "text", "text": t("common.unknown_error")}])
    if outgoing is not None:
        LineClient().send(*outgoing)
    if read_token is not None:  # after the answer: it is what the user waits for
        LineClient().mark_read(read_token)


def drain_stale(older_than: timedelta = timedelta(seconds=30)) -> int:
    """Crash recovery (run by the scheduler): handle events left RECEIVED for too long."""
    with session_scope() as s:
        keys = s.scalars(
            select(WebhookEvent.source_key).where(
                WebhookEvent.state == WebhookState.RECEIVED, WebhookEvent.received_at < clock.now() - older_than
            ).distinct()
        ).all()
    return sum(drain(k) for k in keys)
