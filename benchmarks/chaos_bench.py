"""Chaos, long: real ``mimamori worker`` processes on PostgreSQL, SIGKILLed every 0.5–2 s
(now and then all at once) for minutes while hundreds of incidents escalate, then a drain.

Each run gets a scratch database; local fake LINE, Twilio and webhook servers count every
delivery per outbox row (tests/chaos/harness.py). Prints one line per run — incidents,
kills, messages, deliveries, lost, duplicates, stuck, late (sent more than 30 s after the
kills ended), send delay p50/p95 (first delivery minus the row's creation), and the
take-over time of a killed worker's claimed messages (kill to settled by another worker) —
with the load average, and appends it to ``--out``.

    .venv/bin/python benchmarks/chaos_bench.py --policy minute --incidents 300 --chaos-seconds 300
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from scratch_db import scratch_postgres  # benchmarks/scratch_db.py, beside this script

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.chaos.harness

from core import db, migrate  # noqa: E402
from core.settings import Settings, use_settings  # noqa: E402
from tests.chaos.harness import Chaos, Config, Policy  # noqa: E402

POLICIES = {
    # Calls a minute apart (the shortest a home's policy may set), then family, landlord, dispatch.
    "minute": Policy("minute: 3 calls 1 min apart, waits 1 min", calls=3, call_interval_min=1, wait_min=1),
    "minute-sms": Policy("minute-sms: as minute, 30% of residents by SMS", calls=3, call_interval_min=1,
                         wait_min=1, sms_share=0.3),
    "fast": Policy("fast: 3 calls 15 s apart, waits 15 s", calls=3, call_interval_min=0.25, wait_min=0.25),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--policy", choices=sorted(POLICIES), default="minute")
    parser.add_argument("--incidents", type=int, default=300)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--chaos-seconds", type=float, default=300)
    parser.add_argument("--open-over-seconds", type=float, default=None, help="default: 80%% of the chaos")
    parser.add_argument("--drain-seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "chaos.txt")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fakes' request lines

    config = Config(incidents=args.incidents, workers=args.workers, chaos_seconds=args.chaos_seconds,
                    open_over_seconds=args.open_over_seconds or 0.8 * args.chaos_seconds,
                    drain_seconds=args.drain_seconds, policy=POLICIES[args.policy], seed=args.seed,
                    log_dir=REPO / "var" / "chaos" / f"{args.policy}-{args.seed}")
    with scratch_postgres(args.url, prefix="mimamori_chaos") as url:
        migrate.upgrade(url)
        use_settings(Settings(database_url=url))
        db.init_db(engine=db.make_engine(url))
        result = Chaos(url, config).run()
        db.get_engine().dispose()
    line = f"{datetime.now(UTC):%Y-%m-%d %H:%M}Z workers={args.workers} seed={args.seed} {result.summary()}"
    print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as out:
        out.write(line + "\n")
    if result.lost or result.duplicates or result.stuck or result.pii_leaks:
        sys.exit(1)


if __name__ == "__main__":
    main()
