"""Two real ``mimamori worker`` processes share a cycle's detection; one is killed mid-chunk.

PostgreSQL only (SKIP LOCKED). To catch a worker in the middle of a chunk, the test holds
an exclusive lock on meter_reading: a worker that claimed a chunk waits there, inside the
chunk's transaction, until the test lets go.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db import session_scope
from core.detection import chunks
from tests.processes import Process

from .test_chunks import done_chunks, emergencies_by_home, seed_cycle
from .test_live import NOW


def _waiting_on_readings(engine) -> int:
    """Worker backends of this database blocked on the meter_reading lock right now."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE '%meter_reading%'"
        )).scalar_one()


def _until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _all_done(cycle_at) -> bool:
    rows = done_chunks(cycle_at)
    return bool(rows) and all(r.done_at is not None for r in rows)


@pytest.fixture
def worker_env(db, database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "MIMAMORI_ENV": "dev", "LOG_FORMAT": "json",
            "WORKER_IDLE_SECONDS": "0.5", "DETECTION_CHUNK_HOMES": "2"}


def test_every_home_is_evaluated_once_per_cycle_even_when_a_worker_dies_mid_chunk(
    database_url, engine, make_home, clock, worker_env, processes
) -> None:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("workers claim chunks with SKIP LOCKED on PostgreSQL; SQLite detects in its one process")
    quiet, normal = seed_cycle(make_home, quiet=3, normal=4)  # 7 homes: chunks of 2, 2, 2, 1
    with session_scope() as s:
        assert chunks.enqueue_cycle(s, NOW, size=2) == 4

    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE meter_reading IN ACCESS EXCLUSIVE MODE"))
        doomed = Process("worker", env=worker_env)
        processes.append(doomed)
        _until(lambda: _waiting_on_readings(engine) == 1, 60, "the first worker to be inside a chunk")
        survivor = Process("worker", env=worker_env)
        processes.append(survivor)
        _until(lambda: _waiting_on_readings(engine) == 2, 60, "the second worker to take another chunk")
        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.wait(10)
        blocker.rollback()  # let go: the dead worker's transaction rolls back, its chunk is free

    _until(lambda: _all_done(NOW), 90, "every chunk of the cycle to be done")
    rows = done_chunks(NOW)
    host = socket.gethostname()
    assert {r.done_by for r in rows} == {f"{host}:{survivor.proc.pid}"}  # including the dead one's
    assert sum(r.evaluated for r in rows) == len(quiet | normal) == sum(r.homes for r in rows)
    assert emergencies_by_home() == dict.fromkeys(quiet, 1)

    # The next half-hour, two live workers share it: still every home once.
    second = Process("worker", env=worker_env)
    processes.append(second)
    later = NOW + timedelta(minutes=30)
    with session_scope() as s:
        chunks.enqueue_cycle(s, later, size=2)
    _until(lambda: _all_done(later), 90, "every chunk of the next cycle to be done")
    rows = done_chunks(later)
    assert sum(r.evaluated for r in rows) == len(quiet | normal)
    assert {r.done_by for r in rows} <= {f"{host}:{survivor.proc.pid}", f"{host}:{second.proc.pid}"}
    assert emergencies_by_home() == dict.fromkeys(quiet, 1)  # once per situation, not once per worker
