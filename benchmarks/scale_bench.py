"""One 30-minute meter cycle for 1,000 / 10,000 / 100,000 homes on PostgreSQL.

``.venv/bin/python benchmarks/scale_bench.py --homes 1000 10000 100000``
(``--database-url`` names the server; each size gets its own scratch database, dropped
after). Target (issue 8): 100,000 homes in at most 60 s and 2 GB.

What one cycle is here, all through the real code at a fixed clock:
  ingest     the newest half-hour for every home, simulated and stored by
             ``core.meters.ingest.ingest`` (the same path the pull job uses)
  readiness  ``core.readiness.refresh_home_statuses``
  baselines  ``refresh_baselines(only_missing=True)`` (the job table's step for new homes)
  detect     ``core.detection.live.run_detection`` for every home
  escalate   ``core.escalation.engine.tick`` until no step is due (opens -> first step)
  dispatch   ``core.escalation.dispatcher.dispatch_due`` until nothing is due, with the
             recording fake channels (no HTTP)
The cycle runs in a fresh child process, so its peak memory (``ru_maxrss``) is the
cycle's alone. Two cycles are measured: the first after a restart (baselines parsed from
JSON: "cold") and the next half-hour (baselines cached in memory: "warm", the steady state).

Seeding shortcuts (seeding is not measured, but must be bearable at 100,000 homes):
- Only the last ``HISTORY_SLOTS`` half-hours are stored per home: live detection reads
  a 64-slot (32 h) window, readiness only looks at homes still awaiting history.
- Homes share ``--templates`` simulated households (home i behaves like household
  i mod K, readings and baseline alike), so baselines are learned (the real
  ``core.detection.baseline.learn`` on 56 simulated days) K times, not N times, and
  stored per home with COPY. Every home still has its own rows and its own baseline row.
- About 1% of homes have a senior who stopped moving the evening before (base load only
  from 23:30 local), so the cycle opens real incidents.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from scratch_db import scratch_postgres  # benchmarks/scratch_db.py, beside this script
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 6, 1, 2, 5, tzinfo=UTC)  # 11:05 in Tokyo; the cron runs at :05 and :35
HISTORY_SLOTS = 72  # 36 h: the 64-slot detection window and some slack
INCAPACITATED_EVERY = 100  # one home in 100
STOPPED_AT = datetime(2026, 5, 31, 14, 30, tzinfo=UTC)  # 23:30 local, the night before
HALF_HOUR = timedelta(minutes=30)
SEED_CHUNK = 10_000
PHASES = ("ingest", "readiness", "baselines", "detect", "escalate", "dispatch")


def meter_id(i: int) -> str:
    return f"SCALE{i:09d}"


def _template_seeds(n: int, templates: int) -> np.ndarray:
    from core.meters.simulator import seed_for

    seeds = np.array([seed_for(f"household-{k}") for k in range(templates)], dtype=np.int64)
    return seeds[np.arange(n) % templates]


def _stopped(n: int) -> np.ndarray:
    return np.arange(n) % INCAPACITATED_EVERY == INCAPACITATED_EVERY // 2


def simulate_homes(n: int, templates: int, start: datetime, end: datetime, *, stopped: bool = True) -> np.ndarray:
    """kWh [n, slots]: each template simulated once, the stopped homes on their own."""
    from core.meters.simulator import simulate_many

    k = min(n, templates)
    seeds = _template_seeds(n, templates)
    values = simulate_many(seeds[:k], start, end)[np.arange(n) % k]
    rows = np.flatnonzero(_stopped(n)) if stopped else np.array([], np.int64)
    if rows.size:
        values[rows] = simulate_many(seeds[rows], start, end, incapacitated_from=[STOPPED_AT] * rows.size)
    return values


# ---- seeding (child process) -----------------------------------------------------------
def _copy(conn, table: str, columns: str, lines: list[str]) -> None:
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write("".join(lines).encode())


def seed(n: int, templates: int) -> dict:
    """N ACTIVE homes with consent, a resident, a family watcher, a baseline and 36 h of readings."""
    from core.db import get_engine
    from core.detection.baseline import LEARNING_DAYS, learn
    from core.detection.timeaxis import day_first_slot, day_types, local_day, slot_of

    started = time.perf_counter()
    today = int(local_day(slot_of(NOW)))
    learn_start = datetime.fromtimestamp(day_first_slot(today - LEARNING_DAYS) * 1800, UTC)
    k = min(n, templates)
    cube = simulate_homes(k, templates, learn_start, learn_start + timedelta(days=LEARNING_DAYS), stopped=False)
    base = learn(cube.reshape(k, LEARNING_DAYS, 48), day_types(np.arange(today - LEARNING_DAYS, today)))
    base_json = [json.dumps(base.to_json(i), separators=(",", ":")) for i in range(k)]
    watchability = base.watchability
    # The last stored half-hour starts at 00:00 UTC; the cycle at 02:05 brings 00:30.
    last_stored = NOW.replace(minute=0) - timedelta(hours=2)
    hist_start = last_stored - (HISTORY_SLOTS - 1) * HALF_HOUR
    hist = simulate_homes(n, templates, hist_start, last_stored + HALF_HOUR)
    stamps = [(hist_start + j * HALF_HOUR).isoformat() for j in range(HISTORY_SLOTS)]
    ts = NOW.isoformat()
    ready = (NOW - timedelta(days=30)).isoformat()
    engine = get_engine()
    for lo in range(0, n, SEED_CHUNK):
        ids = range(lo + 1, min(n, lo + SEED_CHUNK) + 1)
        with engine.begin() as conn:
            _copy(conn, "home", "id, meter_id, timezone, status, wake_grace_minutes, over_usage_percent, "
                  "night_watch_enabled, daily_report_time, watchability, watchability_checked_at, ready_at, "
                  "last_reading_at, created_at",
                  [f"{i}\t{meter_id(i)}\tAsia/Tokyo\tactive\t90\t50\tf\t08:00\t{watchability[(i - 1) % k]:.4f}"
                   f"\t{ts}\t{ready}\t{last_stored.isoformat()}\t{ready}\n" for i in ids])
            _copy(conn, "resident", "id, home_id, display_name, phone, preferred_contact, language, "
                  "consent_given_at, consent_method",
                  [f"{i}\t{i}\tresident\t+8190{i:08d}\tvoice\tja\t{ready}\twritten\n" for i in ids])
            _copy(conn, "watcher", "id, line_user_id, display_name, language, following, created_at",
                  [f"{i}\tU{i:032x}\twatcher{i}\tja\tt\t{ready}\n" for i in ids])
            _copy(conn, "home_watcher", "id, home_id, watcher_id, role, is_owner, escalation_order, channels, "
                  "notify_daily, notify_weekly, notify_monthly, notify_usage, notify_over_usage, created_at",
                  [f"{i}\t{i}\t{i}\tfamily\tt\t1\t[\"line\"]\tt\tt\tt\tt\tt\t{ready}\n" for i in ids])
            _copy(conn, "home_baseline", "home_id, computed_at, days_used, data",
                  [f"{i}\t{ts}\t{int(base.days_used[(i - 1) % k])}\t{base_json[(i - 1) % k]}\n" for i in ids])
            _copy(conn, "meter_reading", "home_id, interval_start, kwh, quality, received_at",
                  [f"{i}\t{stamps[j]}\t{v!r}\tmeasured\t{ts}\n"
                   for i in ids for j, v in enumerate(np.round(hist[i - 1].astype(np.float64), 3).tolist())])
    with engine.begin() as conn:
        for table in ("home", "resident", "watcher", "home_watcher"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})"))
        conn.execute(text("ANALYZE"))
    return {"seed_seconds": round(time.perf_counter() - started, 1), "readings": n * HISTORY_SLOTS}


# ---- the measured cycle (child process) --------------------------------------------------
def _postgres_peak_kb(dbname: str) -> int:
    """Peak resident memory (VmHWM) of the server processes serving this database."""
    from core.db import get_engine

    with get_engine().connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": dbname}).scalars()
        total = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                continue
    return total


def cycle(now: datetime, n: int, templates: int, channels) -> dict:
    """One cycle at ``now``: every phase through the real code, timed."""
    from core.db import session_scope
    from core.detection.live import refresh_baselines, run_detection
    from core.enums import ReadingQuality
    from core.escalation.dispatcher import dispatch_due
    from core.escalation.engine import tick
    from core.meters.ingest import ingest
    from core.meters.sources import ReadingIn
    from core.readiness import refresh_home_statuses

    out: dict = {}
    t = time.perf_counter()
    slot = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0) - 3 * HALF_HOUR
    values = np.round(simulate_homes(n, templates, slot, slot + HALF_HOUR)[:, 0].astype(np.float64), 3).tolist()
    items = [ReadingIn(meter_id(i + 1), slot, v, ReadingQuality.MEASURED, 0) for i, v in enumerate(values)]
    with session_scope() as s:
        result = ingest(s, items, now=now)
    out["ingest"] = time.perf_counter() - t
    out["ingested"] = result.inserted + result.revised
    t = time.perf_counter()
    with session_scope() as s:
        refresh_home_statuses(s, now)
    out["readiness"] = time.perf_counter() - t
    t = time.perf_counter()
    with session_scope() as s:  # the cycle's step for homes that just became ready (none here)
        refresh_baselines(s, now, only_missing=True)
    out["baselines"] = time.perf_counter() - t
    t = time.perf_counter()
    with session_scope() as s:
        out["opened"] = len(run_detection(s, now))
    out["detect"] = time.perf_counter() - t
    t = time.perf_counter()
    stepped = 0
    while done := tick(limit=500):
        stepped += done
    out["escalate"] = time.perf_counter() - t
    out["stepped"] = stepped
    t = time.perf_counter()
    sent = 0
    while done := dispatch_due(limit=100, channels=channels):
        sent += done
    out["dispatch"] = time.perf_counter() - t
    out["sent"] = sent
    out["total"] = sum(out[p] for p in PHASES)
    return out


def run_child(url: str, n: int, templates: int, mode: str, profile: str | None = None) -> None:
    from core import db as db_module
    from core.clock import ManualClock, use_clock
    from core.enums import Channel
    from core.escalation.channels.fakes import RecordingSender
    from core.settings import Settings, use_settings

    use_settings(Settings(database_url=url))
    db_module.init_db()
    if mode == "seed":
        print(json.dumps(seed(n, templates)))
        return
    twilio = RecordingSender()
    channels = {Channel.LINE: RecordingSender(), Channel.SMS: twilio, Channel.VOICE: twilio,
                Channel.EMAIL: RecordingSender(), Channel.WEBHOOK: RecordingSender()}
    results = []
    for label, now in (("cold", NOW), ("warm", NOW + HALF_HOUR)):
        profiler = cProfile.Profile() if profile else None
        with use_clock(ManualClock(now)):
            if profiler:
                profiler.enable()
            res = cycle(now, n, templates, channels)
            if profiler:
                profiler.disable()
                profiler.dump_stats(f"{profile}.{label}")
        res["label"] = label
        res["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        res["pg_mb"] = _postgres_peak_kb(make_url(url).database) / 1024
        results.append(res)
    print(json.dumps(results))


# ---- the driver -------------------------------------------------------------------------------
def _child(url: str, n: int, templates: int, mode: str, profile: str | None = None) -> object:
    extra = ["--profile", profile] if profile and mode == "cycle" else []
    proc = subprocess.run([sys.executable, __file__, "--child", mode, "--database-url", url, "--homes", str(n),
                           "--templates", str(templates), *extra], capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{mode} for {n} homes failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(base_url: str, n: int, templates: int, profile: str | None = None) -> dict:
    from core.migrate import upgrade

    with scratch_postgres(base_url, "mimamori_scale") as url:
        upgrade(url)
        seeded = _child(url, n, templates, "seed")
        print(f"{n:>7} homes: seeded in {seeded['seed_seconds']} s ({seeded['readings']:,} readings)", flush=True)
        cycles = _child(url, n, templates, "cycle", profile)
    return {"homes": n, "seed": seeded, "cycles": cycles}


def table(rows: list[dict]) -> str:
    head = ("| homes | cycle | " + " | ".join(PHASES)
            + " | total s | opened | stepped | sent | peak RSS MB | PG backends peak MB |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        for c in row["cycles"]:
            lines.append(f"| {row['homes']:,} | {c['label']} | " + " | ".join(f"{c[p]:.1f}" for p in PHASES)
                         + f" | **{c['total']:.1f}** | {c['opened']} | {c['stepped']} | {c['sent']}"
                         f" | {c['rss_mb']:.0f} | {c['pg_mb']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--templates", type=int, default=2000, help="distinct simulated households")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "scale.md"))
    parser.add_argument("--profile", help="write cProfile stats of each cycle to PROFILE.cold / PROFILE.warm")
    parser.add_argument("--child", choices=("seed", "cycle"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.database_url, args.homes[0], args.templates, args.child, args.profile)
        return
    rows = []
    for n in args.homes:
        rows.append(measure(args.database_url, n, args.templates, args.profile))
        print(table(rows[-1:]), flush=True)
    load = os.getloadavg()
    report = (f"# One meter cycle at scale (benchmarks/scale_bench.py)\n\n{table(rows)}\n\n"
              f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs, load average "
              f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} at the end (the cores were shared).\n"
              "Phases in seconds. cold = first cycle after a restart (baselines parsed from JSON); "
              "warm = the next half-hour. Peak RSS = the cycle process's ru_maxrss; PG = summed VmHWM "
              "of the server backends serving the database (shared buffers they touched included).\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
