"""How long one live detection cycle takes for many homes on PostgreSQL.

``.venv/bin/python benchmarks/live_detection_scale.py --homes 5000``
(needs PostgreSQL at 127.0.0.1:5432; creates and drops its own database). Homes get a
stored baseline and the last 48 h of readings; one ``run_detection`` is timed, split into
its phases by the profiler's view of the queries. Target: 100,000 homes well under 60 s.

``--away-share 0.05``: that share of homes has been away for two and a half days (standby only,
ordinary days in the week before): no sustained use in the window, so each is looked up in the
week before it (core/detection/lookback.py), the worst case of that read.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from scratch_db import scratch_postgres  # benchmarks/scratch_db.py, beside this script
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import db as db_module  # noqa: E402
from core.db import session_scope  # noqa: E402
from core.detection.live import run_detection  # noqa: E402
from core.enums import HomeStatus  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.models import Home, HomeBaseline, MeterReading  # noqa: E402
from core.settings import Settings, use_settings  # noqa: E402

BASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=5000)
    parser.add_argument("--profile", action="store_true", help="print where the warm cycle spends its time")
    parser.add_argument("--away-share", type=float, default=0.0, help="share of homes away for 2.5 days")
    args = parser.parse_args()
    from core.detection.synth_bench import away_week, sample_baseline_packed, sample_window

    with scratch_postgres(BASE_URL) as url:
        use_settings(Settings(database_url=url))
        upgrade(url)
        db_module.init_db()
        base_packed = sample_baseline_packed()
        t0 = time.perf_counter()
        for lo in range(0, args.homes, 2000):
            n = min(2000, args.homes - lo)
            with session_scope() as s:
                homes = [Home(meter_id=f"M{lo + i:08d}", status=HomeStatus.ACTIVE, ready_at=NOW - timedelta(days=9))
                         for i in range(n)]
                s.add_all(homes)
                s.flush()
                s.execute(insert(HomeBaseline), [
                    {"home_id": h.id, "computed_at": NOW, "days_used": 56, "packed": base_packed} for h in homes])
                rows = []
                for h in homes:
                    rng = np.random.default_rng(h.id)
                    away = rng.random() < args.away_share
                    for start, kwh in (away_week(NOW, rng) if away else sample_window(NOW, rng)):
                        rows.append({"home_id": h.id, "interval_start": start, "kwh": kwh})
                s.execute(insert(MeterReading), rows)
        print(f"setup {args.homes} homes: {time.perf_counter() - t0:.1f} s")
        for label in ("cold (reads stored baselines)", "warm (baselines cached)"):
            t1 = time.perf_counter()
            profiler = cProfile.Profile() if args.profile and label.startswith("warm") else None
            with session_scope() as s:
                if profiler:
                    profiler.enable()
                opened = run_detection(s, NOW)
                if profiler:
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumtime").print_stats(25)
            print(f"run_detection {label}: {time.perf_counter() - t1:.1f} s, {len(opened)} incidents opened")
        db_module.get_engine().dispose()  # (the drop forces off any connection left if this is not reached)


if __name__ == "__main__":
    main()
