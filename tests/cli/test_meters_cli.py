"""The fixed command lines: ``mimamori meters import FILE [--format] [--create-homes]`` and
``mimamori meters pull``: summary line, ``line N: reason`` per bad row, exit 1 on any."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from core.clock import ManualClock
from core.db import session_scope
from core.meters.fake_api import FakeMeterApi
from core.models import Home, MeterReading
from core.settings import Settings
from mimamori.cli.main import cli
from tests.core.meters.conftest import SUPPLY_POINT, add_home, green_button, replay_csv, utc, utility_csv


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def count_readings() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(MeterReading)) or 0


def test_import_twice_creates_homes_then_changes_nothing(db: Engine, clock: ManualClock, tmp_path: Path) -> None:
    path = tmp_path / "replay.csv"
    path.write_text(replay_csv([("M1", "2026-05-01T09:00:00+09:00", "0.2"), ("M2", "2026-05-01T09:00:00+09:00", "")]))
    code, out, _ = run("meters", "import", str(path), "--create-homes")
    assert code == 0
    assert out.strip() == "replay.csv: inserted 1, revised 0, unchanged 0, rejected 0 (missing 1, homes created 1)"
    code, out, _ = run("meters", "import", str(path))
    assert code == 0 and "inserted 0, revised 0, unchanged 1, rejected 0" in out


def test_bad_rows_are_printed_and_the_exit_code_says_so(db: Engine, clock: ManualClock, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        replay_csv([("M9", "2026-05-01T09:00:00+09:00", "0.2"), ("M9", "2026-05-01T09:30:00+09:00", "-1")])
    )
    code, out, err = run("meters", "import", str(path))
    assert code == 1
    assert "rejected 2" in out
    assert err.splitlines() == ["line 2: unknown meter 'M9'", "line 3: negative kwh -1.0"]


def test_each_format_by_detection_and_by_flag(db: Engine, clock: ManualClock, tmp_path: Path) -> None:
    with session_scope() as session:
        add_home(session, "SP", supply_point_number=SUPPLY_POINT)
    day = [0.1] * 48
    utility = tmp_path / "denki_30min.csv"
    utility.write_bytes(utility_csv([(SUPPLY_POINT, date(2026, 5, 10), day)]))
    gb = tmp_path / "greenbutton.dat"
    gb.write_text(green_button(SUPPLY_POINT, [(utc(2026, 5, 12, 0, 0), 150)]))
    assert run("meters", "import", str(utility))[0] == 0
    assert run("meters", "import", str(gb), "--format", "green-button")[0] == 0
    assert count_readings() == 49
    code, _, err = run("meters", "import", str(gb), "--format", "replay")
    assert code == 1 and "expected 3 columns" in err


def test_pull_runs_the_configured_api(db: Engine, clock: ManualClock, settings: Settings) -> None:
    with FakeMeterApi(token="tok") as api:
        api.add("P1", "2026-05-01T00:00:00+00:00", 0.3)
        settings.meter_source = "http"
        settings.meter_api_url = api.url
        settings.meter_api_token = "tok"
        with session_scope() as session:
            add_home(session, "P1")
        code, out, _ = run("meters", "pull")
        assert code == 0 and "inserted 1" in out
        settings.meter_api_token = "wrong"
        code, _, err = run("meters", "pull")
        assert code == 1 and "401" in err
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Home)) == 1


def test_the_demo_switch_for_the_simulated_senior(db: Engine, clock: ManualClock) -> None:
    from core.meters.pull import incapacitated_homes

    code, out, _ = run("meters", "simulate-incapacity", "SIM-1", "--since", "2026-06-01T08:00:00+09:00")
    assert code == 0 and "SIM-1" in out
    with session_scope() as session:
        assert incapacitated_homes(session) == {"SIM-1": utc(2026, 5, 31, 23, 0)}
    assert run("meters", "simulate-incapacity", "SIM-1", "--clear")[0] == 0
    with session_scope() as session:
        assert incapacitated_homes(session) == {}
    assert run("meters", "simulate-incapacity", "SIM-1", "--since", "tomorrow")[0] == 2


def test_pull_with_the_embedded_simulator(db: Engine, clock: ManualClock, settings: Settings) -> None:
    settings.meter_source = "simulator"
    with session_scope() as session:
        add_home(session, "SIM-CLI")
    code, out, _ = run("meters", "pull")
    assert code == 0 and "pull (simulator): inserted 2880" in out
    code, out, _ = run("meters", "pull")
    assert code == 0 and "inserted 0, revised 0, unchanged 0" in out
