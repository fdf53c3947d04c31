"""Storing received LINE events: the one write every webhook request waits on.

Requests that arrive together are written together (group commit): the first request
to find no write in progress writes its rows and those of every request queued behind
it in one INSERT and one commit, then hands over to the next. Alone, a request writes at
once, as before; in a burst of 50, a handful of writes carry them all. So a burst costs
a few transactions instead of 50 — on PostgreSQL a few WAL flushes, on SQLite a few
turns of the database file's one write lock, which the ``webhooks`` handler process
takes too.

Each event with a usable ``webhookEventId`` is stored once (``ON CONFLICT DO NOTHING``:
redeliveries and duplicates vanish even when they race); each request learns which of
its chats got new work. A failed write fails every request of its group (each answers
500, and LINE redelivers).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
from sqlalchemy.engine import Dialect

from bot import processing
from core import clock
from core.db import get_engine
from core.enums import WebhookState
from core.models import WebhookEvent

log = logging.getLogger(__name__)
MAX_EVENT_ID = 64
MAX_GROUP_ROWS = 1000  # 6 parameters a row: well inside SQLite's and PostgreSQL's limits
POSTGRES_WRITERS = 2  # writes in flight at once per process on PostgreSQL
SQLITE_RETRY, SQLITE_PATIENCE = 0.0005, 30.0  # seconds
COLUMNS = "webhook_event_id, source_key, event_type, body, state, received_at"


@cache
def _insert_sql(dialect: str, n: int) -> str:
    """INSERT of ``n`` rows, ``ON CONFLICT DO NOTHING`` on webhookEventId, returning the
    rows that were new (their event id, to tell each request its own, and chat)."""
    row = "(%s, %s, %s, CAST(%s AS json), %s, %s)" if dialect == "postgresql" else "(?, ?, ?, ?, ?, ?)"
    return (f"INSERT INTO {WebhookEvent.__tablename__} ({COLUMNS}) VALUES {', '.join([row] * n)} "
            "ON CONFLICT (webhook_event_id) DO NOTHING RETURNING webhook_event_id, source_key")


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


@dataclass(eq=False)
class _Ticket:
    """One request's rows in the queue, and what became of them."""

    rows: list[tuple[Any, ...]]
    done: bool = False
    new: dict[str, str] = field(default_factory=dict)  # event id -> chat, of the rows that were new
    error: BaseException | None = None


class GroupWriter:
    """One per process: queues requests' rows; a request that finds a free writer slot
    writes everything queued. One slot on SQLite (its writes take turns on the file lock
    anyway); a few on PostgreSQL, so that one commit waiting on a slow WAL flush does not
    hold up every request of the process behind it."""

    def __init__(self) -> None:
        self._state = threading.Condition()
        self._queue: list[_Ticket] = []
        self._writers = 0

    def write(self, rows: list[tuple[Any, ...]]) -> dict[str, str]:
        """Store ``rows`` (with whatever else is queued) and commit; the new ones' chats by event id."""
        ticket = _Ticket(rows)
        with self._state:
            self._queue.append(ticket)
        slots = POSTGRES_WRITERS if get_engine().dialect.name == "postgresql" else 1
        while True:
            with self._state:
                # wait while every slot is busy, or while this ticket is in another writer's group
                while (self._writers >= slots or not self._queue) and not ticket.done:
                    self._state.wait()
                if ticket.done:
                    if ticket.error is not None:
                        raise RuntimeError("storing webhook events failed") from ticket.error
                    return ticket.new
                self._writers += 1
                group = self._take()
            self._write(group)

    def _write(self, group: list[_Ticket]) -> None:
        found: dict[str, str] = {}
        error: BaseException | None = None
        try:
            found = _insert([row for member in group for row in member.rows])
        except BaseException as exc:  # every request of the group answers for it
            error = exc
        with self._state:
            for member in group:
                member.done, member.error = True, error
                member.new = {row[0]: found[row[0]] for row in member.rows if row[0] in found}
            self._writers -= 1
            self._state.notify_all()

    def _take(self) -> list[_Ticket]:
        """The queue's head, up to MAX_GROUP_ROWS rows (at least one request)."""
        size, count = 0, 0
        for ticket in self._queue:
            if count and size + len(ticket.rows) > MAX_GROUP_ROWS:
                break
            size, count = size + len(ticket.rows), count + 1
        group, self._queue = self._queue[:count], self._queue[count:]
        return group


_writer = GroupWriter()


def store(events: list[dict[str, Any]]) -> set[str]:
    """Store new events (grouped with concurrent requests' events) and commit; returns the
    chats with new work."""
    rows = rows_of(events, get_engine().dialect)
    if not rows:
        return set()
    return set(_writer.write(rows).values())


class IntakeConnections:
    """The database connections a process's intake writes through (as many as writes run at
    once: see GroupWriter). Kept out of the pool and set up once — autocommit on PostgreSQL
    (one round trip per write, no BEGIN/COMMIT), no busy wait on SQLite (see _sqlite_insert)
    — instead of a pool checkout (with PostgreSQL's pre-ping round trip) and two PRAGMAs per
    write. A connection is dropped after any error, all of them when the engine or the
    process (a fork) changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: list[Any] = []
        self._owner: tuple[int, int] | None = None

    def acquire(self) -> Any:
        engine = get_engine()
        owner = (id(engine), os.getpid())
        with self._lock:
            if self._owner != owner:
                stale, self._free, self._owner = self._free, [], owner
            else:
                stale = []
            conn = self._free.pop() if self._free else None
        for old in stale:
            self.drop(old)
        if conn is None:
            conn = engine.raw_connection()
            if engine.dialect.name == "postgresql":
                conn.driver_connection.autocommit = True
            else:
                conn.driver_connection.execute("PRAGMA busy_timeout=0")
        return conn

    def release(self, conn: Any) -> None:
        with self._lock:
            self._free.append(conn)

    @staticmethod
    def drop(conn: Any) -> None:
        try:
            conn.invalidate()  # never back to the pool: it is set up for intake only
        except Exception:  # already broken: nothing to give back
            log.warning("dropping an intake connection failed", exc_info=True)


_connections = IntakeConnections()


def _insert(rows: list[tuple[Any, ...]]) -> dict[str, str]:
    """One INSERT of these rows, committed; the new rows' chats by event id. Straight to
    the driver (SQLAlchemy's statement machinery cost more than the INSERT)."""
    conn = _connections.acquire()
    params = [value for row in rows for value in row]
    try:
        if get_engine().dialect.name == "postgresql":
            with conn.cursor() as cur:
                cur.execute(_insert_sql("postgresql", len(rows)), params)
                found = dict(cur.fetchall())
        else:
            found = _sqlite_insert(conn, _insert_sql("sqlite", len(rows)), params)
    except BaseException:
        _connections.drop(conn)
        raise
    _connections.release(conn)
    return found


def _sqlite_insert(conn: Any, sql: str, params: list[Any]) -> dict[str, str]:
    """Insert and commit, retrying every half millisecond while another process writes.

    SQLite's own busy wait sleeps 1, 2, 5, 10, 15 ms... between tries, and the handler
    process writes after every event; so the intake connection asks SQLite not to wait and
    tries again itself, for as long as the busy timeout would have (then raises)."""
    deadline = time.monotonic() + SQLITE_PATIENCE
    cur = conn.cursor()
    try:
        while True:
            try:
                cur.execute(sql, params)
                found = dict(cur.fetchall())
                conn.commit()
                return found
            except sqlite3.OperationalError as exc:
                conn.rollback()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(SQLITE_RETRY)
    finally:
        cur.close()
