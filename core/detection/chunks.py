"""Detection as work any worker can take: a cycle is a set of home-id ranges ("chunks").

The clock's detect step only enqueues (:func:`enqueue_cycle`): the homes a cycle watches,
in id order, cut into ranges of ``CHUNK_HOMES`` that together cover every id, one
``DetectionChunk`` row each (written once per half-hour: enqueueing again changes
nothing). ``mimamori worker`` processes take them (:func:`run_due_chunks`):

    claim one undone chunk  (FOR UPDATE SKIP LOCKED: no two workers hold the same one)
    evaluate its homes      (core.detection.live.detect_range, the same code as one process)
    mark it done            (same transaction as the incidents it opened)

So a chunk's effects commit exactly once. A worker killed mid-chunk loses its
transaction; PostgreSQL releases the row lock and the next worker to look takes the chunk.
Nothing to time out: the row lock is the lease.

On SQLite there is one process and no SKIP LOCKED: :func:`detect_cycle` evaluates every
home itself, as before. On PostgreSQL the clock enqueues, and when it also runs the worker
jobs (``MIMAMORI_CLOCK_RUNS_WORKERS``, the default) it drains the chunks itself too,
beside any workers.

A detecting process reads every stored baseline when it first looks for work (the warm-up:
:func:`core.detection.live.warm_baselines`), so its first cycle is no slower than the next.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core import clock
from core.db import is_postgres, session_scope
from core.detection import live
from core.leader import identity
from core.logging import log_event, redact_error
from core.models import DetectionChunk, Home
from core.settings import get_settings

log = logging.getLogger(__name__)

MAX_HOME_ID = 2**31 - 1
MAX_FAILURES = 3  # a chunk whose evaluation raised this often is left for the operator, not retried forever
KEEP_DONE = timedelta(days=2)  # finished chunks kept this long (for `status` and tests), then deleted


def chunk_homes() -> int:
    return get_settings().detection_chunk_homes


def ranges(ids: list[int], size: int) -> list[tuple[int, int, int]]:
    """(lo, hi, homes) covering every id from 0 to MAX_HOME_ID, ``size`` listed ids each."""
    starts = ids[::size]
    out = []
    for k in range(len(starts)):
        lo = 0 if k == 0 else starts[k]
        hi = starts[k + 1] - 1 if k + 1 < len(starts) else MAX_HOME_ID
        out.append((lo, hi, min(size, len(ids) - k * size)))
    return out


def enqueue_cycle(session: Session, now: datetime, size: int | None = None) -> int:
    """Write the chunks of the cycle at ``now`` (once: a second call adds none); returns how many are new."""
    ids = list(session.scalars(select(Home.id).where(*live.watched_at(now)).order_by(Home.id)))
    rows = [{"cycle_at": now, "lo_home_id": lo, "hi_home_id": hi, "homes": n}
            for lo, hi, n in ranges(ids, size or chunk_homes())]
    session.execute(delete(DetectionChunk).where(DetectionChunk.done_at < now - KEEP_DONE))
    if not rows:
        return 0
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = insert(DetectionChunk).values(rows).on_conflict_do_nothing().returning(DetectionChunk.lo_home_id)
    added = len(session.execute(stmt).all())
    log_event(log, "detection.cycle_enqueued", cycle_at=now.isoformat(), chunks=len(rows), new=added, homes=len(ids))
    return added


def _claim(session: Session) -> DetectionChunk | None:
    stmt = (
        select(DetectionChunk).where(DetectionChunk.done_at.is_(None), DetectionChunk.failures < MAX_FAILURES)
        .order_by(DetectionChunk.cycle_at, DetectionChunk.lo_home_id).limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(stmt).first()


def warm(session: Session) -> None:
    """Read every stored baseline once per process (before the first chunk)."""
    started = time.perf_counter()
    count = live.warm_baselines(session)
    if count is not None:
        log_event(log, "detection.baselines_warmed", homes=count, seconds=round(time.perf_counter() - started, 3))


def run_due_chunks(limit: int = 4) -> int:
    """Claim and evaluate up to ``limit`` chunks, one transaction each; returns how many ran."""
    done = 0
    with session_scope() as session:
        if not is_postgres(session):
            return 0  # SQLite: the clock's detect step evaluates every home itself
        warm(session)
    while done < limit:
        with session_scope() as session:
            chunk = _claim(session)
            if chunk is None:
                break
            key = (chunk.cycle_at, chunk.lo_home_id)
            started = time.perf_counter()
            try:
                with session.begin_nested():
                    evaluated, opened = live.detect_range(session, *key, chunk.hi_home_id)
            except Exception as exc:
                # Its incidents rolled back; counted, so a chunk that always fails does not
                # hold up every later cycle (claims go oldest first).
                chunk.failures += 1
                chunk.last_error = redact_error(f"{type(exc).__name__}: {exc}")[:500]
                log.exception("detection.chunk_failed", extra={"lo": chunk.lo_home_id, "failures": chunk.failures})
                done += 1
                continue
            chunk.evaluated, chunk.opened = evaluated, len(opened)
            chunk.done_at, chunk.done_by = clock.now(), identity()
            chunk.seconds = time.perf_counter() - started
        log_event(log, "detection.chunk_done", cycle_at=key[0].isoformat(), lo=key[1],
                  evaluated=evaluated, opened=len(opened), seconds=round(chunk.seconds, 3))
        done += 1
    return done


def detect_cycle(now: datetime) -> int:
    """The meter cycle's detect step; returns how many incidents (SQLite) or chunks (PostgreSQL) it handled."""
    with session_scope() as session:
        if not is_postgres(session):
            return len(live.run_detection(session, now))
        enqueue_cycle(session, now)
    if not get_settings().mimamori_clock_runs_workers:
        return 0  # the workers take the chunks
    ran = 0
    while batch := run_due_chunks():
        ran += batch
    return ran
