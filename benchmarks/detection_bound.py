"""How many 24 h quiet events can ANY detector catch at 1 false alarm per home-month, if it
cannot tell a fall from an absence? An upper bound on lcl-dev, beside the service's numbers.

Run: ``.venv/bin/python benchmarks/detection_bound.py`` (about a minute; writes
benchmarks/results/detection_bound.txt).

A quiet event (benchmarks/eval_parts.py ``inject``) replaces 24 h of a home's use by its own
night readings: from its last sustained use on, the home looks exactly like it does when
nobody is in. A real absence (a day out, a trip) looks the same. So a detector that cannot tell
them apart alarms on a quiet stretch knowing only *when it began* and *how long it has lasted*:
its best form is a threshold ``theta[home, half-hour the stretch began]``. Each threshold costs
the real stretches that last longer (false alarms, counted on the untouched readings) and wins
the events whose stretch it reaches within their 24 h (with the evaluation's 60-minute delay).

Quiet stretches are the service's own: from one sustained use (core/detection/strips.py, the
same series the replay uses, under each day's learned baseline) to the next, on ready days.
Events are *virtual*: one starting at every watched half-hour (the injected ones are a sample of
these), so the thresholds never see where the evaluation put its events.

Thresholds are chosen by a Lagrangian sweep (each (home, start half-hour) takes the threshold
with the most catches minus lambda times its false alarms):
- ``oracle``: chosen on the very year it is scored on (in-sample): no detector of this kind that
  learns from a home's past can do better on these readings;
- ``past half, pooled``: chosen on the first half of each home's watched days (counts pooled over
  +-1 h of start time, as a learner must), scored on the second: what learning from the past gives;
- ``one per home``: one threshold per home whenever its stretch began (oracle, in-sample).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval_parts import DELAY_MIN, EVENT_SLOTS, LCL_DEV, quantize  # noqa: E402

from core.detection.engine import Sensitivity  # noqa: E402
from core.detection.replay import daily_baselines, load_readings, padded  # noqa: E402
from core.detection.strips import day_strips  # noqa: E402
from core.detection.timeaxis import SLOTS_PER_DAY  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "detection_bound.txt"
MIN_THETA = 8  # the detectors' shortest quiet (4 h)
THETAS = np.arange(MIN_THETA, 4 * SLOTS_PER_DAY + 1)  # 4 h .. 4 days; past the last: never
LAST_COL = EVENT_SLOTS - 1 - 1 - DELAY_MIN // 30  # latest alarm column after the event's start that counts
DAYS_PER_MONTH = 30.44


@dataclass
class Home:
    """One home's quiet stretches and virtual events, in columns."""

    starts: np.ndarray  # stretch starts
    lengths: np.ndarray  # stretch lengths (half-hours quiet)
    ev_start: np.ndarray  # virtual event starts (t0)
    ev_quiet: np.ndarray  # where the quiet the event continues began (s <= t0)


def quiet_resets(data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reset [H, N], watched [H, N], watchability [H]): the service's own stretch ends."""
    base, ready = daily_baselines(data)
    strips = day_strips(padded(data), data.first_slot, base, ready)
    h, days = ready.shape
    reset = np.ones((h, days * SLOTS_PER_DAY), bool)
    hs, ds = np.nonzero(ready)
    rows = strips.index[hs, ds]
    cols = ds[:, None] * SLOTS_PER_DAY + np.arange(SLOTS_PER_DAY)[None, :]
    reset[hs[:, None], cols] = strips.quiet_resets[rows, -SLOTS_PER_DAY:]
    watched = np.repeat(ready, SLOTS_PER_DAY, axis=1)
    with warnings.catch_warnings():  # a home never ready (a dead meter) has no median: NaN, not watchable
        warnings.simplefilter("ignore", RuntimeWarning)
        watch = np.nanmedian(np.where(ready, base.watchability.reshape(h, days), np.nan), axis=1)
    return reset & watched | ~watched, watched, watch


def home_of(reset: np.ndarray, watched: np.ndarray) -> Home:
    """Stretches between resets (an unwatched day ends one) and a virtual event at every watched
    half-hour whose 24 h stay watched."""
    quiet = ~reset
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    starts, ends = edges[::2], edges[1::2]
    n = len(reset)
    stretch_start = np.full(n, -1)
    for a, b in zip(starts, ends, strict=True):
        stretch_start[a:b] = a
    t0 = np.arange(1, n - EVENT_SLOTS)
    whole = np.convolve(watched.astype(int), np.ones(EVENT_SLOTS, int), "full")[EVENT_SLOTS - 1 : n + EVENT_SLOTS - 1]
    t0 = t0[(whole[t0] == EVENT_SLOTS) & watched[t0 - 1]]
    before = stretch_start[t0 - 1]  # the event continues the quiet the home was in, if it was
    s = np.where(before >= 0, before, t0)
    return Home(starts, ends - starts, t0, s)


