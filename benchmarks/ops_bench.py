"""How much a /metrics scrape and `mimamori status` cost at a retailer's scale.

Usage (PostgreSQL; a scratch database is created and dropped):

    .venv/bin/python benchmarks/ops_bench.py --homes 100000 \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/test

It fills ``--homes`` homes (lags spread over 0-12 h, 1% with a gap), 1% with an open
incident, 20,000 outbox rows (pending, sent, failed), then times the metrics snapshot and
the status snapshot (with its lists) a few times and prints the median.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from scratch_db import scratch_postgres  # benchmarks/scratch_db.py, beside this script
from sqlalchemy import insert, text

from core import migrate
from core.db import init_db, make_engine, session_scope
from core.enums import Channel, HomeStatus, IncidentKind, OutboxState
from core.models import Home, Incident, OutboxMessage
from core.operations import snapshot


def fill(url: str, homes: int, now: datetime) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        rows = [
            {"meter_id": f"03{i:020d}", "status": HomeStatus.ACTIVE, "timezone": "Asia/Tokyo",
             "last_reading_at": now - timedelta(minutes=(i * 7) % 720),
             "data_gap_since": now - timedelta(hours=5) if i % 100 == 0 else None, "created_at": now,
             "wake_grace_minutes": 90, "over_usage_percent": 50, "night_watch_enabled": False,
             "daily_report_time": dtime(8, 0)}
            for i in range(homes)
        ]
        for start in range(0, homes, 10_000):
            conn.execute(insert(Home), rows[start:start + 10_000])
        ids = [r[0] for r in conn.execute(text("SELECT id FROM home ORDER BY id"))]
        conn.execute(insert(Incident), [
            {"home_id": h, "kind": IncidentKind.NO_WAKE, "state": "open", "window_start": now, "detected_at": now,
             "evidence": {}, "step_index": 0, "fence": 0}
            for h in ids[:: 100]
        ])
        states = [OutboxState.SENT] * 8 + [OutboxState.PENDING, OutboxState.FAILED]
        conn.execute(insert(OutboxMessage), [
            {"idempotency_key": f"bench:{n}", "channel": Channel.LINE, "recipient": "U0", "payload": {},
             "state": states[n % 10], "attempts": 0, "home_id": ids[n % len(ids)],
             "next_attempt_at": now - timedelta(minutes=n % 60), "created_at": now - timedelta(minutes=n % 60)}
            for n in range(20_000)
        ])
    engine.dispose()


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with scratch_postgres(args.url) as url:
        migrate.upgrade(url)
        now = datetime.now(UTC)
        started = time.perf_counter()
        fill(url, args.homes, now)
        print(f"filled {args.homes} homes in {time.perf_counter() - started:.1f} s")
        engine = init_db(engine=make_engine(url))
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()

        def metrics() -> None:
            with session_scope() as s:
                snapshot(s, now, lists=False)

        def status() -> None:
            with session_scope() as s:
                snapshot(s, now, lists=True)

        print(f"/metrics snapshot: {timed(metrics) * 1000:.0f} ms (median of 5)")
        print(f"status snapshot:   {timed(status) * 1000:.0f} ms (median of 5)")
        engine.dispose()


if __name__ == "__main__":
    main()
