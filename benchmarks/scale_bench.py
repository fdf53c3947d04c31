"""One 30-minute meter cycle for 10,000 / 100,000 homes on PostgreSQL, with 1, 2, 4 workers.

``.venv/bin/python benchmarks/scale_bench.py --homes 10000 100000 --workers 1 2 4``
(``--database-url`` names the server; each size is seeded once into a scratch database,
and each worker count runs on a fresh copy of it, all dropped after). Targets (issue 16):
the 100,000-home first cycle after a restart no slower than a steady one, both <= 30 s,
and <= 2 GB per process.

What one cycle is here, all through the real code at a fixed clock:
  ingest     the newest half-hour for every home, simulated and stored by
             ``core.meters.ingest.ingest`` (the same path the pull job uses)
  readiness  ``core.readiness.refresh_home_statuses``
  baselines  ``refresh_baselines(only_missing=True)`` (the job table's step for new homes)
  detect     the clock enqueues the cycle's chunks (``core.detection.chunks.enqueue_cycle``)
             and W worker processes (this script's ``--child worker``: the loop of
             ``mimamori worker``'s detect_chunks job) claim and evaluate them; timed from
             the enqueue until every chunk is done
  escalate   ``core.escalation.engine.tick`` until no step is due (opens -> first step)
  dispatch   ``core.escalation.dispatcher.dispatch_due`` until nothing is due, with the
             recording fake channels (no HTTP)
The clock runs in a fresh child process, so its peak memory (``ru_maxrss``) is the
cycle's alone; the workers are fresh processes too, and read every stored baseline when
they start (their warm-up, reported on its own). Before the restart, the half-hour where 1 %
of the seniors stopped ("opening") and the next ("settling", the rest of their incidents);
after it, the two cycles compared: the first after that restart ("first") and the next
half-hour ("steady").

CPU-seconds per home per phase: the CPU time of the clock process, of every worker and of
every PostgreSQL backend serving the database (from /proc), over the phase, divided by
the homes. On a shared machine wall time inflates with the load; CPU time much less.

Seeding shortcuts (seeding is not measured, but must be bearable at 100,000 homes):
- Only the last ``HISTORY_SLOTS`` half-hours are stored per home: live detection reads
  a 96-slot (48 h) window, readiness only looks at homes still awaiting history.
- Homes share ``--templates`` simulated households (home i behaves like household
  i mod K, readings and baseline alike), so baselines are learned (the real
  ``core.detection.baseline.learn`` on 56 simulated days) K times, not N times, and
  stored per home with COPY. Every home still has its own rows and its own baseline row.
- About 1% of homes have a senior who stopped moving the evening before (base load only
  from 23:30 local), so the cycle opens real incidents.
"""

from __future__ import annotations

