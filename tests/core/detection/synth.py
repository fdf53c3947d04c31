"""Deterministic synthetic homes for detection tests: a fridge at night, a clear daily rhythm."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from core.detection.baseline import Baselines, learn
from core.detection.engine import WINDOW_SLOTS, DetectionInput, Sensitivity
from core.detection.timeaxis import SLOTS_PER_DAY, day_first_slot, day_types, local_day, slot_of

DAY0 = int(local_day(slot_of(datetime(2026, 3, 2, tzinfo=UTC))))  # a Monday in JST


def night_reading(rng: np.random.Generator, n: int) -> np.ndarray:
    """A fridge cycling: 0.05-0.09 kWh per half-hour."""
    return (0.05 + 0.04 * (rng.random(n) < 0.4) + 0.005 * rng.random(n)).astype(np.float32)


def normal_day(rng: np.random.Generator, wake_hh: int = 14, sleep_hh: int = 45) -> np.ndarray:
    """One day: quiet until wake (7:00), kettle, TV, cooking; quiet after sleep (22:30)."""
    day = night_reading(rng, SLOTS_PER_DAY)
    awake = np.arange(SLOTS_PER_DAY)
    on = (awake >= wake_hh) & (awake < sleep_hh)
    day[on] += (0.15 + 0.5 * rng.random(on.sum()) * (rng.random(on.sum()) < 0.7)).astype(np.float32)
    day[wake_hh] += 0.6  # kettle
    return day


def history(days: int = 60, homes: int = 1, seed: int = 1) -> np.ndarray:
    """[homes, days*48] of normal days starting at local midnight of DAY0."""
    rng = np.random.default_rng(seed)
    return np.stack([np.concatenate([normal_day(rng) for _ in range(days)]) for _ in range(homes)])


def baseline_of(x: np.ndarray) -> Baselines:
    h = x.shape[0]
    days = x.shape[1] // SLOTS_PER_DAY
    cube = x[:, -56 * SLOTS_PER_DAY :].reshape(h, 56, SLOTS_PER_DAY)
    return learn(cube, day_types(np.arange(DAY0 + days - 56, DAY0 + days)))


def window_input(series: np.ndarray, base: Baselines, **overrides) -> DetectionInput:
    """Rows of the last WINDOW_SLOTS of each series (aligned to DAY0) as of their last column."""
    h, n = series.shape
    last = day_first_slot(DAY0) + n - 1
    fields = dict(
        x=series[:, -WINDOW_SLOTS:], last_slot=np.full(h, last), base=base, ready=np.ones(h, bool),
        paused=np.zeros(h, bool), set_wake_hh=np.full(h, np.nan), set_sleep_hh=np.full(h, np.nan),
        grace_slots=np.full(h, 3.0), night_watch=np.zeros(h, bool), over_pct=np.full(h, 50.0),
        sensitivity=Sensitivity(),
    )
    fields.update(overrides)
    return DetectionInput(**fields)


def register(x: np.ndarray, step: float) -> np.ndarray:
    """What a register meter of ``step`` kWh reads for the true use ``x`` [H, N]."""
    total = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x.astype(np.float64), axis=1)], axis=1)
    return np.round(np.diff(np.floor(total / step + 1e-9) * step, axis=1), 6).astype(np.float32)
