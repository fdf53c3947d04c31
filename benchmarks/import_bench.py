"""Import benchmark: ../shared/data/lcl-dev/readings.csv.gz (~1M readings, 60 homes) into a
fresh database with --create-homes, timed; then the same file again, which must change no row.
Beside it, in the same run, the floor: the same rows, already parsed and formatted in
memory, written by a bare ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) into a plain
table with the same columns, once without any key and once with meter_reading's primary key.

    .venv/bin/python benchmarks/import_bench.py       # SQLite (temp file), then PostgreSQL, one run
    .venv/bin/python benchmarks/import_bench.py --postgres URL   # another server
    .venv/bin/python benchmarks/import_bench.py --only sqlite

With --postgres a scratch database ``mimamori_bench_<random>`` is created beside the one
in the URL and dropped afterwards. Targets (issue 16): SQLite within 1.5x its floor;
PostgreSQL <= 10 s; a re-import changes nothing and is as fast. The machine's load
average is printed: on a shared machine wall time inflates.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from scratch_db import scratch_postgres  # benchmarks/scratch_db.py, beside this script
from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core import migrate  # noqa: E402
from core.db import init_db, session_scope  # noqa: E402
from core.meters.ingest import ImportResult, ingest  # noqa: E402
from core.meters.sources import file_source  # noqa: E402
from core.settings import Settings, use_settings  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "lcl-dev" / "readings.csv.gz"
TARGETS = {"sqlite": 60.0, "postgresql": 10.0}
SQLITE_FLOOR_RATIO = 1.5


def server_cpu(session: object) -> float:
    """CPU seconds used so far by this session's PostgreSQL backend (local server only; else 0)."""
    if session.get_bind().dialect.name != "postgresql":  # type: ignore[attr-defined]
        return 0.0
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()  # type: ignore[attr-defined]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the import's reader process)."""
    times = os.times()
    return times.children_user + times.children_system


def timed_import(path: Path) -> tuple[ImportResult, float, float, float, float]:
    """The import, with wall time, this process's CPU, its reader child's and the database backend's."""
    wall, cpu, child = time.perf_counter(), time.process_time(), children_cpu()
    with session_scope() as session:
        server = server_cpu(session)
        result = ingest(session, file_source(path), create_homes=True)
        session.flush()
        server = server_cpu(session) - server
    return result, time.perf_counter() - wall, time.process_time() - cpu, children_cpu() - child, server


FLOOR_COLUMNS = ("home_id INTEGER NOT NULL, interval_start {ts} NOT NULL, kwh FLOAT NOT NULL, "
                 "quality VARCHAR(32) NOT NULL, received_at {ts} NOT NULL")


def floor_rows(path: Path) -> list[tuple]:
    """The file's rows as the table stores them (home ids by first appearance), built before timing."""
    from datetime import UTC, datetime

    homes: dict[str, int] = {}
    stamps: dict[datetime, datetime] = {}
    rows = []
    for item in file_source(path).items():
        if item.kwh is None:
            continue
        start = item.interval_start
        utc = stamps.get(start) or stamps.setdefault(start, start.astimezone(UTC))
        rows.append((homes.setdefault(item.meter_id, len(homes) + 1), utc, item.kwh, "measured"))
    return rows


def floor(url: str, rows: list[tuple], keyed: bool) -> float:
    """Wall seconds to write ``rows`` into a plain table: executemany (SQLite) or COPY (PostgreSQL)."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine

    engine = create_engine(url)
    name = "floor_keyed" if keyed else "floor_bare"
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        columns = FLOOR_COLUMNS.format(ts="timestamptz" if postgres else "DATETIME")
        key = ", PRIMARY KEY (home_id, interval_start)" if keyed else ""
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE TABLE {name} ({columns}{key})")
    now = datetime.now(UTC)
    if postgres:
        text_of = {t: t.isoformat() for t in {r[1] for r in rows}}
        payload = "".join(f"{h}\t{text_of[t]}\t{k!r}\t{q}\t{now.isoformat()}\n" for h, t, k, q in rows).encode()
    else:
        text_of = {t: t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in {r[1] for r in rows}}
        stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        prepared = [(h, text_of[t], k, q, stamp) for h, t, k, q in rows]
    started = time.perf_counter()
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        if postgres:
            with driver.cursor() as cursor, cursor.copy(f"COPY {name} FROM STDIN") as copy:
                copy.write(payload)
        else:
            driver.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?)", prepared)
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {name}")
    engine.dispose()
    return seconds


def run(url: str, path: Path) -> bool:
    migrate.upgrade(url)
    settings = Settings(database_url=url)
    use_settings(settings)
    engine = init_db(settings)
    backend = engine.dialect.name
    rows = floor_rows(path)
    print(f"{backend}: importing {path.name} (load average {os.getloadavg()[0]:.1f})")
    bare, keyed = floor(url, rows, keyed=False), floor(url, rows, keyed=True)
    print(f"  floor        : {bare:6.1f} s wall into a bare table, {keyed:6.1f} s with the primary key "
          f"({len(rows):,} rows, {'COPY' if backend == 'postgresql' else 'executemany'}, already in memory)")
    del rows
    first, wall1, cpu1, child1, db1 = timed_import(path)
    print(
        f"  first import : {wall1:6.1f} s wall, {cpu1:5.1f} s CPU here + {child1:4.1f} s reader process "
        f"+ {db1:5.1f} s database backend CPU; "
        f"inserted {first.inserted}, homes created {first.homes_created}, rejected {first.rejected} "
        f"({first.inserted / wall1:,.0f} rows/s); x{wall1 / bare:.2f} the bare floor, x{wall1 / keyed:.2f} the keyed"
    )
    second, wall2, cpu2, child2, db2 = timed_import(path)
    print(
        f"  second import: {wall2:6.1f} s wall, {cpu2:5.1f} s CPU here + {child2:4.1f} s reader "
        f"+ {db2:5.1f} s backend; "
        f"rows changed {second.changed} (unchanged {second.unchanged}); x{wall2 / wall1:.2f} the first"
    )
    engine.dispose()
    if backend == "postgresql":
        ok = wall1 <= TARGETS[backend] and wall2 <= TARGETS[backend]
        what = f"<= {TARGETS[backend]:.0f} s"
    else:
        ok = wall1 <= SQLITE_FLOOR_RATIO * bare and wall2 <= SQLITE_FLOOR_RATIO * bare
        what = f"<= {SQLITE_FLOOR_RATIO}x the bare floor"
    ok = ok and second.changed == 0 and first.rejected == 0
    print(f"  target {what}, both imports, and 0 rows changed the second time: {'MET' if ok else 'NOT MET'}")
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL URL; a scratch database is made beside it")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--file", type=Path, default=DATA)
    args = parser.parse_args()
    if not args.file.exists():
        print(f"{args.file} not found (the reference data lives in ../shared)", file=sys.stderr)
        return 2
    ok = True
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            ok = run(f"sqlite:///{folder}/bench.db", args.file) and ok
    if args.only != "sqlite":
        with scratch_postgres(args.postgres) as url:
            ok = run(url, args.file) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
