"""Synthetic homes for benchmarks and demos: one learned baseline, plausible recent readings."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from core.detection.baseline import learn
from core.detection.baseline_pack import pack
from core.detection.timeaxis import SLOTS_PER_DAY, day_types


def _day(rng: np.random.Generator) -> np.ndarray:
    day = 0.05 + 0.04 * (rng.random(SLOTS_PER_DAY) < 0.4)
    on = (np.arange(SLOTS_PER_DAY) >= 14) & (np.arange(SLOTS_PER_DAY) < 45)
    day[on] += 0.15 + 0.5 * rng.random(on.sum()) * (rng.random(on.sum()) < 0.7)
    return day.astype(np.float32)


def sample_baseline_packed() -> bytes:
    """One learned baseline as HomeBaseline.packed stores it."""
    rng = np.random.default_rng(0)
    cube = np.stack([_day(rng) for _ in range(56)])[None]
    return pack(learn(cube, day_types(np.arange(20000, 20056))), 0)


def sample_window(now: datetime, rng: np.random.Generator, slots: int = 64) -> list[tuple[datetime, float]]:
    """The last ``slots`` half-hours before ``now`` (minus the usual delay), day-like values."""
    values = np.concatenate([_day(rng), _day(rng)])[-slots:]
    return _ending_at(now, values)


def away_week(now: datetime, rng: np.random.Generator) -> list[tuple[datetime, float]]:
    """Nine days before ``now``: ordinary days, then two and a half days of standby only (a trip)."""
    days = np.concatenate([_day(rng) for _ in range(9)])
    away = 5 * SLOTS_PER_DAY // 2
    days[-away:] = 0.05 + 0.04 * (rng.random(away) < 0.4)
    return _ending_at(now, days)


def _ending_at(now: datetime, values: np.ndarray) -> list[tuple[datetime, float]]:
    end = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0) - timedelta(minutes=90)
    n = len(values)
    return [(end - timedelta(minutes=30 * (n - 1 - i)), float(v)) for i, v in enumerate(values)]
