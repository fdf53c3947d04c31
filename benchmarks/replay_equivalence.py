"""Does a faster replay still write the very same ALERTS.csv? Write references once, check later.

``.venv/bin/python benchmarks/replay_equivalence.py write DIR`` (on the code before a change)
then ``... check DIR`` (after it): lcl-dev as read, and through 0.1 and 0.01 kWh registers
(benchmarks/eval_parts.py ``quantize``), each also with set wake/sleep times for a third of
the homes; byte-for-byte ALERTS.csv, and the daily baselines array by array.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.eval_parts import LCL_DEV, quantize  # noqa: E402
from core.detection.baseline import Baselines  # noqa: E402
from core.detection.replay import daily_baselines, load_readings, replay_arrays, write_alerts  # noqa: E402

STEPS = (0.0, 0.1, 0.01)


def _homes(meter_ids: list[str]) -> dict[str, tuple[float, float]]:
    """Set wake/sleep times for every third home (the rest learned), as HOMES.csv gives them."""
    return {m: (14.0 + i % 4, 44.0 + i % 6) for i, m in enumerate(meter_ids) if i % 3 == 0}


def _cases(steps: tuple[float, ...]):
    data = load_readings(LCL_DEV)
    for step in steps:
        variant = quantize(data, step, np.random.default_rng(7))
        t0 = time.perf_counter()
        base = daily_baselines(variant)
        t1 = time.perf_counter()
        for with_homes in (False, True):
            homes = _homes(variant.meter_ids) if with_homes else None
            t2 = time.perf_counter()
            alerts = replay_arrays(variant, baselines=base, homes=homes)
            name = f"step{step:g}{'_homes' if with_homes else ''}"
            print(f"{name}: baselines {t1 - t0:.1f} s, detection {time.perf_counter() - t2:.1f} s, "
                  f"{len(alerts)} alerts", flush=True)
            yield name, base, alerts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("write", "check"))
    ap.add_argument("dir", type=Path)
    ap.add_argument("--steps", type=float, nargs="*", default=list(STEPS))
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    bad = 0
    for name, (base, ready), alerts in _cases(tuple(args.steps)):
        ref_csv, ref_npz = args.dir / f"{name}.csv", args.dir / f"{name.split('_')[0]}.npz"
        if args.mode == "write":
            write_alerts(alerts, ref_csv)
            np.savez_compressed(ref_npz, ready=ready, **{f: getattr(base, f) for f in Baselines.__dataclass_fields__})
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "alerts.csv"
            write_alerts(alerts, out)
            same = filecmp.cmp(out, ref_csv, shallow=False)
        ref = np.load(ref_npz)
        diff = [f for f in (*Baselines.__dataclass_fields__, "ready")
                if not np.array_equal(ref[f], ready if f == "ready" else getattr(base, f), equal_nan=True)]
        print(f"  {name}: ALERTS.csv {'identical' if same else 'DIFFERENT'}; baselines "
              f"{'identical' if not diff else 'differ in ' + ', '.join(diff)}")
        bad += (not same) + bool(diff)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