import argparse
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
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 6, 1, 2, 5, tzinfo=UTC)  # 11:05 in Tokyo; the cron runs at :05 and :35
HISTORY_SLOTS = 104  # 52 h: the 96-slot detection window and some slack
INCAPACITATED_EVERY = 100  # one home in 100
STOPPED_AT = datetime(2026, 5, 31, 14, 30, tzinfo=UTC)  # 23:30 local, the night before
HALF_HOUR = timedelta(minutes=30)
SEED_CHUNK = 10_000
PHASES = ("ingest", "readiness", "baselines", "detect", "escalate", "dispatch")
CHUNK_HOMES = 5000


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
    from core.detection.baseline_pack import pack
    from core.detection.timeaxis import day_first_slot, day_types, local_day, slot_of

    started = time.perf_counter()
    today = int(local_day(slot_of(NOW)))
    learn_start = datetime.fromtimestamp(day_first_slot(today - LEARNING_DAYS) * 1800, UTC)
    k = min(n, templates)
    cube = simulate_homes(k, templates, learn_start, learn_start + timedelta(days=LEARNING_DAYS), stopped=False)
    base = learn(cube.reshape(k, LEARNING_DAYS, 48), day_types(np.arange(today - LEARNING_DAYS, today)))
    base_hex = ["\\\\x" + pack(base, i).hex() for i in range(k)]  # bytea in COPY text format
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
                  "last_reading_at, created_at, climate_watch_enabled",
                  [f"{i}\t{meter_id(i)}\tAsia/Tokyo\tactive\t90\t50\tf\t08:00\t{watchability[(i - 1) % k]:.4f}"
                   f"\t{ts}\t{ready}\t{last_stored.isoformat()}\t{ready}\tt\n" for i in ids])
            _copy(conn, "resident", "id, home_id, display_name, phone, preferred_contact, language, "
                  "consent_given_at, consent_method",
                  [f"{i}\t{i}\tresident\t+8190{i:08d}\tvoice\tja\t{ready}\twritten\n" for i in ids])
            _copy(conn, "watcher", "id, line_user_id, display_name, language, following, created_at",
                  [f"{i}\tU{i:032x}\twatcher{i}\tja\tt\t{ready}\n" for i in ids])
            _copy(conn, "home_watcher", "id, home_id, watcher_id, role, is_owner, escalation_order, channels, "
                  "notify_daily, notify_weekly, notify_monthly, notify_usage, notify_over_usage, created_at, "
                  "notify_climate",
                  [f"{i}\t{i}\t{i}\tfamily\tt\t1\t[\"line\"]\tt\tt\tt\tt\tt\t{ready}\tt\n" for i in ids])
            _copy(conn, "home_baseline", "home_id, computed_at, days_used, packed",
                  [f"{i}\t{ts}\t{int(base.days_used[(i - 1) % k])}\t{base_hex[(i - 1) % k]}\n" for i in ids])
            _copy(conn, "meter_reading", "home_id, interval_start, kwh, quality, received_at",
                  [f"{i}\t{stamps[j]}\t{v!r}\tmeasured\t{ts}\n"
                   for i in ids for j, v in enumerate(np.round(hist[i - 1].astype(np.float64), 3).tolist())])
    with engine.begin() as conn:
        for table in ("home", "resident", "watcher", "home_watcher"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # As autovacuum would have long since: hint bits set, so the first reads do not write.
        conn.execute(text("VACUUM (FREEZE, ANALYZE)"))
    return {"seed_seconds": round(time.perf_counter() - started, 1), "readings": n * HISTORY_SLOTS}


# ---- CPU and memory of the processes doing the work ------------------------------------------
def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _backend_pids(dbname: str) -> list[int]:
    from core.db import get_engine

    with get_engine().connect() as conn:
        return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": dbname}).scalars())


class CpuMeter:
    """CPU seconds of this process, the workers and the database's backends since ``start``."""

    def __init__(self, dbname: str, workers: list[int]) -> None:
        self.dbname, self.workers = dbname, workers

    def sample(self) -> dict[int, float]:
        pids = set(self.workers) | set(_backend_pids(self.dbname))
        return {pid: _proc_cpu(pid) for pid in pids} | {0: time.process_time()}

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(v - before.get(pid, 0.0) for pid, v in after.items())


# ---- the measured cycle (child process: the clock) -----------------------------------------------
def cycle(now: datetime, n: int, templates: int, channels, meter: CpuMeter) -> dict:
    """One cycle at ``now``: every phase through the real code, wall and CPU timed."""
    from core.db import session_scope
    from core.detection.chunks import enqueue_cycle
    from core.detection.live import refresh_baselines
    from core.enums import ReadingQuality
    from core.escalation.dispatcher import dispatch_due
    from core.escalation.engine import tick
    from core.meters.ingest import ingest
    from core.meters.sources import ReadingIn
    from core.models import DetectionChunk
    from core.readiness import refresh_home_statuses

    out: dict = {}

    def phase(name: str, fn) -> None:
        cpu, wall = meter.sample(), time.perf_counter()
        fn()
        out[name] = time.perf_counter() - wall
        out[f"{name}_cpu"] = CpuMeter.spent(cpu, meter.sample())

    def do_ingest() -> None:
        slot = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0) - 3 * HALF_HOUR
        values = np.round(simulate_homes(n, templates, slot, slot + HALF_HOUR)[:, 0].astype(np.float64), 3).tolist()
        items = [ReadingIn(meter_id(i + 1), slot, v, ReadingQuality.MEASURED, 0) for i, v in enumerate(values)]
        with session_scope() as s:
            result = ingest(s, items, now=now)
        out["ingested"] = result.inserted + result.revised

    def do_readiness() -> None:
        with session_scope() as s:
            refresh_home_statuses(s, now)

    def do_baselines() -> None:
        with session_scope() as s:  # the cycle's step for homes that just became ready (none here)
            refresh_baselines(s, now, only_missing=True)

    def do_detect() -> None:
        with session_scope() as s:
            enqueue_cycle(s, now, CHUNK_HOMES)
        while True:
            with session_scope() as s:
                rows = s.execute(select(DetectionChunk.done_at, DetectionChunk.evaluated, DetectionChunk.opened)
                                 .where(DetectionChunk.cycle_at == now)).all()
            if all(r.done_at is not None for r in rows):
                break
            time.sleep(0.05)
        out["evaluated"] = sum(r.evaluated for r in rows)
        out["opened"] = sum(r.opened for r in rows)

    def do_escalate() -> None:
        stepped = 0
        while done := tick(limit=500):
            stepped += done
        out["stepped"] = stepped

    def do_dispatch() -> None:
        sent = 0
        while done := dispatch_due(limit=100, channels=channels):
            sent += done
        out["sent"] = sent

    for name, fn in zip(PHASES, (do_ingest, do_readiness, do_baselines, do_detect, do_escalate, do_dispatch),
                        strict=True):
        phase(name, fn)
    out["total"] = sum(out[p] for p in PHASES)
    out["total_cpu"] = sum(out[f"{p}_cpu"] for p in PHASES)
    return out


