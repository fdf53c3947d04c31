"""The pieces benchmarks/detection_eval.py scores with: injected events, the register a
Japanese meter reads through, the seed's 15 h rule, and multi-day standby stretches (trips)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.detection.baseline import LEARNING_DAYS, NIGHT_SLOTS, Baselines
from core.detection.replay import MeterArrays
from core.detection.series import sustained
from core.detection.timeaxis import SLOT_SECONDS, SLOTS_PER_DAY

# The real homes the evaluations read (../shared/data, beside the repository; never copied into it).
LCL_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "lcl-dev" / "readings.csv.gz"
DEAD = ("MAC000004", "MAC000037", "MAC000134")
DELAY_MIN = 60
EVENT_SLOTS = 48
RULE_QUIET_SLOTS = 30  # 15 h
RULE_BASE_QUANTILE = 0.95  # "base load": 95th percentile of the home's 01:00-05:00 readings, last 56 days
TRIP_SLOTS = 96  # a standby stretch of two days or more is likely a trip


@dataclass(frozen=True)
class Event:
    home: int
    start: int  # column
    tv: bool


def median_watchability(base: Baselines, ready: np.ndarray) -> np.ndarray:
    """[H] each home's median daily watchability over its ready days (``daily_baselines``'
    rows h * D + d, ``ready`` [H, D]); NaN for a home never ready. The evaluation's "homes with
    a daily rhythm" are those at or above Sensitivity.watchable_min."""
    h = ready.shape[0]
    with warnings.catch_warnings():  # a home never ready (a dead meter) has no median: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(np.where(ready, base.watchability.reshape(h, -1), np.nan), axis=1)


def events_of(events: list[Event], homes: np.ndarray) -> tuple[list[int], list[Event]]:
    """The events of these homes: their indices in ``events``, and the events renumbered to
    the homes' order (as in ``MeterArrays.rows(homes)``)."""
    local = {int(home): i for i, home in enumerate(homes)}
    picked = [j for j, ev in enumerate(events) if ev.home in local]
    return picked, [Event(local[events[j].home], events[j].start, events[j].tv) for j in picked]


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


def quantize(data: MeterArrays, step: float, rng: np.random.Generator) -> MeterArrays:
    """The readings a register meter of ``step`` kWh delivers for this true use (0: as measured).

    The register counts the true use (from an arbitrary starting value), each half-hour's
    reading is the difference of the register floored to its step; a missing reading stays
    missing but the register keeps counting through it (its use, unknown here, is taken as 0).
    """
    if step <= 0:
        return data
    true = np.nan_to_num(data.x.astype(np.float64), nan=0.0)
    start = rng.uniform(0, step, size=(true.shape[0], 1))
    register = np.concatenate([start, start + np.cumsum(true, axis=1)], axis=1)
    shown = np.floor(register / step + 1e-9) * step
    x = np.diff(shown, axis=1).astype(np.float32)
    x = np.round(x, 6)
    return MeterArrays(data.meter_ids, data.first_slot, np.where(np.isnan(data.x), np.nan, x).astype(np.float32))


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
            above = cube[home, d] > base
            seen = ~np.isnan(cube[home, d])
            for s in np.flatnonzero(seen):
                run = 0 if above[s] else run + 1
                if run == RULE_QUIET_SLOTS:
                    out.append((home, d * SLOTS_PER_DAY + int(s)))
    return out


def col_of_tick(data: MeterArrays, tick_seconds: int) -> float:
    """Time of an alert, in columns, at which it is known (including the visibility delay)."""
    return (tick_seconds - DELAY_MIN * 60) / SLOT_SECONDS - 1 - data.first_slot + 1


def score_events(events: list[Event], detections: dict[int, list[float]]) -> np.ndarray:
    """Hours to alert for each event (inf = not within 24 h). Detection times are in columns
    at which the alert exists (the tick), counted from the event's first half-hour."""
    hours = np.full(len(events), np.inf)
    for i, ev in enumerate(events):
        times = np.asarray(detections.get(ev.home, []))
        later = times[(times > ev.start) & (times <= ev.start + EVENT_SLOTS)]
        if len(later):
            hours[i] = (later.min() - ev.start) / 2
    return hours


def standby_stretches(data: MeterArrays) -> np.ndarray:
    """[H, N] bool: inside a stretch of two days or more with no sustained use above the home's
    night standby (its 97th percentile night reading, a sixth more): likely a trip."""
    h, n = data.x.shape
    night = data.x.reshape(h, -1, SLOTS_PER_DAY)[:, :, NIGHT_SLOTS].reshape(h, -1)
    level = np.nanquantile(night, 0.97, axis=1) * 1.15 + 0.01
    quiet = ~sustained(np.nan_to_num(data.x) > level[:, None])
    out = np.zeros((h, n), bool)
    for home in range(h):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet[home].astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            if b - a >= TRIP_SLOTS:
                out[home, a:b] = True
    return out
