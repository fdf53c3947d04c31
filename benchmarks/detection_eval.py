"""Detection quality on lcl-dev: injected incapacitation events vs the seed's 15-hour rule.

One command: ``.venv/bin/python benchmarks/detection_eval.py`` (about 3 minutes on 2 cores).

Events: about every three weeks per home, at a random moment, 24 h of the home's readings
are replaced by its own quiet night readings (01:00-05:00 of earlier nights, end to end);
a third of them also get a constant "TV left on" level added. The untouched and injected
data go through the replay code path (core.detection.replay, the same evaluate() the
scheduler runs). The seed rule (alert after 15 h with no half-hour above the home's base
load) is implemented here, on the same data and with the same 60-minute visibility delay.
Results are printed and written to benchmarks/results/detection_eval.txt.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.detection.baseline import LEARNING_DAYS, NIGHT_SLOTS  # noqa: E402
from core.detection.engine import Sensitivity  # noqa: E402
from core.detection.replay import MeterArrays, daily_baselines, load_readings, replay_arrays  # noqa: E402
from core.detection.timeaxis import SLOT_SECONDS, SLOTS_PER_DAY, local_halfhour  # noqa: E402
from core.enums import EMERGENCY_KINDS, IncidentKind  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "lcl-dev" / "readings.csv.gz"
OUT = ROOT / "benchmarks" / "results" / "detection_eval.txt"
DEAD = ("MAC000004", "MAC000037", "MAC000134")
DELAY_MIN = 60
EVENT_SLOTS = 48
RULE_QUIET_SLOTS = 30  # 15 h
RULE_BASE_QUANTILE = 0.95  # "base load": 95th percentile of the home's 01:00-05:00 readings, last 56 days


@dataclass(frozen=True)
class Event:
    home: int
    start: int  # column
    tv: bool


def inject(data: MeterArrays, rng: np.random.Generator) -> tuple[MeterArrays, list[Event]]:
    """Replace 24 h stretches, every ~3 weeks per home, by the home's own quiet nights."""
    x = data.x.copy()
    h, n = x.shape
    days = n // SLOTS_PER_DAY
    events = []
    for home in range(h):
        day = LEARNING_DAYS + 7 + rng.integers(0, 21)
        while day < days - 2:
            start = day * SLOTS_PER_DAY + int(rng.integers(0, SLOTS_PER_DAY))
            nights = []
            for back in sorted(rng.choice(np.arange(2, 50), size=EVENT_SLOTS // len(NIGHT_SLOTS), replace=False))[::-1]:
                d0 = (start // SLOTS_PER_DAY - back) * SLOTS_PER_DAY
                nights.append(data.x[home, d0 + NIGHT_SLOTS])
            stretch = np.concatenate(nights)[:EVENT_SLOTS]
            tv = rng.random() < 1 / 3
            if tv:
                stretch = stretch + np.float32(rng.uniform(0.04, 0.10))
            x[home, start : start + EVENT_SLOTS] = stretch
            events.append(Event(home, start, tv))
            day += 21 + int(rng.integers(-4, 5))
    return MeterArrays(data.meter_ids, data.first_slot, x), events


def rule_alerts(data: MeterArrays, ready: np.ndarray) -> list[tuple[int, int]]:
    """The seed rule: (home, detected column) whenever 15 h pass with nothing above base load."""
    h, n = data.x.shape
    days = n // SLOTS_PER_DAY
    cube = data.x.reshape(h, days, SLOTS_PER_DAY)
    out = []
    for home in range(h):
        night = cube[home][:, NIGHT_SLOTS]
        run = 0
        for d in range(days):
            if not ready[home, d]:
                run = 0
                continue
            base = np.nanquantile(night[max(0, d - LEARNING_DAYS) : d], RULE_BASE_QUANTILE)
            for s in range(SLOTS_PER_DAY):
                v = cube[home, d, s]
                if np.isnan(v):
                    continue
                run = 0 if v > base else run + 1
                if run == RULE_QUIET_SLOTS:
                    out.append((home, d * SLOTS_PER_DAY + s))
    return out


def col_of_tick(data: MeterArrays, tick_seconds: int) -> float:
    """Time of an alert, in columns, at which it is known (including the visibility delay)."""
    return (tick_seconds - DELAY_MIN * 60) / SLOT_SECONDS - 1 - data.first_slot + 1


def score_events(events, detections: dict[int, list[float]]) -> np.ndarray:
    """Hours to alert for each event (inf = not within 24 h). Detection times are in columns
    at which the alert exists (the tick), counted from the event's first half-hour."""
    hours = np.full(len(events), np.inf)
    for i, ev in enumerate(events):
        times = np.asarray(detections.get(ev.home, []))
        later = times[(times > ev.start) & (times <= ev.start + EVENT_SLOTS)]
        if len(later):
            hours[i] = (later.min() - ev.start) / 2
    return hours


def summarise(hours: np.ndarray) -> tuple[float, float]:
    if len(hours) == 0:
        return float("nan"), float("nan")
    caught = np.isfinite(hours).mean() * 100
    return caught, float(np.median(np.minimum(hours, 24.0)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="skip the trade-off table")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    data = load_readings(DATA)
    injected, events = inject(data, rng)
    h = data.x.shape[0]
    base_clean = daily_baselines(data)
    base_inj = daily_baselines(injected)
    watch = np.nanmedian(np.where(base_clean[1], base_clean[0].watchability.reshape(h, -1), np.nan), axis=1)
    rhythm = np.nan_to_num(watch) >= Sensitivity().watchable_min
    ready_days = base_clean[1].sum(axis=1)
    months_all = ready_days.sum() / 30.44
    months_rhythm = ready_days[rhythm].sum() / 30.44
    delay = DELAY_MIN / 30

    family_level: list[bool] = []

    def ours(sens: Sensitivity) -> tuple[np.ndarray, list, dict]:
        every = replay_arrays(data, sensitivity=sens, baselines=base_clean)
        clean = [a for a in every if a.kind in EMERGENCY_KINDS]
        resumed: dict[str, list[int]] = {}
        for a in every:
            if a.kind == IncidentKind.USAGE_RESUMED:
                resumed.setdefault(a.meter_id, []).append(a.detected_slot_time)
        family_level.clear()
        for a in clean:
            times = np.asarray(resumed.get(a.meter_id, []))
            ended = ((times > a.detected_slot_time) & (times <= a.detected_slot_time + 3600)).any()
            family_level.append(not ended)
        inj = replay_arrays(injected, sensitivity=sens, baselines=base_inj)
        det: dict[int, list[float]] = {}
        index = {m: i for i, m in enumerate(data.meter_ids)}
        for a in inj:
            if a.kind in EMERGENCY_KINDS:
                det.setdefault(index[a.meter_id], []).append(col_of_tick(data, a.detected_slot_time))
        return score_events(events, det), clean, index

    def rule() -> tuple[np.ndarray, list]:
        clean = rule_alerts(data, base_clean[1])
        det: dict[int, list[float]] = {}
        for home, col in rule_alerts(injected, base_inj[1]):
            det.setdefault(home, []).append(col + 1 + delay)
        return score_events(events, det), clean

    ev_home = np.array([e.home for e in events])
    ev_tv = np.array([e.tv for e in events])
    ev_day = np.array([12 <= local_halfhour(data.first_slot + e.start) < 36 for e in events])
    lines: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    emit(f"lcl-dev: {h} homes, {len(events)} injected events ({ev_tv.sum()} with TV left on), "
         f"{rhythm.sum()} homes with a daily rhythm (watchability >= {Sensitivity().watchable_min}), "
         f"delay {DELAY_MIN} min")
    emit(f"rule base load = {RULE_BASE_QUANTILE:.0%} quantile of the home's 01:00-05:00 readings (last 56 days)")
    hours_r, clean_r = rule()
    sens0 = Sensitivity()
    hours_o, clean_o, index = ours(sens0)

    def fa_rate(alert_homes: np.ndarray, homes_mask: np.ndarray) -> float:
        months = ready_days[homes_mask].sum() / 30.44
        return float(np.isin(alert_homes, np.flatnonzero(homes_mask)).sum() / max(months, 1e-9))

    fa_r_homes = np.array([hm for hm, _ in clean_r])
    fa_o_homes = np.array([index[a.meter_id] for a in clean_o])
    emit()
    emit(f"{'':38s} {'rule 15h':>12s} {'mimamori':>12s}")
    for label, mask in (("all homes", np.ones(h, bool)), ("rhythm homes", rhythm)):
        sel = mask[ev_home]
        subsets = (
            ("quiet events", sel & ~ev_tv), ("TV-left-on events", sel & ev_tv), ("all events", sel),
            ("events starting 06-18", sel & ev_day), ("quiet events starting 06-18", sel & ev_day & ~ev_tv),
        )
        for sub, smask in subsets:
            cr, mr = summarise(hours_r[smask])
            co, mo = summarise(hours_o[smask])
            emit(f"{label + ': ' + sub:38s} caught {cr:5.1f}% {co:5.1f}%   "
                 f"median {mr:5.1f}h {mo:5.1f}h  (n={smask.sum()})")
        fa_r, fa_o = fa_rate(fa_r_homes, mask), fa_rate(fa_o_homes, mask)
        emit(f"{label + ': false alarms / home-month':38s} {fa_r:12.2f} {fa_o:12.2f}")
    fam = np.asarray(family_level)
    for label, mask in (("all homes", np.ones(h, bool)), ("rhythm homes", rhythm)):
        emit(f"{label + ': false alarms still open after 1 h':38s} {'':12s} "
             f"{fa_rate(fa_o_homes[fam], mask):12.2f}   (would reach the family if the senior cannot answer)")
    kinds = {}
    for a in clean_o:
        kinds[a.kind.value] = kinds.get(a.kind.value, 0) + 1
    emit(f"mimamori false alarms by kind (untouched data): {kinds}")
    dead_em = [a for a in clean_o if a.meter_id in DEAD]
    dead_inj = [a for a in replay_arrays(injected, sensitivity=sens0, baselines=base_inj)
                if a.meter_id in DEAD and a.kind in EMERGENCY_KINDS]
    emit(f"emergencies on the nearly dead meters {DEAD}: untouched {len(dead_em)}, injected {len(dead_inj)}")
    emit(f"months watched: all {months_all:.1f}, rhythm {months_rhythm:.1f}")
    emit("by watchability band (quiet events: rule caught / ours caught, ours false alarms per home-month):")
    w_ev = np.nan_to_num(watch)[ev_home]
    for lo_w, hi_w in ((0.0, 0.35), (0.35, 0.5), (0.5, 0.7), (0.7, 1.01)):
        band = (np.nan_to_num(watch) >= lo_w) & (np.nan_to_num(watch) < hi_w)
        sel_b = (w_ev >= lo_w) & (w_ev < hi_w) & ~ev_tv
        emit(f"  {lo_w:.2f}-{min(hi_w, 1):.2f}: {band.sum():2d} homes, {sel_b.sum():3d} events, "
             f"rule {summarise(hours_r[sel_b])[0]:5.1f}% ours {summarise(hours_o[sel_b])[0]:5.1f}%, "
             f"FA rule {fa_rate(fa_r_homes, band):5.2f} ours {fa_rate(fa_o_homes, band):5.2f}")
    if not args.quick:
        emit()
        emit("trade-off on rhythm homes (scale of all thresholds): false alarms/home-month vs caught and median")
        sel = rhythm[ev_home]
        for scale in (0.7, 1.0, 1.4, 2.0):
            s = replace(sens0, inactivity=sens0.inactivity * scale, flat=sens0.flat * scale,
                        no_wake=sens0.no_wake * scale, usual_margin=sens0.usual_margin * scale,
                        flat_margin=sens0.flat_margin * scale)
            ho, co_, _ = ours(s)
            fa = fa_rate(np.array([index[a.meter_id] for a in co_]), rhythm)
            c_q, m_q = summarise(ho[sel & ~ev_tv])
            c_t, _ = summarise(ho[sel & ev_tv])
            emit(f"  scale {scale:4.2f}: FA {fa:5.2f}/home-month  quiet caught {c_q:5.1f}% "
                 f"median {m_q:5.1f}h  TV caught {c_t:5.1f}%")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()