def _start_workers(url: str, count: int) -> tuple[list[subprocess.Popen], list[dict]]:
    """Start ``count`` worker processes and wait until each has read its baselines."""
    procs = [subprocess.Popen([sys.executable, __file__, "--child", "worker", "--database-url", url],
                              stdout=subprocess.PIPE, text=True) for _ in range(count)]
    ready = [json.loads(p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
    return procs, ready


LABELS = ("opening", "settling", "first", "steady")


def run_clock(url: str, n: int, templates: int, workers: int, labels: list[str]) -> None:
    from core.clock import ManualClock, use_clock
    from core.enums import Channel
    from core.escalation.channels.fakes import RecordingSender

    dbname = make_url(url).database
    started = time.perf_counter()
    procs, ready = _start_workers(url, workers)
    warmup = time.perf_counter() - started
    twilio = RecordingSender()
    channels = {Channel.LINE: RecordingSender(), Channel.SMS: twilio, Channel.VOICE: twilio,
                Channel.EMAIL: RecordingSender(), Channel.WEBHOOK: RecordingSender()}
    meter = CpuMeter(dbname, [p.pid for p in procs])
    results = []
    try:
        for label in labels:
            now = NOW + LABELS.index(label) * HALF_HOUR
            with use_clock(ManualClock(now)):
                res = cycle(now, n, templates, channels, meter)
            res["label"] = label
            res["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            res["worker_mb"] = max(_proc_hwm_kb(p.pid) for p in procs) / 1024
            res["pg_mb"] = sum(_proc_hwm_kb(pid) for pid in _backend_pids(dbname)) / 1024
            results.append(res)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
    print(json.dumps({"workers": workers, "warmup": warmup, "ready": ready, "cycles": results}))


def run_worker() -> None:
    """The worker's detection loop (as ``mimamori worker``'s detect_chunks job runs it)."""
    from core.clock import ManualClock, set_clock
    from core.db import session_scope
    from core.detection.chunks import run_due_chunks, warm
    from core.detection.live import _BASELINES
    from core.models import DetectionChunk

    started, cpu = time.perf_counter(), time.process_time()
    with session_scope() as s:
        warm(s)
    print(json.dumps({"warm_seconds": time.perf_counter() - started, "warm_cpu": time.process_time() - cpu,
                      "homes": _BASELINES.used - 1, "rss_mb": _proc_hwm_kb(os.getpid()) / 1024}), flush=True)
    # The bench's clock is fixed at its cycle's time; the worker's follows the cycle it serves.
    worker_clock = ManualClock(NOW)
    set_clock(worker_clock)
    while True:
        with session_scope() as s:
            due = s.scalar(select(func.min(DetectionChunk.cycle_at)).where(DetectionChunk.done_at.is_(None)))
        if due is None:
            time.sleep(0.02)
            continue
        worker_clock.set(due)
        run_due_chunks(limit=1)


def run_child(url: str, n: int, templates: int, mode: str, workers: int, labels: list[str]) -> None:
    from core import db as db_module
    from core.settings import Settings, use_settings

    use_settings(Settings(database_url=url, mimamori_clock_runs_workers=False, log_level="WARNING"))
    db_module.init_db()
    if mode == "seed":
        print(json.dumps(seed(n, templates)))
    elif mode == "worker":
        run_worker()
    else:
        run_clock(url, n, templates, workers, labels)


# ---- the driver -------------------------------------------------------------------------------
def _child(url: str, n: int, templates: int, mode: str, workers: int = 1, labels: tuple[str, ...] = ()) -> dict:
    extra = ["--cycles", *labels] if labels else []
    proc = subprocess.run([sys.executable, __file__, "--child", mode, "--database-url", url, "--homes", str(n),
                           "--templates", str(templates), "--workers", str(workers), *extra],
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{mode} for {n} homes failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(base_url: str, n: int, templates: int, workers: list[int]) -> list[dict]:
    from sqlalchemy import create_engine

    from core.migrate import upgrade

    rows = []
    with scratch_postgres(base_url, "mimamori_scale") as seeded_url:
        upgrade(seeded_url)
        seeded = _child(seeded_url, n, templates, "seed")
        print(f"{n:>7} homes: seeded in {seeded['seed_seconds']} s ({seeded['readings']:,} readings)", flush=True)
        create_engine(seeded_url).dispose()
        for w in workers:
            with scratch_postgres(base_url, "mimamori_scale_run", template=make_url(seeded_url).database) as url:
                load = os.getloadavg()[0]
                # The half-hour where 1% of seniors stopped opens most of their incidents, the next
                # ("settling") the rest: those whose quiet becomes rare half an hour later (more
                # work than a usual cycle). Then everything restarts, and the next two half-hours
                # are the first after a restart and a steady one, with the same work to do.
                opening = _child(url, n, templates, "cycle", w, ("opening", "settling"))
                run = _child(url, n, templates, "cycle", w, ("first", "steady"))
                run["cycles"] = opening["cycles"] + run["cycles"]
                run.update(homes=n, load_before=load, load_after=os.getloadavg()[0])
                rows.append(run)
                print(table([run]), flush=True)
    return rows


def table(runs: list[dict]) -> str:
    head = ("| homes | workers | cycle | " + " | ".join(PHASES) + " | total s | CPU ms/home: "
            + " / ".join(PHASES) + " | CPU ms/home total | opened | sent | clock MB | worker MB | PG MB "
            "| worker warm-up s (CPU s) | load before/after |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for run in runs:
        n = run["homes"]
        warm = max(r["warm_seconds"] for r in run["ready"])
        warm_cpu = max(r["warm_cpu"] for r in run["ready"])
        for c in run["cycles"]:
            cpu = " / ".join(f"{1000 * c[p + '_cpu'] / n:.2f}" for p in PHASES)
            lines.append(
                f"| {n:,} | {run['workers']} | {c['label']} | " + " | ".join(f"{c[p]:.1f}" for p in PHASES)
                + f" | **{c['total']:.1f}** | {cpu} | {1000 * c['total_cpu'] / n:.2f} | {c['opened']} | {c['sent']}"
                f" | {c['rss_mb']:.0f} | {c['worker_mb']:.0f} | {c['pg_mb']:.0f} | {warm:.1f} ({warm_cpu:.1f})"
                f" | {run['load_before']:.1f}/{run['load_after']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--templates", type=int, default=2000, help="distinct simulated households")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "scale_run.md"))
    parser.add_argument("--child", choices=("seed", "cycle", "worker"), help=argparse.SUPPRESS)
    parser.add_argument("--cycles", nargs="+", default=list(LABELS[1:]), choices=LABELS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.database_url, args.homes[0], args.templates, args.child, args.workers[0], args.cycles)
        return
    rows = []
    for n in args.homes:
        rows.extend(measure(args.database_url, n, args.templates, args.workers))
    load = os.getloadavg()
    report = (f"{table(rows)}\n\nMeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs, "
              f"load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} at the end.\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
