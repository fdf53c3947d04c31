"""A slice of the real reference homes through the replay command."""

from __future__ import annotations

import csv
import gzip
from datetime import datetime, timedelta
from pathlib import Path

from mimamori.cli.main import main

HOMES = ("MAC000002", "MAC000004", "MAC000010")  # two ordinary homes and a nearly dead meter


def test_a_real_slice_replays_and_the_dead_meter_never_raises_an_emergency(lcl_readings: Path, tmp_path) -> None:
    sliced = tmp_path / "slice.csv"
    with gzip.open(lcl_readings, "rt", newline="") as src, open(sliced, "w", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        writer.writerow(next(reader))
        writer.writerows(row for row in reader if row[0] in HOMES and row[1] < "2013-07-01")
    out = tmp_path / "alerts.csv"
    try:
        main(["replay", str(sliced), "--out", str(out)])
    except SystemExit as exc:
        assert not exc.code
    with open(out, newline="") as fh:
        alerts = list(csv.DictReader(fh))
    emergencies = [a for a in alerts if a["kind"] in ("no_wake", "inactivity", "flat_usage")]
    assert not [a for a in emergencies if a["meter_id"] == "MAC000004"]
    first_watch = datetime.fromisoformat("2013-01-01T00:00:00+09:00") + timedelta(days=56)
    assert all(datetime.fromisoformat(a["detected_at"]) >= first_watch for a in alerts)
    months = 4
    assert len(emergencies) <= 2 * 4 * months  # ordinary homes: a few a month at most, not a flood
