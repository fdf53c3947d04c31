"""How many 24 h quiet events can a detector catch at 1 false alarm per home-month if it cannot
tell a fall from an absence? A ceiling on lcl-dev, beside the service's numbers (issue 13).

Run: ``.venv/bin/python benchmarks/detection_bound.py`` (about a minute; writes
benchmarks/results/detection_bound.txt).

A quiet event (benchmarks/eval_parts.py ``inject``) replaces 24 h of a home's use by its own
night readings: from its last sustained use on, the home looks as it does when nobody is in, and
so does a real absence (a day out, a trip). A detector that cannot tell them apart alarms on a
quiet stretch knowing *when it began* and *how long it has lasted*; its best form is a threshold
``theta[home, half-hour the stretch began]``. Each threshold costs the real stretches that last
longer (false alarms, on the untouched readings) and wins the events whose stretch it reaches
within their 24 h (after the evaluation's 60-minute delay).

Events are *virtual*: one starting at every watched half-hour (the evaluation's injected events
are a sample of these), each made, as ``inject`` makes them, of six of the home's nights from 2-49
days before; use inside those nights (a night heater, a fridge's peaks) ends the stretch as it
would in the evaluation: the event is then caught by the stretch it continued or the one that
begins after that use (whichever can be reached; counting either, not both, errs low by a little).

Thresholds are chosen by a Lagrangian sweep (each (home, start half-hour) takes the threshold
with the most catches minus lambda times its false alarms):
- ``oracle``: chosen on the very year it is scored on (hindsight): no detector of this kind that
  learns from a home's past does better on these readings with this definition of use;
- ``one per home``: the same with one threshold per home whenever its stretch began;
- ``past half, pooled``: chosen on the first half of each home's watched days (counts pooled over
  +-1 h of start time, as a learner must), scored on the second: what counting the past gives
  (n/a: a start half-hour the first half never saw last long keeps a short threshold, whose false
  alarms in the second half no lambda removes).

Beside them, the service as shipped: the evaluation's injected quiet events it catches and its
quiet detectors' false alarms (its score weighs the readings' level too, which timing ignores).

"Use" (what ends a quiet stretch) is the service's own (core/detection/engine.py ``active``,
sustained, under each day's learned baseline and smoothing). Beside it, as measured, simpler
definitions: sustained readings above a quantile of the home's last 56 nights: a more sensitive
one cuts the real stretches shorter but also cuts the events, made of nights.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval_parts import (  # noqa: E402
    DELAY_MIN,
    EVENT_SLOTS,
    LCL_DEV,
    col_of_tick,
    inject,
    median_watchability,
    quantize,
    score_events,
)

from core.detection.baseline import NIGHT_SLOTS, Baselines, bin_index, is_active  # noqa: E402
from core.detection.engine import Sensitivity  # noqa: E402
from core.detection.replay import (  # noqa: E402
    MeterArrays,
    daily_baselines,
    load_readings,
    padded,
    replay_in_processes,
)
from core.detection.series import smooth_rows, sustained  # noqa: E402
from core.detection.strips import day_strips  # noqa: E402
from core.detection.timeaxis import SLOTS_PER_DAY  # noqa: E402
from core.enums import EMERGENCY_KINDS, IncidentKind  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "detection_bound.txt"
MIN_THETA = 8  # the detectors' shortest quiet (4 h)
THETAS = np.arange(MIN_THETA, 4 * SLOTS_PER_DAY + 1)  # 4 h .. 4 days; past the last: never
LAST_COL = EVENT_SLOTS - 1 - 1 - DELAY_MIN // 30  # latest alarm column after the event's start that counts
NIGHTS_BACK = (2, 50)  # inject's nights come from this many days before (upper bound excluded)
DAYS_PER_MONTH = 30.44
FAS = (0.5, 0.8, 1.0, 1.5, 2.0)

# (home, day, event readings [E, 48]) -> [E, 48] bool: use inside the events' nights
EventUse = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Watch:
    """What a definition of use makes of the readings."""

    reset: np.ndarray  # [H, N] bool: a quiet stretch ends here (use, or a day not watched)
    watched: np.ndarray  # [H, N] bool
    event_use: EventUse


@dataclass
class Home:
    """One home's quiet stretches and virtual events, in columns."""

    starts: np.ndarray  # stretch starts
    lengths: np.ndarray  # stretch lengths (half-hours quiet)
    ev_start: np.ndarray  # virtual event starts (t0)
    ev_from: np.ndarray  # start of the stretch that can catch the event
    ev_lo: np.ndarray  # shortest threshold that alarms inside the event's 24 h (after its start)
    ev_hi: np.ndarray  # longest (lo > hi: this stretch cannot)


