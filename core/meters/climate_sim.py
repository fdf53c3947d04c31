"""Air conditioning and heating for the simulator, answering each day's weather.

Each home draws its own habits from its seed (counter-based, like the rest of the
simulator): whether it has an air conditioner and how much it draws, from what maximum
temperature it is switched on and from what hour, and how often the senior does *not*
switch it on although it is hot (the days the ladder exists for); the same for electric
heating on cold nights. :func:`cooling_days` gives the ground truth the heat evaluation
scores against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MILD_MAX, MILD_MIN = 22.0, 14.0  # a day outside the weather given counts as mild


@dataclass(frozen=True)
class Weather:
    """Daily maximum and minimum (°C) by local day number, from ``first_day`` on."""

    first_day: int
    t_max: np.ndarray
    t_min: np.ndarray

    def at(self, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.asarray(day, np.int64) - self.first_day
        inside = (i >= 0) & (i < len(self.t_max))
        j = np.clip(i, 0, max(len(self.t_max) - 1, 0))
        hi = np.where(inside, np.asarray(self.t_max, float)[j] if len(self.t_max) else MILD_MAX, MILD_MAX)
        lo = np.where(inside, np.asarray(self.t_min, float)[j] if len(self.t_min) else MILD_MIN, MILD_MIN)
        return np.nan_to_num(hi, nan=MILD_MAX), np.nan_to_num(lo, nan=MILD_MIN)


@dataclass(frozen=True)
class ClimateLoad:
    kwh: np.ndarray  # [H, N] added by cooling and heating
    cooling: np.ndarray  # [H, N] bool: the air conditioner is running
    heating: np.ndarray  # [H, N] bool


def traits(seed_arr: np.ndarray) -> dict[str, np.ndarray]:
    """Per-home climate habits, each [H, 1]."""
    from core.meters.simulator import _uniform

    one = np.zeros((1, 1), dtype=np.uint64)
    u = [_uniform(seed_arr, one, 300 + i) for i in range(10)]
    return {
        "has_ac": u[0] < 0.85,
        "ac_kwh": 0.12 + 0.20 * u[1],  # per half-hour at full duty
        "cool_at": 27.5 + 2.5 * u[2],  # the day's maximum from which they cool
        "ac_from": 9.0 + 3.0 * u[3],  # local hour they switch on, on a just-warm-enough day
        "forget": 0.04 + 0.12 * u[4],  # share of hot days they leave it off
        "night_ac": u[5] < 0.5,  # keep it on (on a timer) through tropical nights
        "has_heater": u[6] < 0.55,
        "heat_kwh": 0.15 + 0.35 * u[7],
        "heat_at": 4.0 + 3.0 * u[8],  # the night's minimum at or below which they heat
        "heat_forget": 0.05 + 0.10 * u[9],
    }


def cooling_days(seed_arr: np.ndarray, days: np.ndarray, weather: Weather) -> tuple[np.ndarray, np.ndarray]:
    """(cools that day [H, D], wanted to but left it off [H, D]) for local day numbers ``days``."""
    from core.meters.simulator import _uniform

    h = traits(seed_arr)
    t_max, _ = weather.at(np.asarray(days).reshape(1, -1))
    warm = h["has_ac"] & (t_max >= h["cool_at"])
    left_off = warm & (_uniform(seed_arr, np.asarray(days).reshape(1, -1), 320) < h["forget"])
    return warm & ~left_off, left_off


def climate_load(seed_arr: np.ndarray, slots: np.ndarray, day: np.ndarray, hour: np.ndarray, up: np.ndarray,
                 away: np.ndarray, wake: np.ndarray, sleep: np.ndarray, weather: Weather) -> ClimateLoad:
    """What the air conditioner and heater add to each half-hour (all arrays broadcast to [H, N])."""
    from core.meters.simulator import _uniform

    h = traits(seed_arr)
    t_max, t_min = weather.at(day)
    cools, _ = cooling_days(seed_arr, day.ravel(), weather)
    cools = cools.reshape(-1, day.shape[-1]) if cools.size else cools
    start = h["ac_from"] - np.clip((t_max - h["cool_at"]) * 0.3, 0.0, 2.0) + (_uniform(seed_arr, day, 321) - 0.5)
    day_on = cools & (hour >= start) & (hour < sleep + 0.5) & ~away
    night_on = cools & h["night_ac"] & (t_min >= 25.0) & ~up & ~away
    cooling = day_on | night_on
    duty = np.clip((t_max - 24.0) / 10.0, 0.3, 1.0) * (0.75 + 0.5 * _uniform(seed_arr, slots.reshape(1, -1), 322))
    kwh = np.where(day_on, h["ac_kwh"] * duty, 0.0) + np.where(night_on & ~day_on, 0.5 * h["ac_kwh"] * duty, 0.0)
    kwh = kwh + np.where(up & ~cooling & (t_max >= 28.0), 0.02, 0.0)  # a fan
    heats = h["has_heater"] & (t_min <= h["heat_at"]) & (_uniform(seed_arr, day, 323) >= h["heat_forget"])
    heating = heats & up & ((hour >= 16.5) | (hour < wake + 2.5))
    warmth = np.clip((8.0 - t_min) / 10.0, 0.3, 1.2) * (0.8 + 0.4 * _uniform(seed_arr, slots.reshape(1, -1), 324))
    kwh = kwh + np.where(heating, h["heat_kwh"] * warmth, 0.0)
    return ClimateLoad(kwh, cooling, heating)
