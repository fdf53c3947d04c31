"""One active scheduler: a PostgreSQL session-level advisory lock on a dedicated connection.

Whoever holds the lock runs the jobs; every other ``clock`` waits as a hot standby and
tries again every few seconds. The lock lives exactly as long as the leader's database
session, so a leader that dies (crash, SIGKILL, lost machine) releases it without anyone
cleaning up: PostgreSQL ends the session when the socket closes, or, for a machine that
vanished, when the TCP keepalives set on that session go unanswered (about 30 s).

On SQLite there is one process by construction (``mimamori serve``): the lock is a no-op.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from typing import Any

from sqlalchemy import Connection, Engine, text

from core.db import is_postgres
from core.logging import log_event

log = logging.getLogger(__name__)

# A fixed 64-bit key; advisory locks are per database, so test databases never collide.
SCHEDULER_LOCK_KEY = 0x6D696D616D6F7269 & 0x7FFFFFFFFFFFFFFF  # "mimamori"
APPLICATION_NAME = "mimamori-clock"


class LeaderLock:
    """Try, hold, check and release the scheduler's advisory lock."""

    def __init__(self, engine: Engine, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self.postgres = is_postgres(engine)
        self._conn: Connection | None = None
        self.held = False

    def _connect(self) -> Connection:
        # A connection of its own (give an engine with NullPool), in autocommit: the lock must
        # not ride on a connection that a transaction could roll back or a pool could reuse.
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": APPLICATION_NAME})
        for setting, value in (("tcp_keepalives_idle", 10), ("tcp_keepalives_interval", 5),
                               ("tcp_keepalives_count", 3)):
            conn.execute(text(f"SET {setting} = {int(value)}"))
        return conn

    def try_acquire(self) -> bool:
        """True if this process is (now) the leader. Never blocks."""
        if not self.postgres:
            self.held = True
            return True
        if self.held:
            return self.still_held()
        try:
            if self._conn is None:
                self._conn = self._connect()
            got = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        except Exception as exc:
            log_event(log, "scheduler.lock_error", logging.WARNING, error=type(exc).__name__)
            self._drop_connection()
            return False
        self.held = got
        return got

    def still_held(self) -> bool:
        """Check the session behind the lock is alive; a dead session means the lock is gone."""
        if not self.postgres:
            return self.held
        if not self.held or self._conn is None:
            return False
        try:
            held = self._conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :k"
                ),
                {"k": self.key},
            ).scalar()
        except Exception as exc:
            log_event(log, "scheduler.lock_lost", logging.ERROR, error=type(exc).__name__)
            self.held = False
            self._drop_connection()
            return False
        self.held = bool(held)
        return self.held

    def release(self) -> None:
        if self.postgres and self._conn is not None and self.held:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            except Exception:
                log.warning("scheduler.unlock_failed")
        self.held = False
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def identity() -> str:
    """Which process this is, for logs and ``mimamori status`` (host and pid, no secrets)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def current_leader(engine: Engine, key: int = SCHEDULER_LOCK_KEY) -> dict[str, Any] | None:
    """Who holds the scheduler lock now (PostgreSQL only): backend pid, client, since."""
    if not is_postgres(engine):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT a.pid, host(a.client_addr) AS client, a.backend_start, a.application_name"
                " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted"
                " AND ((l.classid::bigint << 32) | l.objid::bigint) = :k AND l.database = "
                " (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"k": key},
        ).mappings().first()
    return dict(row) if row else None
