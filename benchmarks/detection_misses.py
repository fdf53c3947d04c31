"""Why injected quiet days are missed: for each missed event, what stopped the alarm (issue 13).

    .venv/bin/python benchmarks/detection_misses.py --homes 16 --quantize 0 0.1

Same injection and register emulation as benchmarks/detection_eval.py, on a subset of homes
(every home's events are drawn first, so the events are the evaluation's). For every tick of
every event (and every tick of the untouched readings) it rebuilds the very rows the replay
evaluates (core.detection.replay.tick_input) and reads the quiet detector's parts:

- the causes of a miss, in the order they are checked: not ready, not watchable, no tail
  learned at those half-hours (MIN_SAMPLES), the quiet stretch reset by sustained "activity"
  inside the injected nights, or the score never reaching the alarm level;
- the *exceedance* ``e = (score - u) / scale - log(share)`` the quiet score reaches: the alarm
  fires when ``e >= -log p``. Its maxima per quiet stretch on the untouched readings (false
  alarms) against its maxima inside the events (catches) give the trade-off of any single
  threshold on ``e`` (a per-episode calibration instead of the per-half-hour union bound).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detection_eval import spread_subset  # noqa: E402
from eval_parts import DEAD, EVENT_SLOTS, LCL_DEV, inject, median_watchability, quantize  # noqa: E402

from core.detection import DEFAULT_FALSE_ALARM_BUDGET  # noqa: E402
from core.detection.detectors import DETECTORS, _quiet, evaluate_each  # noqa: E402
from core.detection.engine import (  # noqa: E402
    WINDOW_SLOTS,
    Context,
    Sensitivity,
)
from core.detection.replay import (  # noqa: E402
    MeterArrays,
    daily_baselines,
    load_readings,
    look_before_ticks,
    replay_each,
    tick_input,
    tick_windows,
    windows_before,
)
from core.detection.survival import NEVER, peak_threshold  # noqa: E402
from core.detection.timeaxis import SLOT_SECONDS, SLOTS_PER_DAY  # noqa: E402
from core.enums import EMERGENCY_KINDS  # noqa: E402

CHUNK = 40_000
DELAY_S = 3600


def ticks(data: MeterArrays, base: tuple, hh: np.ndarray, kk: np.ndarray, sens: Sensitivity) -> dict[str, np.ndarray]:
    """The quiet detector's parts at the rows (home hh, newest slot kk)."""
    windows, before = tick_windows(data), windows_before(data)
    days = data.x.shape[1] // SLOTS_PER_DAY
    nan = np.full(len(data.meter_ids), np.nan)
    out: dict[str, list[np.ndarray]] = {}
    for lo in range(0, len(hh), CHUNK):
        h, k = hh[lo : lo + CHUNK], kk[lo : lo + CHUNK]
        inp = tick_input(data, windows, base[0], h, k, nan, nan, sens)
        ctx = Context(inp)
        look_before_ticks(ctx, before, base[0], days, h, k)
        score, _awake, since, rare, level = _quiet(ctx)
        tail = ctx.base.quiet_tail[np.arange(ctx.rows), ctx.halfhour[:, -1]]
        ev = next(evaluate_each(inp, (sens,), DETECTORS))
        fired = np.zeros(len(h), bool)
        for kind, f in ev.findings.items():
            if kind in EMERGENCY_KINDS:
                fired |= f.fired
        parts = {
            "score": score, "level": level, "u": tail[:, 0], "scale": tail[:, 1], "ls": tail[:, 2],
            "since": since - data.first_slot, "rare": rare, "fired": fired, "watchable": ctx.watchable,
            "present": ctx.present[:, -1], "halfhour": ctx.halfhour[:, -1], "smooth": ctx.base.smooth_slots,
            "threshold": peak_threshold(ctx.base.quiet_peaks, sens.false_alarm_budget * (1 - sens.flat_budget_share)),
        }
        for name, v in parts.items():
            out.setdefault(name, []).append(np.asarray(v))
    return {name: np.concatenate(v) for name, v in out.items()}


