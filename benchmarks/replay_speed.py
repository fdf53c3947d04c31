"""How long `mimamori replay` takes on lcl-dev (60 homes, one year), beside the parse floor.

One command: ``.venv/bin/python benchmarks/replay_speed.py``. Target (issue 13): the replay
within 3x the time it takes merely to parse its input onto a 30-minute grid. The floor is a
lean parser written here (whole file decoded at once, split, unique timestamps parsed once,
one numpy scatter), the kind of reading pandas does; the replay runs end to end (read the
gzip CSV, learn daily baselines, evaluate every tick, write ALERTS.csv), each phase timed in
one process, then as ``mimamori replay`` runs it (the homes dealt out to one process per CPU,
core.detection.replay.replay_in_processes), wall and CPU time, the same alerts checked.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.detection.replay import (  # noqa: E402
    daily_baselines,
    load_readings,
    replay_arrays,
    replay_in_processes,
    write_alerts,
)
from core.detection.timeaxis import SLOT_SECONDS  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "lcl-dev" / "readings.csv.gz"


def parse_floor(path: Path) -> np.ndarray:
    """The input on a [meters, half-hours] grid, as fast as plain Python and numpy parse it."""
    text = gzip.decompress(path.read_bytes()).decode()
    body = text[text.index("\n") + 1 :]
    cells = np.array(body.replace("\n", ",").split(",")[: -1 or None], dtype=object).reshape(-1, 3)
    meters, meter_idx = np.unique(cells[:, 0].astype(str), return_inverse=True)
    stamps, stamp_idx = np.unique(cells[:, 1].astype(str), return_inverse=True)
    slots = np.array([int(datetime.fromisoformat(s).timestamp()) // SLOT_SECONDS for s in stamps])
    col = slots[stamp_idx] - slots.min()
    grid = np.full((len(meters), int(col.max()) + 1), np.nan, np.float32)
    grid[meter_idx, col] = cells[:, 2].astype(np.float32)
    return grid


def main() -> None:
    t0 = time.perf_counter()
    grid = parse_floor(DATA)
    t_floor = time.perf_counter() - t0
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
    total = t4 - t0
    floor = min(t_floor, t1 - t0)  # the replay's own reader is a parse onto the grid too
    print(f"load average {os.getloadavg()[0]:.2f}; homes {len(data.meter_ids)}, half-hours {data.x.shape[1]}, "
          f"alerts {len(alerts)} (floor grid {grid.shape})")
    print(f"parse floor {floor:.1f} s (lean parser {t_floor:.1f} s, the replay's reader {t1 - t0:.1f} s)")
    print(f"replay in one process: read {t1 - t0:.1f} s, baselines {t2 - t1:.1f} s, detection {t3 - t2:.1f} s, "
          f"write {t4 - t3:.1f} s, total {total:.1f} s = {total / floor:.1f}x the floor (target <= 3x)")
    cpu0, t0 = _cpu(), time.perf_counter()
    shared = replay_in_processes(load_readings(DATA))
    with tempfile.TemporaryDirectory() as tmp:
        write_alerts(shared, Path(tmp) / "alerts.csv")
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    assert shared == alerts, "the homes dealt out to processes must raise the very same alerts"
    print(f"as `mimamori replay` runs it ({len(os.sched_getaffinity(0))} processes): total {wall:.1f} s = "
          f"{wall / floor:.1f}x the floor (target <= 3x); CPU {cpu:.1f} s = {cpu / floor:.1f}x; same alerts")


def _cpu() -> float:
    """CPU seconds of this process and its finished children."""
    me, children = os.times()[:2], os.times()[2:4]
    return sum(me) + sum(children)


if __name__ == "__main__":
    main()