def tables(home: Home, keep_stretch: np.ndarray, keep_event: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(false alarms [48, T+1], catches [48, T+1], virtual events) for every start half-hour and
    threshold (index T: never alarm)."""
    t = len(THETAS)
    fa = np.zeros((SLOTS_PER_DAY, t + 1))
    lengths, starts = home.lengths[keep_stretch], home.starts[keep_stretch]
    for b in range(SLOTS_PER_DAY):
        d = np.sort(lengths[starts % SLOTS_PER_DAY == b])
        fa[b, :t] = len(d) - np.searchsorted(d, THETAS, side="left")  # stretches lasting >= theta
    caught = np.zeros((SLOTS_PER_DAY, t + 2))
    t0, s = home.ev_start[keep_event], home.ev_quiet[keep_event]
    lo = np.maximum(t0 - s + 1, MIN_THETA) - MIN_THETA  # alarm not before the event began
    hi = np.minimum(t0 - s + 1 + LAST_COL, THETAS[-1]) - MIN_THETA  # nor after its 24 h (and the delay)
    ok = hi >= lo
    np.add.at(caught, (s[ok] % SLOTS_PER_DAY, lo[ok]), 1)
    np.add.at(caught, (s[ok] % SLOTS_PER_DAY, hi[ok] + 1), -1)
    caught = np.cumsum(caught, axis=1)[:, : t + 1]
    caught[:, t] = 0
    return fa, caught, int(keep_event.sum())


def pooled(table: tuple, half_hours: int = 2) -> tuple:
    """A table's counts summed over start half-hours within ``half_hours`` either side (a
    learner's smoothing: routines drift, and half a year holds few stretches per half-hour)."""
    fa, caught, n = table
    def pool(a: np.ndarray) -> np.ndarray:
        return sum(np.roll(a, k, axis=0) for k in range(-half_hours, half_hours + 1))
    return pool(fa), pool(caught), n * (2 * half_hours + 1)


def sweep(train: list[tuple], score: list[tuple], months: np.ndarray, per_home: bool) -> list[tuple[float, float]]:
    """(false alarms per home-month, share caught) at each lambda: thresholds chosen on ``train``
    tables, scored on ``score`` tables (the same for in-sample)."""
    points = []
    weight = months / months.sum()
    for lam in np.geomspace(1e-5, 1.0, 120):
        fa_total, caught = 0.0, 0.0
        for (fa_t, c_t, n_t), (fa_s, c_s, n_s), w in zip(train, score, weight, strict=True):
            gain = c_t / max(n_t, 1) * w - lam * fa_t
            last = gain.shape[1] - 1  # on a tie the longer threshold (fewer alarms) wins
            if per_home:
                pick = np.full(SLOTS_PER_DAY, last - np.argmax(gain.sum(axis=0)[::-1]))
            else:
                pick = last - np.argmax(gain[:, ::-1], axis=1)
            rows = np.arange(SLOTS_PER_DAY)
            fa_total += fa_s[rows, pick].sum()
            caught += c_s[rows, pick].sum() / max(n_s, 1) * w
        points.append((fa_total / months.sum(), caught))
    return points


def at(points: list[tuple[float, float]], fa: float) -> float:
    """Share caught at ``fa`` false alarms per home-month (linear between swept points)."""
    pts = sorted(points)
    xs, ys = np.array([p[0] for p in pts]), np.maximum.accumulate(np.array([p[1] for p in pts]))
    return float(np.interp(fa, xs, ys))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantize", type=float, nargs="+", default=[0.0, 0.1])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started = time.perf_counter()
    truth = load_readings(LCL_DEV)
    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    emit("Upper bound on quiet-event catches for detectors that cannot tell a fall from an absence")
    emit("(lcl-dev, homes with a daily rhythm, 24 h events, 60-min delay; benchmarks/detection_bound.py)")
    fas = (0.5, 0.8, 1.0, 1.5, 2.0)
    for step in args.quantize:
        data = quantize(truth, step, np.random.default_rng(args.seed + 1))
        reset, watched, watch = quiet_resets(data)
        rhythm = np.nan_to_num(watch) >= Sensitivity().watchable_min
        homes = [home_of(reset[i], watched[i]) for i in np.flatnonzero(rhythm)]
        months = watched[rhythm].sum(axis=1) / SLOTS_PER_DAY / DAYS_PER_MONTH
        whole = [tables(hm, np.ones(len(hm.starts), bool), np.ones(len(hm.ev_start), bool)) for hm in homes]
        first, second, months_2 = [], [], []
        for hm, w_row in zip(homes, watched[rhythm], strict=True):
            mid = np.flatnonzero(w_row)[len(np.flatnonzero(w_row)) // 2]
            first.append(tables(hm, hm.starts < mid, hm.ev_quiet < mid))
            second.append(tables(hm, hm.starts >= mid, hm.ev_quiet >= mid))
            months_2.append(w_row[mid:].sum() / SLOTS_PER_DAY / DAYS_PER_MONTH)
        m2 = np.array(months_2)
        curves = {
            "oracle, per start half-hour": sweep(whole, whole, months, per_home=False),
            "oracle, one per home": sweep(whole, whole, months, per_home=True),
            "past half, pooled +-1 h": sweep([pooled(t) for t in first], second, m2, per_home=False),
        }
        label = "as measured" if step == 0 else f"{step:g} kWh register"
        emit()
        emit(f"== {label}: {rhythm.sum()} rhythm homes, {months.sum():.0f} home-months, "
             f"{sum(len(h.starts) for h in homes)} quiet stretches")
        emit("quiet events caught <= 24 h at false alarms / home-month: " + "  ".join(f"{f:4.1f}" for f in fas))
        for name, pts in curves.items():
            emit(f"  {name:30s}" + "".join(f"  {100 * at(pts, f):5.1f}%" for f in fas))
    emit()
    emit(f"{time.perf_counter() - started:.0f} s")
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
