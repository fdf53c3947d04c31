"""Claims that end with the process holding them: session advisory locks on one connection.

A worker claims a row by taking a PostgreSQL session-level advisory lock ``(kind, id)`` on a
connection it keeps open for its whole life. The claim lasts exactly as long as that
database session: a SIGKILLed worker's socket closes, PostgreSQL ends the session and every
claim it held is free at once (a vanished machine: when the TCP keepalives set here go
unanswered, about 30 s), while a live worker keeps its claims however slow its sends are —
there is no lease to outrun. Readers find claimed rows through ``pg_locks``
(:func:`claimed_ids_sql`), so a claimed row needs no column of its own.

Kinds name what is claimed (:class:`ClaimKind`); a kind may also claim a hashed string
(:func:`string_key`), e.g. a phone number, to keep one send per recipient in flight.
Issue 16's detection chunks can sit beside the outbox as another kind.

On SQLite there is one process by construction: the same interface keeps an in-process set.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import zlib
from collections.abc import Iterable
from enum import IntEnum

from sqlalchemy import Connection, Engine, text

from core.db import get_engine, is_postgres
from core.logging import log_event

log = logging.getLogger(__name__)
APPLICATION_NAME = "mimamori-claims"


class ClaimKind(IntEnum):
    """The first half of an advisory lock key (PostgreSQL's two-int4 form): what is claimed."""

    OUTBOX_ROW = 0x6D6D0001
    OUTBOX_RECIPIENT = 0x6D6D0002


Key = tuple[int, int]


def string_key(kind: ClaimKind, value: str) -> Key:
    """A claim key for a string (a phone number): a stable signed 32-bit hash. A collision only
    makes two recipients wait for each other, never both go at once."""
    h = zlib.crc32(value.encode())
    return int(kind), h - (1 << 32) if h >= (1 << 31) else h


def claimed_ids_sql(kind: ClaimKind) -> str:
    """SQL for the ids of ``kind`` claimed by any live session in this database (PostgreSQL)."""
    return ("SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted"
            f" AND classid = {int(kind)}::oid"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


class ClaimHolder:
    """One process's claims. Thread-safe: the dispatcher, the clock and tests share one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = is_postgres(engine)
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._held: set[Key] = set()
        self.generation = 0  # goes up when the connection (and so every claim) was lost

    def _connect(self) -> Connection:
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("SELECT set_config('application_name', :n, false)"),
                     {"n": f"{APPLICATION_NAME}:{os.getpid()}"})
        for setting, value in (("tcp_keepalives_idle", 10), ("tcp_keepalives_interval", 5),
                               ("tcp_keepalives_count", 3)):
            conn.execute(text(f"SET {setting} = {int(value)}"))
        return conn

    def _lost(self, exc: Exception) -> None:
        log_event(log, "claims.connection_lost", logging.WARNING, error=type(exc).__name__, held=len(self._held))
        self._held.clear()
        self.generation += 1
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def try_claim(self, keys: Iterable[Key]) -> set[Key]:
        """Claim what is free of ``keys``; returns those this call took. A key another thread
        of this process already holds is not free: claims are exclusive within a process too."""
        with self._lock:
            fresh = [k for k in dict.fromkeys(keys) if k not in self._held]
            if not fresh:
                return set()
            if not self.postgres:
                self._held.update(fresh)
                return set(fresh)
            try:
                if self._conn is None:
                    self._conn = self._connect()
                rows = self._conn.execute(
                    text("SELECT k, n FROM unnest(CAST(:k AS int[]), CAST(:n AS int[])) AS t(k, n)"
                         " WHERE pg_try_advisory_lock(k, n)"),
                    {"k": [k for k, _ in fresh], "n": [n for _, n in fresh]},
                ).all()
            except Exception as exc:
                self._lost(exc)
                return set()
            got = {(int(k), int(n)) for k, n in rows}
            self._held.update(got)
            return got

    def release(self, keys: Iterable[Key]) -> None:
        """Give claims back (after the outcome is committed, never before)."""
        with self._lock:
            mine = [k for k in dict.fromkeys(keys) if k in self._held]
            self._held.difference_update(mine)
            if not mine or not self.postgres or self._conn is None:
                return
            try:
                self._conn.execute(
                    text("SELECT pg_advisory_unlock(k, n)"
                         " FROM unnest(CAST(:k AS int[]), CAST(:n AS int[])) AS t(k, n)"),
                    {"k": [k for k, _ in mine], "n": [n for _, n in mine]},
                )
            except Exception as exc:
                self._lost(exc)

    def alive(self) -> bool:
        """Is the session behind the claims still there? (A lost one means they are gone.)"""
        if not self.postgres:
            return True
        with self._lock:
            if self._conn is None:
                return not self._held
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except Exception as exc:
                self._lost(exc)
                return False

    def close(self) -> None:
        with self._lock:
            self._held.clear()
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None


_holder: ClaimHolder | None = None
_holder_lock = threading.Lock()


def holder() -> ClaimHolder:
    """This process's claim holder, for the current engine (rebuilt if the engine changed)."""
    global _holder
    engine = get_engine()
    with _holder_lock:
        if _holder is None or _holder.engine is not engine:
            if _holder is not None:
                _holder.close()
            _holder = ClaimHolder(engine)
        return _holder
