"""Real ``mimamori worker`` processes, SIGKILLed at random for 30 s while incidents escalate,
then a drain: nothing lost, nothing twice, nothing stuck, nothing late, no phone number or
LINE id in any worker's log. The long version is benchmarks/chaos_bench.py.
"""

from __future__ import annotations

import pytest

from core.db import is_postgres
from tests.chaos.harness import Chaos, Config, Policy


def test_workers_killed_at_random_lose_nothing_and_send_nothing_twice(db, database_url, tmp_path) -> None:
    if not is_postgres(db):
        pytest.skip("several worker processes need PostgreSQL (SQLite runs one process); "
                    "run with DATABASE_URL=postgresql+psycopg://...")
    config = Config(incidents=30, workers=3, chaos_seconds=30, open_over_seconds=15, drain_seconds=90, min_age=1,
                    policy=Policy("fast", calls=2, call_interval_min=0.1, wait_min=0.1, sms_share=0.3),
                    seed=18, log_dir=tmp_path / "logs")
    result = Chaos(database_url, config).run()
    print(result.summary())
    assert result.kills >= 3 and result.incidents == 30  # kills only workers that are up (slow on a busy box)
    assert (result.lost, result.duplicates, result.stuck) == (0, 0, 0), result.summary()
    assert result.deliveries == result.expected
    assert result.late == 0, result.summary()  # every message out within 30 s of the kills ending
    assert result.pii_leaks == []
