"""Detection chunks: a cycle cut into home-id ranges, each evaluated once, by whoever takes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import is_postgres, session_scope
from core.detection import chunks
from core.detection.live import refresh_baselines
from core.models import DetectionChunk, Incident

from .test_live import EMERGENCIES, NOW, _home_with_history


def test_ranges_cover_every_id_once_with_size_homes_each() -> None:
    got = chunks.ranges([3, 5, 9, 12, 40], 2)
    assert got == [(0, 8, 2), (9, 39, 2), (40, chunks.MAX_HOME_ID, 1)]
    assert chunks.ranges([], 2) == []


def seed_cycle(make_home, quiet: int = 2, normal: int = 3) -> tuple[set[int], set[int]]:
    """Ready homes with stored baselines: ``quiet`` whose senior stopped moving, ``normal`` fine."""
    quiet_ids = {_home_with_history(make_home, 10 + k, "quiet").id for k in range(quiet)}
    normal_ids = {_home_with_history(make_home, 20 + k, "normal").id for k in range(normal)}
    with session_scope() as s:
        refresh_baselines(s, NOW)
    return quiet_ids, normal_ids


def emergencies_by_home() -> dict[int, int]:
    with session_scope() as s:
        out: dict[int, int] = {}
        for inc in s.scalars(select(Incident)):
            if inc.kind in EMERGENCIES:
                out[inc.home_id] = out.get(inc.home_id, 0) + 1
        return out


def done_chunks(cycle_at) -> list[DetectionChunk]:
    with session_scope() as s:
        return list(s.scalars(select(DetectionChunk).where(DetectionChunk.cycle_at == cycle_at)
                              .order_by(DetectionChunk.lo_home_id)))


def test_a_cycle_is_enqueued_once_per_half_hour(make_home, clock) -> None:
    seed_cycle(make_home, quiet=1, normal=4)
    with session_scope() as s:
        assert chunks.enqueue_cycle(s, NOW, size=2) == 3
    with session_scope() as s:
        assert chunks.enqueue_cycle(s, NOW, size=2) == 0  # the clock ran twice: nothing new
    rows = done_chunks(NOW)
    assert [r.homes for r in rows] == [2, 2, 1] and all(r.done_at is None for r in rows)


def test_chunks_are_evaluated_once_each_and_every_home_once(make_home, clock, database_url) -> None:
    quiet, normal = seed_cycle(make_home)
    clock.set(NOW)
    with session_scope() as s:
        if not is_postgres(s):
            # SQLite: the one process evaluates every home at the detect step, as before.
            assert chunks.run_due_chunks() == 0
            assert chunks.detect_cycle(NOW) == len(quiet)
            assert emergencies_by_home() == dict.fromkeys(quiet, 1)
            return
        chunks.enqueue_cycle(s, NOW, size=2)
    assert chunks.run_due_chunks(limit=10) == 3
    assert chunks.run_due_chunks(limit=10) == 0  # never twice for the same half-hour
    rows = done_chunks(NOW)
    assert sum(r.evaluated for r in rows) == len(quiet | normal)
    assert all(r.done_at is not None and r.done_by for r in rows)
    assert emergencies_by_home() == dict.fromkeys(quiet, 1)


def test_the_clock_step_enqueues_and_drains_when_it_runs_the_workers(make_home, clock, settings) -> None:
    quiet, _ = seed_cycle(make_home)
    clock.set(NOW)
    handled = chunks.detect_cycle(NOW)
    with session_scope() as s:
        postgres = is_postgres(s)
    assert handled == (1 if postgres else len(quiet))  # one chunk of 5,000 on PostgreSQL
    assert emergencies_by_home() == dict.fromkeys(quiet, 1)
    assert chunks.detect_cycle(NOW + timedelta(minutes=30)) in (0, 1)
    assert emergencies_by_home() == dict.fromkeys(quiet, 1)  # once per situation


def test_with_separate_workers_the_clock_only_enqueues(make_home, clock, settings, monkeypatch) -> None:
    with session_scope() as s:
        if not is_postgres(s):
            pytest.skip("on SQLite the one process detects at the clock's step")
    seed_cycle(make_home, quiet=1, normal=1)
    monkeypatch.setattr(settings, "mimamori_clock_runs_workers", False)
    assert chunks.detect_cycle(NOW) == 0
    assert [r.done_at for r in done_chunks(NOW)] == [None]
    assert emergencies_by_home() == {}


def test_a_chunk_that_keeps_failing_stops_being_retried_and_later_cycles_still_run(
    make_home, clock, monkeypatch
) -> None:
    with session_scope() as s:
        if not is_postgres(s):
            pytest.skip("chunks are claimed by workers on PostgreSQL only")
    quiet, normal = seed_cycle(make_home, quiet=1, normal=1)
    clock.set(NOW)
    real = chunks.live.detect_range

    def broken(session, now, lo, hi):
        if now == NOW:
            raise RuntimeError("detector bug")
        return real(session, now, lo, hi)

    monkeypatch.setattr(chunks.live, "detect_range", broken)
    with session_scope() as s:
        chunks.enqueue_cycle(s, NOW, size=5)
    for _ in range(chunks.MAX_FAILURES):
        assert chunks.run_due_chunks(limit=1) == 1
    assert chunks.run_due_chunks(limit=1) == 0  # given up on: not claimed again
    [row] = done_chunks(NOW)
    assert row.done_at is None and row.failures == chunks.MAX_FAILURES and "detector bug" in row.last_error
    assert emergencies_by_home() == {}  # nothing half-applied

    later = NOW + timedelta(minutes=30)
    with session_scope() as s:
        chunks.enqueue_cycle(s, later, size=5)
    assert chunks.run_due_chunks(limit=5) == 1
    assert [r.evaluated for r in done_chunks(later)] == [len(quiet | normal)]
