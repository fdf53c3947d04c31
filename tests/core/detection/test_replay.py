"""The replay contract: CSV in, CSV out, visibility delay honoured, bad input refused."""

from __future__ import annotations

import csv
import gzip
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from core.detection.timeaxis import JST, SLOTS_PER_DAY
from mimamori.cli.main import main

from .synth import night_reading, normal_day

START = datetime(2026, 1, 5, tzinfo=JST)  # a Monday, 00:00 JST


def _write_readings(path: Path, days: int = 66, quiet_from_day: int = 62, gz: bool = False) -> None:
    """Two homes: A normal, then from ``quiet_from_day`` 10:00 nothing but the fridge; B always normal.
    Rows are written in shuffled order with a few missing."""
    rng = np.random.default_rng(4)
    rows = []
    for meter in ("A", "B"):
        x = np.concatenate([normal_day(rng) for _ in range(days)])
        if meter == "A":
            q = quiet_from_day * SLOTS_PER_DAY + 20
            x[q : q + 48] = night_reading(rng, 48)
        for i, v in enumerate(x):
            if rng.random() < 0.002:
                continue
            rows.append((meter, (START + timedelta(minutes=30 * i)).isoformat(), f"{v:.3f}"))
    rng.shuffle(rows)
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["meter_id", "interval_start", "kwh"])
        w.writerows(rows)


def _alerts(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _replay(*args: str) -> int:
    try:
        main(["replay", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def readings(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "readings.csv.gz"
    _write_readings(path, gz=True)
    return path


def test_replay_writes_the_alert_for_the_quiet_day_and_nothing_for_the_normal_home(readings, tmp_path) -> None:
    out = tmp_path / "alerts.csv"
    assert _replay(str(readings), "--out", str(out)) == 0
    alerts = _alerts(out)
    assert list(alerts[0].keys()) == ["meter_id", "kind", "detected_at", "window_start"]
    emergencies = [a for a in alerts if a["kind"] in ("no_wake", "inactivity", "flat_usage")]
    assert {a["meter_id"] for a in emergencies} == {"A"}
    quiet_start = START + timedelta(days=62, hours=10)
    first = datetime.fromisoformat(emergencies[0]["detected_at"])
    assert quiet_start < first < quiet_start + timedelta(hours=12)
    assert emergencies[0]["detected_at"].endswith("+09:00")
    assert any(a["kind"] == "usage_resumed" and a["meter_id"] == "A" for a in alerts)


def test_no_alert_is_detected_before_its_data_was_visible(readings, tmp_path) -> None:
    out60, out180 = tmp_path / "a60.csv", tmp_path / "a180.csv"
    assert _replay(str(readings), "--out", str(out60)) == 0
    assert _replay(str(readings), "--out", str(out180), "--delay-minutes", "180") == 0
    a60, a180 = _alerts(out60), _alerts(out180)
    assert a60 and len(a60) == len(a180)
    for x, y in zip(a60, a180, strict=True):
        shift = datetime.fromisoformat(y["detected_at"]) - datetime.fromisoformat(x["detected_at"])
        assert shift == timedelta(hours=2)
        assert (x["meter_id"], x["kind"], x["window_start"]) == (y["meter_id"], y["kind"], y["window_start"])
    for a in a60:
        visible_end = datetime.fromisoformat(a["detected_at"]) - timedelta(minutes=60)
        assert datetime.fromisoformat(a["window_start"]) < visible_end


def test_nothing_is_raised_in_the_first_56_days(readings, tmp_path) -> None:
    out = tmp_path / "alerts.csv"
    _replay(str(readings), "--out", str(out))
    learning_end = START + timedelta(days=56)
    assert all(datetime.fromisoformat(a["detected_at"]) >= learning_end for a in _alerts(out))


def test_a_set_wake_time_is_used(readings, tmp_path) -> None:
    homes = tmp_path / "homes.csv"
    homes.write_text("meter_id,wake_time,sleep_time\nA,06:00,22:00\n")
    out = tmp_path / "alerts.csv"
    assert _replay(str(readings), "--out", str(out), "--homes", str(homes)) == 0
    assert _alerts(out)


@pytest.mark.parametrize("bad", ["25:00", "7.30", "07:61"])
def test_a_bad_homes_file_is_refused_clearly_and_writes_nothing(readings, tmp_path, capsys, bad) -> None:
    homes = tmp_path / "homes.csv"
    homes.write_text(f"meter_id,wake_time,sleep_time\nA,{bad},22:00\n")
    out = tmp_path / "alerts.csv"
    assert _replay(str(readings), "--out", str(out), "--homes", str(homes)) != 0
    assert bad in capsys.readouterr().err
    assert not out.exists()


def test_a_readings_file_without_its_header_is_refused(tmp_path, capsys) -> None:
    bad = tmp_path / "r.csv"
    bad.write_text("A,2026-01-01T00:00:00+09:00,0.1\n")
    assert _replay(str(bad), "--out", str(tmp_path / "o.csv")) != 0
    assert "meter_id,interval_start,kwh" in capsys.readouterr().err


def test_several_budgets_in_one_pass_raise_what_each_would_alone(readings) -> None:
    from core.detection.engine import Sensitivity
    from core.detection.replay import daily_baselines, load_readings, replay_arrays, replay_each

    data = load_readings(readings)
    base = daily_baselines(data)
    budgets = [Sensitivity(false_alarm_budget=b) for b in (0.05, 3.0)]
    together = replay_each(data, budgets, baselines=base)
    alone = [replay_arrays(data, sensitivity=s, baselines=base) for s in budgets]
    assert together == alone
    emergencies = [[a for a in alerts if a.kind.value in ("no_wake", "inactivity", "flat_usage")] for alerts in alone]
    assert len(emergencies[0]) <= len(emergencies[1])
    assert emergencies[1]  # the quiet day is caught


def test_homes_dealt_out_to_processes_raise_the_very_same_alerts(readings) -> None:
    """``mimamori replay`` shares the homes out over processes: the same alerts, in the same
    order. C is a copy of A, dealt to the other process than A: both raise A's quiet day."""
    from core.detection.replay import MeterArrays, load_readings, replay_arrays, replay_in_processes

    read = load_readings(readings)
    a, b = read.meter_ids.index("A"), read.meter_ids.index("B")
    data = MeterArrays(["A", "C", "B"], read.first_slot, read.x[[a, a, b]])  # dealt: (A, B) and (C)
    homes = {"B": (14.0, 44.0)}
    alone = replay_arrays(data, homes=homes)
    shared = replay_in_processes(data, processes=2, homes=homes)
    assert shared == alone
    assert {x.meter_id for x in alone} >= {"A", "C"}
