"""``mimamori graph METER_ID --day YYYY-MM-DD --out FILE.png``, run as a user would run it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from PIL import Image

from tests.core.reports.helpers import active_day, put_day


def mimamori(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "mimamori"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mimamori.cli.main"]
    env = {**os.environ, "DATABASE_URL": database_url, "MIMAMORI_ENV": "dev"}
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_draws_a_stored_day_to_a_png(make_home, database_url: str, tmp_path: Path) -> None:
    home = make_home(meter_id="MAC000002")
    put_day(home.id, date(2026, 6, 2), active_day())
    out = tmp_path / "day.png"
    result = mimamori(database_url, "graph", "MAC000002", "--day", "2026-06-02", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert Image.open(io.BytesIO(out.read_bytes())).size == (1040, 780)


def test_unknown_meter_and_bad_date_end_in_one_clear_line(make_home, database_url: str, tmp_path: Path) -> None:
    make_home(meter_id="MAC000002")
    out = tmp_path / "x.png"
    unknown = mimamori(database_url, "graph", "NOPE", "--day", "2026-06-02", "--out", str(out))
    assert unknown.returncode != 0
    assert "no home with meter id 'NOPE'" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    bad = mimamori(database_url, "graph", "MAC000002", "--day", "2026-13-45", "--out", str(out))
    assert bad.returncode != 0
    assert "2026-13-45" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_reports_daily_enqueues_once_from_the_command_line(make_home, make_watcher, database_url: str) -> None:
    home = make_home(meter_id="MAC000003")
    make_watcher(home, notify_daily=True)
    put_day(home.id, date(2026, 6, 2), active_day())
    first = mimamori(database_url, "reports", "daily", "MAC000003", "--day", "2026-06-02")
    again = mimamori(database_url, "reports", "daily", "MAC000003", "--day", "2026-06-02")
    assert first.returncode == 0 and "enqueued 1 message" in first.stdout, first.stderr
    assert again.returncode == 0 and "enqueued 0 message" in again.stdout
