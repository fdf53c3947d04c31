"""Import benchmark: ../shared/data/lcl-dev/readings.csv.gz (~1M readings, 60 homes) into a
fresh database with --create-homes, timed; then the same file again, which must change no row.

    .venv/bin/python benchmarks/import_bench.py                 # SQLite (temp file)
    .venv/bin/python benchmarks/import_bench.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

With --postgres a scratch database ``mimamori_bench_<random>`` is created beside the one
in the URL and dropped afterwards. Targets (issue 3): <= 20 s on PostgreSQL, <= 60 s on
SQLite. The machine's load average is printed: on a shared machine wall time inflates.
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
TARGETS = {"sqlite": 60.0, "postgresql": 20.0}


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


def timed_import(path: Path) -> tuple[ImportResult, float, float, float]:
    """The import, with wall time, this process's CPU and the database backend's CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    with session_scope() as session:
        server = server_cpu(session)
        result = ingest(session, file_source(path), create_homes=True)
        session.flush()
        server = server_cpu(session) - server
    return result, time.perf_counter() - wall, time.process_time() - cpu, server


def run(url: str, path: Path) -> bool:
    migrate.upgrade(url)
    settings = Settings(database_url=url)
    use_settings(settings)
    engine = init_db(settings)
    backend = engine.dialect.name
    print(f"{backend}: importing {path.name} (load average {os.getloadavg()[0]:.1f})")
    first, wall1, cpu1, db1 = timed_import(path)
    print(
        f"  first import : {wall1:6.1f} s wall, {cpu1:5.1f} s CPU here + {db1:5.1f} s database backend CPU; "
        f"inserted {first.inserted}, homes created {first.homes_created}, rejected {first.rejected} "
        f"({first.inserted / wall1:,.0f} rows/s)"
    )
    second, wall2, cpu2, db2 = timed_import(path)
    print(
        f"  second import: {wall2:6.1f} s wall, {cpu2:5.1f} s CPU here + {db2:5.1f} s backend; "
        f"rows changed {second.changed} "
        f"(unchanged {second.unchanged})"
    )
    engine.dispose()
    target = TARGETS[backend]
    ok = wall1 <= target and second.changed == 0 and first.rejected == 0
    print(f"  target <= {target:.0f} s and 0 rows changed the second time: {'MET' if ok else 'NOT MET'}")
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL URL; a scratch database is made beside it")
    parser.add_argument("--file", type=Path, default=DATA)
    args = parser.parse_args()
    if not args.file.exists():
        print(f"{args.file} not found (the reference data lives in ../shared)", file=sys.stderr)
        return 2
    if not args.postgres:
        with tempfile.TemporaryDirectory() as folder:
            return 0 if run(f"sqlite:///{folder}/bench.db", args.file) else 1
    with scratch_postgres(args.postgres) as url:
        return 0 if run(url, args.file) else 1


if __name__ == "__main__":
    sys.exit(main())
