"""How long `mimamori replay` takes on lcl-dev (60 homes, one year). Target: <= 30 s.

One command: ``.venv/bin/python benchmarks/replay_speed.py``. Runs the replay command
end to end (read gzip CSV, learn daily baselines, evaluate every tick, write ALERTS.csv)
and prints each phase.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.detection.replay import daily_baselines, load_readings, replay_arrays, write_alerts  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "lcl-dev" / "readings.csv.gz"


def main() -> None:
    t0 = time.perf_counter()
    data = load_readings(DATA)
    t1 = time.perf_counter()
    baselines = daily_baselines(data)
    t2 = time.perf_counter()
    alerts = replay_arrays(data, baselines=baselines)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_alerts(alerts, Path(tmp) / "alerts.csv")
    t4 = time.perf_counter()
    print(f"homes {len(data.meter_ids)}, half-hours {data.x.shape[1]}, alerts {len(alerts)}")
    print(f"read {t1 - t0:.1f} s, baselines {t2 - t1:.1f} s, detection {t3 - t2:.1f} s, write {t4 - t3:.1f} s")
    print(f"total {t4 - t0:.1f} s (target <= 30 s)")


if __name__ == "__main__":
    main()
