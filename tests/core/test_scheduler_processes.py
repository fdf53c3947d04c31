"""Real processes: one active clock with a hot standby, workers that stop cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.jobs import JobSpec
from core.leader import current_leader
from core.scheduler import start_in_process
from core.worker import Worker
from tests.processes import Process


@pytest.fixture
def process_env(db, database_url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "MIMAMORI_ENV": "dev", "LOG_FORMAT": "json",
           "SCHEDULER_STANDBY_RETRY_SECONDS": "2", "WORKER_IDLE_SECONDS": "1"}
    return env


def test_standby_clock_takes_over_within_a_minute_when_the_leader_is_killed(
    database_url: str, process_env, processes, engine
) -> None:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the clock's leader lock is a PostgreSQL advisory lock; on SQLite `mimamori serve`"
                    " runs the one scheduler in-process")
    first = Process("scheduler", env=process_env)
    processes.append(first)
    first.wait_for("scheduler.leader", 60)
    second = Process("scheduler", env=process_env)
    processes.append(second)
    second.wait_for("scheduler.standby", 60)
    assert "scheduler.leader" not in second.names()
    assert current_leader(engine) is not None

    first.proc.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    first.proc.wait(10)
    second.wait_for("scheduler.leader", 60)
    assert time.monotonic() - killed_at < 60
    second.wait_for("scheduler.started", 30)
    assert current_leader(engine) is not None

    second.proc.send_signal(signal.SIGTERM)
    assert second.proc.wait(30) == 0
    assert "scheduler.stopped" in second.names()
    assert current_leader(engine) is None  # a clean stop releases the lock at once


def test_worker_stops_cleanly_on_sigterm(process_env, processes) -> None:
    worker = Process("worker", env=process_env)
    processes.append(worker)
    started = worker.wait_for("worker.started", 60)
    assert started["loops"] == ["escalation_tick", "outbox_dispatch", "detect_chunks"]
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(30) == 0
    assert "worker.stopped" in worker.names()


def test_worker_loop_goes_straight_back_while_there_is_work(db, settings) -> None:
    results = iter([5, 5, 5, 0])
    calls: list[int] = []
    idle = threading.Event()

    def claim_batch() -> int:
        n = next(results, 0)
        calls.append(n)
        if n == 0:
            idle.set()
        return n

    settings.worker_idle_seconds = 60  # an idle wait would stall the test, a busy loop does not
    worker = Worker(settings, specs=(JobSpec("claims", claim_batch, 1, call="plain", worker=True),))
    worker.start()
    try:
        assert idle.wait(20)
    finally:
        worker.stop()
        worker.join(10)
    assert calls[:4] == [5, 5, 5, 0]
    assert all(not t.is_alive() for t in worker.threads)


def test_serve_runs_the_scheduler_in_process(db, settings) -> None:
    service = start_in_process(settings)
    try:
        assert service.leading.wait(30)
        assert service.scheduler is not None
        assert {job.id for job in service.scheduler.get_jobs()} >= {"meter_cycle", "escalation_tick"}
    finally:
        service.stop()
        service.thread.join(30)
    assert not service.thread.is_alive()
    assert not service.leading.is_set()


def test_a_leader_whose_database_session_dies_stands_by_and_leads_again(db, settings, database_url, engine) -> None:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the leader lock is a PostgreSQL advisory lock")
    settings.scheduler_standby_retry_seconds = 1
    service = start_in_process(settings)
    try:
        assert service.leading.wait(30)
        leader = current_leader(engine)
        assert leader is not None and leader["application_name"] == "mimamori-clock"
        with engine.connect() as conn:  # what a failover or a network cut does to the session
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": leader["pid"]})
        deadline = time.monotonic() + 30
        while service.terms < 2:
            assert time.monotonic() < deadline, "the scheduler did not take the lock again"
            time.sleep(0.2)
        assert current_leader(engine)["pid"] != leader["pid"]
    finally:
        service.stop()
        service.thread.join(30)


def test_two_workers_share_the_outbox_and_send_each_message_once(process_env, processes, fake_line) -> None:
    """Real worker processes, the real dispatcher, a local LINE API: all sent, none twice."""
    from sqlalchemy import func, select

    from core.db import session_scope
    from core.enums import Channel, OutboxState
    from core.models import OutboxMessage
    from core.outbox import enqueue

    users = [f"U{n:032x}" for n in range(40)]
    with session_scope() as s:
        for user in users:
            enqueue(s, channel=Channel.LINE, recipient=user, key=f"share:{user}",
                    payload={"messages": [{"type": "text", "text": "こんにちは"}]})
    env = {**process_env, "LINE_API_BASE_URL": fake_line.url, "LINE_CHANNEL_ACCESS_TOKEN": "test-access-token"}
    for _ in range(2):
        processes.append(Process("worker", env=env))
    deadline = time.monotonic() + 90
    while True:
        with session_scope() as s:
            sent = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.state == OutboxState.SENT))
        if sent == len(users):
            break
        assert time.monotonic() < deadline, f"only {sent} of {len(users)} sent; {processes[0].events[-5:]}"
        time.sleep(0.5)
    for p in processes:
        p.proc.send_signal(signal.SIGTERM)
    assert [p.proc.wait(30) for p in processes] == [0, 0]
    assert sorted(to for call in fake_line.state.calls for to in call.to) == sorted(users)
