"""Time the report job and graph rendering on a throwaway SQLite database.

Run: ``.venv/bin/python benchmarks/reports_bench.py [HOMES]`` (default 50 homes, 9 weeks each).
Prints render time per graph, PNG sizes, and the daily job's time for all homes,
first run (enqueues) and second run (finds everything already sent).
"""

from __future__ import annotations

import sys
import tempfile
import time as timer
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert


def main(homes: int = 50) -> None:
    from core import migrate
    from core.clock import ManualClock, use_clock
    from core.db import init_db, session_scope
    from core.enums import HomeStatus
    from core.models import Home, HomeWatcher, MeterReading, Resident, Watcher
    from core.reports import graph
    from core.reports.jobs import send_due_daily_reports
    from core.settings import Settings, use_settings

    tmp = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    migrate.upgrade(url)
    use_settings(Settings(database_url=url, mimamori_env="dev"))
    init_db()
    rng = np.random.default_rng(7)
    day = date(2026, 6, 2)
    first = day - timedelta(weeks=9)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(hours=9)
    with use_clock(ManualClock(datetime(2026, 6, 3, 0, 0, tzinfo=UTC))):
        ids = []
        with session_scope() as s:
            for n in range(homes):
                home = Home(meter_id=f"BENCH{n:05d}", status=HomeStatus.ACTIVE)
                s.add(home)
                s.flush()
                consent = datetime(2026, 1, 1, tzinfo=UTC)
                s.add(Resident(home_id=home.id, display_name=f"r{n}", consent_given_at=consent))
                w = Watcher(line_user_id=f"U{n:032d}", email=f"w{n}@example.com")
                s.add(w)
                s.flush()
                s.add(HomeWatcher(home_id=home.id, watcher_id=w.id, channels=["line", "email"], notify_daily=True))
                ids.append(home.id)
        for home_id in ids:
            values = rng.gamma(2.0, 0.08, size=(9 * 7 + 1) * 48)
            rows = [{"home_id": home_id, "interval_start": start + timedelta(minutes=30 * i), "kwh": float(v)}
                    for i, v in enumerate(values)]
            with session_scope() as s:
                s.execute(insert(MeterReading), rows)

        with session_scope() as s:
            t0 = timer.perf_counter()
            pngs = [graph.render_day(s, ids[i % len(ids)], day) for i in range(20)]
            per_graph = (timer.perf_counter() - t0) / 20
            t0 = timer.perf_counter()
            small = graph.preview(pngs[0])
            per_preview = timer.perf_counter() - t0
            t0 = timer.perf_counter()
            graph.render_view(s, ids[0], day, "month")
            month = timer.perf_counter() - t0

        t0 = timer.perf_counter()
        sent = send_due_daily_reports(datetime(2026, 6, 3, 0, 0, tzinfo=UTC))
        first_run = timer.perf_counter() - t0
        t0 = timer.perf_counter()
        again = send_due_daily_reports(datetime(2026, 6, 3, 0, 5, tzinfo=UTC))
        second_run = timer.perf_counter() - t0

    print(f"day graph: {per_graph * 1000:.0f} ms each, {len(pngs[0]) // 1024} kB; "
          f"preview: {per_preview * 1000:.0f} ms, {len(small) // 1024} kB; month graph: {month * 1000:.0f} ms")
    print(f"daily job, {homes} homes: first run {first_run:.2f} s ({sent} messages, "
          f"{first_run / homes * 1000:.0f} ms/home); second run {second_run:.2f} s ({again} messages)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
