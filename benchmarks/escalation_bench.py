"""1,000 incidents opened at once: how long until all are through their first step?

Creates a scratch PostgreSQL database, 1,000 homes (resident called by voice, one
watcher), opens 1,000 incidents in one transaction, then runs the escalation tick in
``--workers`` threads (SKIP LOCKED shares the work) until nothing is due, and the
dispatcher (to recording fake channels) until the outbox is empty. Drops the database.

    .venv/bin/python benchmarks/escalation_bench.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import timedelta

from scratch_db import scratch_postgres  # benchmarks/scratch_db.py, beside this script
from sqlalchemy import event, func, select

from core import clock, db, migrate
from core.enums import Channel, ContactMethod, HomeStatus, IncidentKind, OutboxState
from core.escalation import dispatcher, engine
from core.escalation.channels.fakes import RecordingSender
from core.incidents import open_incident
from core.models import EscalationAttempt, Home, HomeWatcher, OutboxMessage, Resident, Watcher
from core.settings import Settings, use_settings


def _parallel(workers: int, job) -> None:
    threads = [threading.Thread(target=job) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="profile one tick in the main thread")
    args = parser.parse_args()

    with scratch_postgres(args.url) as url:
        migrate.upgrade(url)
        settings = Settings(database_url=url, public_base_url="http://127.0.0.1:8000")
        use_settings(settings)
        db.init_db(settings)
        n = args.incidents
        with db.session_scope() as s:
            for i in range(n):
                home = Home(meter_id=f"bench{i:06d}", status=HomeStatus.ACTIVE)
                s.add(home)
                s.flush()
                s.add(Resident(home_id=home.id, display_name=f"住人{i}", phone=f"+8190{i:08d}",
                               preferred_contact=ContactMethod.VOICE, consent_given_at=clock.now()))
                watcher = Watcher(line_user_id=f"U{i:032x}", display_name=f"家族{i}")
                s.add(watcher)
                s.flush()
                s.add(HomeWatcher(home_id=home.id, watcher_id=watcher.id))
        with db.session_scope() as s:
            homes = s.scalars(select(Home)).all()
            for home in homes:
                open_incident(s, home, IncidentKind.NO_WAKE, window_start=clock.now() - timedelta(hours=2),
                              evidence={})

        statements = [0]
        event.listen(db.get_engine(), "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
        start = time.perf_counter()
        if args.profile:
            import cProfile

            cProfile.runctx("engine.tick(limit=10_000, settings=settings)", globals(), locals(), sort="tottime")
        _parallel(args.workers, lambda: engine.tick(limit=10_000, settings=settings))
        stepped = time.perf_counter() - start
        step_statements = statements[0]
        fake = RecordingSender()
        channels = {c: fake for c in Channel}

        def drain() -> None:
            while dispatcher.dispatch_due(limit=100, channels=channels, settings=settings):
                pass

        _parallel(args.workers, drain)
        total = time.perf_counter() - start
        dispatch_statements = statements[0] - step_statements
        with db.session_scope() as s:
            attempts = s.scalar(select(func.count(EscalationAttempt.id)))
            sent = s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.state == OutboxState.SENT))
        dupes = sum(1 for c in fake.counts().values() if c > 1)
        print(f"incidents: {n}, workers: {args.workers}")
        print(f"first step run for all (attempt + outbox row written): {stepped:.2f} s")
        print(f"... and every call handed to the channel (dispatcher): {total:.2f} s")
        print(f"SQL statements per incident: {step_statements / n:.1f} (step), "
              f"{dispatch_statements / n:.1f} (dispatch) — machine-independent")
        print(f"attempts: {attempts}, outbox sent: {sent}, sends: {len(fake.sent)}, duplicates: {dupes}")
        assert attempts == n and sent == n and len(fake.sent) == n and dupes == 0
        db.get_engine().dispose()  # (the drop forces off any connection left if this is not reached)


if __name__ == "__main__":
    main()