def service_use(data: MeterArrays) -> tuple[Watch, np.ndarray]:
    """The service's own use (sustained ``active``) under each day's baseline -> (watch, watchability [H])."""
    base, ready = daily_baselines(data)
    strips = day_strips(padded(data), data.first_slot, base, ready)
    h, days = ready.shape
    reset = np.ones((h, days * SLOTS_PER_DAY), bool)
    hs, ds = np.nonzero(ready)
    cols = ds[:, None] * SLOTS_PER_DAY + np.arange(SLOTS_PER_DAY)[None, :]
    reset[hs[:, None], cols] = strips.quiet_resets[strips.index[hs, ds], -SLOTS_PER_DAY:]
    watched = np.repeat(ready, SLOTS_PER_DAY, axis=1)
    watch = median_watchability(base, ready)

    def event_use(home: int, day: np.ndarray, block: np.ndarray) -> np.ndarray:
        b: Baselines = base.take(home * days + day)
        x = smooth_rows(block, b.smooth_slots.astype(np.int64))
        return sustained(is_active(x, bin_index(np.nan_to_num(x), b.edges), b.active_kwh, b.use_bins))

    return Watch(reset | ~watched, watched, event_use), watch


def night_quantile_use(data: MeterArrays, watched: np.ndarray, q: float) -> Watch:
    """Use = sustained readings above the ``q`` quantile of the home's 01:00-05:00 readings of the last 56 days."""
    h, n = data.x.shape
    days = n // SLOTS_PER_DAY
    night = data.x.reshape(h, days, SLOTS_PER_DAY)[:, :, NIGHT_SLOTS]
    level = np.full((h, days), np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for d in range(56, days):
            level[:, d] = np.nanquantile(night[:, d - 56 : d].reshape(h, -1), q, axis=1)
    level = np.nan_to_num(level, nan=np.inf)
    reset = sustained(np.nan_to_num(data.x) > np.repeat(level, SLOTS_PER_DAY, axis=1))

    def event_use(home: int, day: np.ndarray, block: np.ndarray) -> np.ndarray:
        return sustained(np.nan_to_num(block) > level[home, day][:, None])

    return Watch(reset | ~watched, watched, event_use)


def home_of(data: MeterArrays, watch: Watch, home: int, rng: np.random.Generator) -> Home:
    """Stretches between resets, and a virtual event at every watched half-hour whose 24 h stay watched."""
    reset, watched = watch.reset[home], watch.watched[home]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (~reset).astype(np.int8), [0]])))
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
    # the event's readings: six of the home's nights from 2-49 days before, end to end (as inject)
    days = n // SLOTS_PER_DAY
    day = t0 // SLOTS_PER_DAY
    nights = data.x[home].reshape(days, SLOTS_PER_DAY)[:, NIGHT_SLOTS]
    back = rng.integers(*NIGHTS_BACK, size=(len(t0), EVENT_SLOTS // len(NIGHT_SLOTS)))
    block = nights[np.clip(day[:, None] - back, 0, days - 1)].reshape(len(t0), EVENT_SLOTS)
    use = watch.event_use(home, day, block)
    any_use = use.any(axis=1)
    first = np.where(any_use, use.argmax(axis=1), EVENT_SLOTS)
    last = np.where(any_use, EVENT_SLOTS - 1 - use[:, ::-1].argmax(axis=1), -1)
    # the stretch it continued (alarm not before the event began, nor after its first use or its 24 h)
    lo_c = np.maximum(t0 - s + 1, MIN_THETA)
    hi_c = np.minimum(t0 - s + np.minimum(first, 1 + LAST_COL), THETAS[-1])
    # else the stretch after its last use
    continued = hi_c >= lo_c
    return Home(
        starts, ends - starts, t0,
        np.where(continued, s, t0 + last + 1),
        np.where(continued, lo_c, MIN_THETA),
        np.where(continued, hi_c, np.minimum(LAST_COL - last, THETAS[-1])),
    )


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
    ok = keep_event & (home.ev_hi >= home.ev_lo)
    where = home.ev_from[ok] % SLOTS_PER_DAY
    np.add.at(caught, (where, home.ev_lo[ok] - MIN_THETA), 1)
    np.add.at(caught, (where, home.ev_hi[ok] - MIN_THETA + 1), -1)
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
    tables, scored on ``score`` tables (the same, in hindsight)."""
    points = []
    weight = months / months.sum()  # the evaluation injects about one event per home every three weeks
    rows = np.arange(SLOTS_PER_DAY)
    for lam in np.geomspace(1e-5, 1.0, 120):
        fa_total, caught = 0.0, 0.0
        for (fa_t, c_t, n_t), (fa_s, c_s, n_s), w in zip(train, score, weight, strict=True):
            gain = c_t / max(n_t, 1) * w - lam * fa_t
            last = gain.shape[1] - 1  # on a tie the longer threshold (fewer alarms) wins
            if per_home:
                pick = np.full(SLOTS_PER_DAY, last - np.argmax(gain.sum(axis=0)[::-1]))
            else:
                pick = last - np.argmax(gain[:, ::-1], axis=1)
            fa_total += fa_s[rows, pick].sum()
            caught += c_s[rows, pick].sum() / max(n_s, 1) * w
        points.append((fa_total / months.sum(), caught))
    return points


def at(points: list[tuple[float, float]], fa: float) -> float:
    """Share caught at ``fa`` false alarms per home-month (linear between swept points; NaN when
    no threshold gets the false alarms that low)."""
    pts = sorted(points)
    xs, ys = np.array([p[0] for p in pts]), np.maximum.accumulate(np.array([p[1] for p in pts]))
    return float(np.interp(fa, xs, ys)) if fa >= xs[0] else float("nan")


def curves(data: MeterArrays, watch: Watch, rhythm: np.ndarray, seed: int, all_curves: bool) -> dict[str, list]:
    """The trade-off curves of one definition of use over the rhythm homes."""
    rng = np.random.default_rng(seed)
    picked = np.flatnonzero(rhythm)
    homes = [home_of(data, watch, i, rng) for i in picked]
    watched = watch.watched[picked]
    months = watched.sum(axis=1) / SLOTS_PER_DAY / DAYS_PER_MONTH
    whole = [tables(hm, np.ones(len(hm.starts), bool), np.ones(len(hm.ev_start), bool)) for hm in homes]
    out = {"oracle, per start half-hour": sweep(whole, whole, months, per_home=False)}
    if not all_curves:
        return out
    first, second, months_2 = [], [], []
    for hm, w_row in zip(homes, watched, strict=True):
        cols = np.flatnonzero(w_row)
        mid = cols[len(cols) // 2]
        first.append(tables(hm, hm.starts < mid, hm.ev_start < mid))
        second.append(tables(hm, hm.starts >= mid, hm.ev_start >= mid))
        months_2.append(w_row[mid:].sum() / SLOTS_PER_DAY / DAYS_PER_MONTH)
    out["oracle, one per home"] = sweep(whole, whole, months, per_home=True)
    out["past half, pooled +-1 h"] = sweep([pooled(t) for t in first], second, np.array(months_2), per_home=False)
    return out


QUIET_KINDS = (IncidentKind.NO_WAKE, IncidentKind.INACTIVITY)


def service_point(clean: MeterArrays, injected: MeterArrays, events: list, rhythm: np.ndarray,
                  months: float) -> tuple[float, float]:
    """The service as shipped (``mimamori replay``'s path and setting) on the same footing:
    (its quiet detectors' false alarms per rhythm home-month on the untouched readings, share
    of the evaluation's injected quiet events on rhythm homes it catches within 24 h)."""
    fa = sum(a.kind in QUIET_KINDS and rhythm[clean.meter_ids.index(a.meter_id)]
             for a in replay_in_processes(clean))
    raised: dict[int, list[float]] = {}
    for a in replay_in_processes(injected):
        if a.kind in EMERGENCY_KINDS:  # as the evaluation scores a catch
            home = injected.meter_ids.index(a.meter_id)
            raised.setdefault(home, []).append(col_of_tick(injected, a.detected_slot_time))
    quiet = [e for e in events if not e.tv and rhythm[e.home]]
    return fa / months, float(np.isfinite(score_events(quiet, raised)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantize", type=float, nargs="+", default=[0.0, 0.1])
    parser.add_argument("--night-quantiles", type=float, nargs="*", default=[0.9, 0.97, 0.99],
                        help="simpler definitions of use, as measured (none: skip)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started = time.perf_counter()
    truth = load_readings(LCL_DEV)
    injected_truth, events = inject(truth, np.random.default_rng(args.seed))  # the evaluation's events
    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    def row(name: str, pts: list) -> None:
        shares = (at(pts, f) for f in FAS)
        emit(f"  {name:34s}" + "".join(f"  {100 * c:5.1f}%" if c == c else "     n/a" for c in shares))

    emit("Ceiling on quiet-event catches for detectors that cannot tell a fall from an absence")
    emit("(lcl-dev, homes with a daily rhythm, 24 h events made of the home's nights, 60-min delay)")
    header = "quiet events caught <= 24 h at false alarms / home-month:" + "".join(f"  {f:5.1f} " for f in FAS)
    for step in args.quantize:
        data = quantize(truth, step, np.random.default_rng(args.seed + 1))
        watch, watchability = service_use(data)
        rhythm = np.nan_to_num(watchability) >= Sensitivity().watchable_min
        label = "as measured" if step == 0 else f"{step:g} kWh register"
        months = watch.watched[rhythm].sum() / SLOTS_PER_DAY / DAYS_PER_MONTH
        emit()
        emit(f"== {label}: {rhythm.sum()} rhythm homes, {months:.0f} home-months; use as the service defines it")
        emit(header)
        for name, pts in curves(data, watch, rhythm, args.seed, all_curves=True).items():
            row(name, pts)
        injected = quantize(injected_truth, step, np.random.default_rng(args.seed + 1))
        fa, caught = service_point(data, injected, events, rhythm, months)
        emit(f"  the service as shipped (its own readings-based score): {100 * caught:.1f}% of the evaluation's "
             f"injected quiet events at {fa:.2f} quiet false alarms / home-month")
        if step == 0 and args.night_quantiles:
            emit("  simpler definitions of use (oracle, per start half-hour):")
            for q in args.night_quantiles:
                other = night_quantile_use(data, watch.watched, q)
                ceiling = curves(data, other, rhythm, args.seed, all_curves=False)["oracle, per start half-hour"]
                row(f"  above the nights' {100 * q:g}th pct", ceiling)
    emit()
    emit(f"{time.perf_counter() - started:.0f} s")
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
