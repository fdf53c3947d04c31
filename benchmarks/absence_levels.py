"""Can false alarms (real absences) be told from injected quiet days by what they look like?

    .venv/bin/python benchmarks/absence_levels.py [--homes 30] [--quantize 0] [--budget 0.015]

(the numbers in benchmarks/results/detection_notes.md were taken with ``--budget 0.015``; the
default is the shipped budget)

Same injection, register emulation and replay as benchmarks/detection_eval.py, on a spread
subset of lcl-dev. For every emergency raised on the untouched readings (a false alarm) and
every one raised inside an injected event (a catch) it compares the mean reading of the last
8 h before the alarm with the home's own nights (01:00-05:00) of the 56 days before: a home
left for a trip often has things switched off, and sits below its nights; a home where nobody
moves sits at them. Then, for the injected quiet events, how many are caught by the time of
day they start, and for the missed ones whether an emergency was raised in the 24 h before
the event (the situation already alerted) or not (the score never reached the home's level).
Issue 13, item 4; results in benchmarks/results/detection_notes.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detection_eval import spread_subset  # noqa: E402
from eval_parts import (  # noqa: E402
    EVENT_SLOTS,
    LCL_DEV,
    col_of_tick,
    inject,
    median_watchability,
    quantize,
    score_events,
)

from core.detection import DEFAULT_FALSE_ALARM_BUDGET  # noqa: E402
from core.detection.baseline import LEARNING_DAYS, NIGHT_SLOTS  # noqa: E402
from core.detection.engine import Sensitivity  # noqa: E402
from core.detection.replay import daily_baselines, load_readings, replay_each  # noqa: E402
from core.detection.timeaxis import SLOTS_PER_DAY  # noqa: E402
from core.enums import EMERGENCY_KINDS  # noqa: E402

LOOK_BACK = 16  # 8 h before the alarm


def level_against_nights(x: np.ndarray, home: int, col: int, since: int) -> tuple[float, np.ndarray] | None:
    """(mean reading of the 8 h before ``col`` (not before ``since``), the home's nightly means
    of the 56 days before: their 10th, 25th and 50th percentiles), or None if unknown."""
    day = col // SLOTS_PER_DAY
    nights = x[home].reshape(-1, SLOTS_PER_DAY)[max(0, day - LEARNING_DAYS) : day][:, NIGHT_SLOTS]
    seen = ~np.isnan(nights).all(axis=1)
    stretch = x[home, max(since, col - LOOK_BACK) : col]
    if not seen.any() or not np.isfinite(stretch).any():
        return None
    return float(np.nanmean(stretch)), np.quantile(np.nanmean(nights[seen], axis=1), [0.1, 0.25, 0.5])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=30)
    parser.add_argument("--quantize", type=float, default=0.0)
    parser.add_argument("--budget", type=float, default=DEFAULT_FALSE_ALARM_BUDGET)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    truth = load_readings(LCL_DEV)
    injected_truth, events = inject(truth, np.random.default_rng(args.seed))
    truth, injected_truth, events = spread_subset(truth, injected_truth, events, args.homes)
    clean = quantize(truth, args.quantize, np.random.default_rng(args.seed + 1))
    injected = quantize(injected_truth, args.quantize, np.random.default_rng(args.seed + 1))
    base_clean, base_inj = daily_baselines(clean), daily_baselines(injected)
    rhythm = np.nan_to_num(median_watchability(*base_clean)) >= Sensitivity().watchable_min
    sens = (Sensitivity(false_alarm_budget=args.budget),)
    index = {m: i for i, m in enumerate(clean.meter_ids)}

    def alarms(data, baselines) -> list[tuple[int, int, int]]:
        """(home, column the alarm is known at, window start column) of every emergency."""
        return [(index[a.meter_id], int(col_of_tick(data, a.detected_slot_time)), a.window_start_slot - data.first_slot)
                for a in replay_each(data, sens, baselines=baselines)[0] if a.kind in EMERGENCY_KINDS]

    false_alarms, raised = alarms(clean, base_clean), alarms(injected, base_inj)
    by_home: dict[int, list] = {}
    for e in events:
        by_home.setdefault(e.home, []).append(e)
    groups: dict[str, list] = {"false alarms (untouched readings)": [], "caught quiet events": [],
                               "caught TV-left-on events": []}
    for home, col, since in false_alarms:
        if (found := level_against_nights(clean.x, home, col - 1, since)) is not None:
            groups["false alarms (untouched readings)"].append(found)
    for home, col, since in raised:
        inside = [e for e in by_home.get(home, []) if e.start < col <= e.start + EVENT_SLOTS + 2]
        if inside and (found := level_against_nights(injected.x, home, col - 1, since)) is not None:
            groups["caught TV-left-on events" if inside[0].tv else "caught quiet events"].append(found)
    label = "as measured" if args.quantize == 0 else f"{args.quantize:g} kWh register"
    print(f"{len(clean.meter_ids)} homes, {label}, budget {args.budget}: mean of the 8 h before the alarm against "
          "the home's own nights (share of alarms below)")
    for name, rows in groups.items():
        level = np.array([r[0] for r in rows])
        q = np.array([r[1] for r in rows]).reshape(-1, 3)
        print(f"  {name:34s} n={len(rows):4d}  below its nights' 10th pct {np.mean(level < q[:, 0]):.2f}, "
              f"25th {np.mean(level < q[:, 1]):.2f}, 0.8 x median {np.mean(level < 0.8 * q[:, 2]):.2f}, "
              f"median {np.mean(level < q[:, 2]):.2f}")

    detected: dict[int, list[float]] = {}
    for home, col, _since in raised:
        detected.setdefault(home, []).append(float(col))
    hours = score_events(events, detected)
    start_hh = np.array([e.start % SLOTS_PER_DAY for e in events]) // 2
    quiet = np.array([rhythm[e.home] and not e.tv for e in events])
    print("quiet events on rhythm homes, by the hour they start (column time):")
    for lo in range(0, 24, 3):
        m = quiet & (start_hh >= lo) & (start_hh < lo + 3)
        caught = np.isfinite(hours[m])
        fast = np.median(hours[m][caught]) if caught.any() else float("nan")
        print(f"  {lo:02d}-{lo + 3:02d} h  n={m.sum():3d}  caught {caught.mean() * 100:5.1f} %  "
              f"median of the caught {fast:4.1f} h")
    before = 0
    missed = [(e, i) for i, e in enumerate(events) if rhythm[e.home] and not np.isfinite(hours[i])]
    for e, _i in missed:
        before += any(home == e.home and e.start - SLOTS_PER_DAY < col <= e.start for home, col, _s in raised)
    print(f"missed events on rhythm homes: {len(missed)}; with an emergency raised in the 24 h before the event "
          f"(the situation already alerted): {before}; the rest never reached the home's level")


if __name__ == "__main__":
    main()