def exceedance(t: dict[str, np.ndarray]) -> np.ndarray:
    e = (t["score"] - t["u"]) / t["scale"] - t["ls"] - t["threshold"]  # alarm at e > 0 (the home's own level)
    ok = (t["u"] < NEVER / 2) & t["watchable"] & t["present"]
    return np.where(ok, e, -np.inf)


def diagnose(clean: MeterArrays, injected: MeterArrays, events: list, sens: Sensitivity, label: str) -> None:
    base_c, base_i = daily_baselines(clean), daily_baselines(injected)
    h, n = clean.x.shape
    days = n // SLOTS_PER_DAY
    rhythm = np.nan_to_num(median_watchability(*base_c)) >= sens.watchable_min  # "homes with a daily rhythm"
    # every event tick (newest visible slot k, alert known at k+1: within 24 h while k < start+48)
    rows = [(i, e.home, e.start + j) for i, e in enumerate(events) for j in range(EVENT_SLOTS)]
    ei, eh, ek = (np.array(v) for v in zip(*rows, strict=True))
    t = ticks(injected, base_i, eh, ek, sens)
    ready = base_i[1][eh, ek // SLOTS_PER_DAY]
    e_ev = exceedance(t)
    threshold = float(np.median(t["threshold"]))
    causes: dict[str, int] = {}
    on_rhythm: dict[str, int] = {}  # of those, on homes with a daily rhythm (what the evaluation scores)
    maxe, caught_at = [], []
    tv = np.array([e.tv for e in events])
    starts_hh = np.array([(e.start) % SLOTS_PER_DAY for e in events])
    raised: dict[int, list[float]] = {}
    for a in replay_each(injected, (sens,), baselines=base_i)[0]:
        if a.kind in EMERGENCY_KINDS:
            raised.setdefault(injected.meter_ids.index(a.meter_id), []).append(
                (a.detected_slot_time - DELAY_S) / SLOT_SECONDS - injected.first_slot)
    for i, ev in enumerate(events):
        sel = ei == i
        times = np.asarray(raised.get(ev.home, []))
        if not ready[sel].all():
            cause = "not ready"
        elif ((times > ev.start) & (times <= ev.start + EVENT_SLOTS)).any():
            cause = "caught"
        elif t["fired"][sel].any():
            cause = "fired but the book raised nothing (an emergency still open?)"
        elif not t["watchable"][sel].any():
            cause = "not watchable"
        elif (t["u"][sel] >= NEVER / 2).all():
            cause = "no tail (MIN_SAMPLES)"
        elif t["since"][sel][-1] > ev.start + 1:
            cause = "reset inside the event"
        elif t["rare"][sel].any():
            cause = "rare but not raised (gate/book)"
        else:
            cause = "score below level"
        if ev.tv:
            cause = "TV: " + cause
        causes[cause] = causes.get(cause, 0) + 1
        on_rhythm[cause] = on_rhythm.get(cause, 0) + int(rhythm[ev.home])
        maxe.append(e_ev[sel].max() if ready[sel].all() else np.nan)
        hit = times[(times > ev.start) & (times <= ev.start + EVENT_SLOTS)] if cause.endswith("caught") else []
        caught_at.append((min(hit) - ev.start) / 2 if len(hit) else np.inf)
    maxe, caught_at = np.array(maxe), np.array(caught_at)
    ok = ~np.isnan(maxe) & rhythm[[e.home for e in events]]  # rates on rhythm homes, as the evaluation
    print(f"\n== {label}: {h} homes, {len(events)} events ({ok.sum()} on ready days), "
          f"e counted past each home's own level (median {threshold:.1f}) ==")
    print(f"  {'cause':64s} {'all':>4s} {'rhythm homes':>13s}")
    for cause, c in sorted(causes.items(), key=lambda kv: -kv[1]):
        print(f"  {cause:64s} {c:4d} {on_rhythm[cause]:13d}")
    q = ok & ~tv
    print(f"  quiet caught {np.isfinite(caught_at[q]).mean():.1%}, "
          f"TV caught {np.isfinite(caught_at[ok & tv]).mean():.1%}")
    print("  quiet events, share whose max e reaches:",
          "  ".join(f">={x:g}: {np.mean(maxe[q] >= x):.0%}" for x in (-4, -3, -2, -1, 0, 1, 2)))
    # reset inside the event: how long did the stretch last, and when did the reset happen?
    reset_ev = [i for i, ev in enumerate(events) if q[i] and not np.isfinite(caught_at[i])
                and t["since"][ei == i][-1] > ev.start + 1]
    if reset_ev:
        after = [(t["since"][ei == i][-1] - events[i].start) / 2 for i in reset_ev]
        print(f"  resets: last sustained 'use' at a median {np.median(after):.1f} h into the event")
    miss_hh = starts_hh[q & ~np.isfinite(caught_at)]
    hit_hh = starts_hh[q & np.isfinite(caught_at)]
    print("  start hour of missed quiet events:", np.bincount(miss_hh // 6, minlength=8).tolist(),
          " caught:", np.bincount(hit_hh // 6, minlength=8).tolist(), "(3-hour bins from 00:00)")

    # untouched readings: max e per quiet stretch (an episode = one 'since'), per home-month
    ready_c = base_c[1]
    ch, ck = np.nonzero(np.repeat(ready_c, SLOTS_PER_DAY, axis=1))
    tc = ticks(clean, base_c, ch, ck, sens)
    ec = exceedance(tc)
    long_enough = ck - tc["since"] + 1 >= sens.min_quiet_slots
    ec = np.where(long_enough, ec, -np.inf)
    key = ch.astype(np.int64) * (n + 1) + tc["since"]
    order = np.argsort(key, kind="stable")
    uniq, first = np.unique(key[order], return_index=True)
    ep_max = np.maximum.reduceat(ec[order], first)
    ep_home = uniq // (n + 1)
    dead = np.isin(np.array(clean.meter_ids), DEAD)
    months = ready_c[rhythm].sum() / 30.44
    live = rhythm[ep_home]
    print(f"  untouched: {months:.1f} home-months, quiet stretches {len(uniq)}")
    print("  threshold on e:  FA/home-month (rhythm homes) | quiet events caught (max e within 24 h)")
    for x in (-3, -2, -1, 0, 1, 2, 3):
        fa = np.sum(ep_max[live] >= x) / months
        print(f"    e >= {x:4.1f}: FA {fa:5.2f}  caught {np.mean(maxe[q] >= x):.1%}  "
              f"TV {np.mean(maxe[ok & tv] >= x):.1%}  dead-home stretches {np.sum(ep_max[dead[ep_home]] >= x)}")
    # the false alarms the replay really raises: how many re-raise a stretch older than the window
    alerts = [a for a in replay_each(clean, (sens,), baselines=base_c)[0] if a.kind in EMERGENCY_KINDS]
    per_home = np.bincount([clean.meter_ids.index(a.meter_id) for a in alerts], minlength=h)
    alerts = [a for a in alerts if rhythm[clean.meter_ids.index(a.meter_id)]]
    old = sum((a.detected_slot_time - DELAY_S) // SLOT_SECONDS - 1 - a.window_start_slot >= WINDOW_SLOTS - 1
              for a in alerts)
    print(f"  replayed: {len(alerts)} emergencies on the untouched readings ({len(alerts) / months:.2f}/home-month), "
          f"{old} of them on a stretch that began before the detection window; per home {per_home.tolist()}")
    del days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--homes", type=int, default=16, help="every k-th home so that this many are kept")
    parser.add_argument("--quantize", type=float, nargs="+", default=[0.0, 0.1])
    parser.add_argument("--budget", type=float, default=DEFAULT_FALSE_ALARM_BUDGET,
                        help="false alarms a home-month (default: what the service ships)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    truth = load_readings(LCL_DEV)
    injected_truth, events = inject(truth, rng)
    truth, injected_truth, sub_events = spread_subset(truth, injected_truth, events, args.homes)
    for step in args.quantize:
        label = "as measured" if step == 0 else f"{step:g} kWh register"
        clean = quantize(truth, step, np.random.default_rng(args.seed + 1))
        injected = quantize(injected_truth, step, np.random.default_rng(args.seed + 1))
        diagnose(clean, injected, sub_events, Sensitivity(false_alarm_budget=args.budget), label)

if __name__ == "__main__":
    main()
