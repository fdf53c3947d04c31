"""A senior living alone, as their meter sees them: the demo's and the embedded default's data.

Each home gets its own habits from its seed (wake and bed time, how much they cook,
when they bathe, how often they go out); each day varies around them (later on
weekends, an outing some days). The fridge and standby devices draw all the time.
``incapacitated_from`` turns a home into base load only from that moment — the
senior who does not get up — which is what the demo and detection tests need.

Randomness is a counter-based hash of (seed, day or half-hour, channel), not a
stateful generator: a half-hour's value does not depend on which range was asked
for, so the pull job can simulate "what became available since last time" and get
the same numbers a full replay would. Everything is numpy over [homes, half-hours],
so 100,000 homes are one call (``simulate_many``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from core.enums import ReadingQuality
from core.meters.sources import ReadingIn

if TYPE_CHECKING:
    from core.meters.climate_sim import Weather

SLOT_SECONDS = 1800
LOCAL_OFFSET_SECONDS = 9 * 3600  # Asia/Tokyo: no summer time
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def seed_for(meter_id: str) -> int:
    """A stable seed from a meter id, so a home keeps its habits across restarts."""
    return int.from_bytes(hashlib.sha256(meter_id.encode()).digest()[:8], "big") & 0x7FFFFFFFFFFFFFFF


def slot_index(when: datetime) -> int:
    """Half-hours since the epoch; ``when`` must be aware."""
    if when.tzinfo is None:
        raise ValueError("simulator times must be aware")
    return int(when.timestamp()) // SLOT_SECONDS


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread 64-bit hash."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(seeds: np.ndarray, keys: np.ndarray, channel: int) -> np.ndarray:
    """U[0,1) per (seed, key) for one channel; broadcasts seeds [H,1] against keys [1,N]."""
    with np.errstate(over="ignore"):
        x = _mix(seeds * np.uint64(0x9E3779B97F4A7C15) + np.uint64(channel) * np.uint64(0xD1B54A32D192ED03))
        x = _mix(x ^ (keys.astype(np.uint64) * np.uint64(0xA24BAED4963EE407)))
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _habits(seeds: np.ndarray) -> dict[str, np.ndarray]:
    """Per-home traits, each [H,1], drawn once from the seed."""
    one = np.zeros((1, 1), dtype=np.uint64)
    u = [_uniform(seeds, one, 100 + i) for i in range(10)]
    return {
        "wake": 5.5 + 2.0 * u[0],  # local hour
        "sleep": 21.0 + 2.0 * u[1],
        "base": 0.03 + 0.04 * u[2],  # standby, kWh per half-hour
        "fridge": 0.015 + 0.025 * u[3],
        "activity": 0.6 + 0.8 * u[4],  # how much they use when up
        "bath": 18.5 + 2.5 * u[5],
        "outing_rate": 0.08 + 0.22 * u[6],  # share of days with an outing
        "weekend_shift": 1.0 * u[7],  # hours later on weekends
        "tv": 0.04 + 0.06 * u[8],
    }


def simulate_many(
    seeds: Sequence[int] | np.ndarray,
    start: datetime,
    end: datetime,
    *,
    incapacitated_from: Sequence[datetime | None] | None = None,
    weather: Weather | None = None,
) -> np.ndarray:
    """kWh per half-hour, shape [homes, half-hours from ``start`` to ``end``) (float32); see :func:`simulate_detail`."""
    return simulate_detail(seeds, start, end, incapacitated_from=incapacitated_from, weather=weather).kwh


@dataclass(frozen=True)
class SimDetail:
    """The simulated readings and the truth behind them (for evaluations): who was home, what ran."""

    kwh: np.ndarray  # float32 [H, N]
    present: np.ndarray  # bool [H, N]: someone at home (asleep counts)
    cooling: np.ndarray | None  # bool [H, N] (only with weather)
    heating: np.ndarray | None


def simulate_detail(
    seeds: Sequence[int] | np.ndarray,
    start: datetime,
    end: datetime,
    *,
    incapacitated_from: Sequence[datetime | None] | None = None,
    weather: Weather | None = None,
) -> SimDetail:
    """kWh per half-hour, shape [homes, half-hours from ``start`` to ``end``) (float32).

    Intermediates are float64 [homes, half-hours]: for 100,000 homes ask a day or a week
    at a time (values do not depend on the range asked, so chunks join seamlessly).
    With ``weather`` the air conditioner and heater answer each day's temperatures
    (core.meters.climate_sim) instead of the fixed seasonal allowance.
    """
    first, last = slot_index(start), slot_index(end)
    slots = np.arange(first, max(first, last), dtype=np.int64)
    seed_arr = (np.asarray(seeds, dtype=np.int64).astype(np.uint64) & _MASK).reshape(-1, 1)
    h = _habits(seed_arr)
    local_seconds = slots * SLOT_SECONDS + LOCAL_OFFSET_SECONDS
    day = (local_seconds // 86400).reshape(1, -1)
    hour = ((local_seconds % 86400) / 3600.0).reshape(1, -1)  # start of the slot, local
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weekend = weekday >= 5
    month = np.array(
        [datetime.fromtimestamp(int(d) * 86400, UTC).month for d in day.ravel()] if day.size else [], dtype=np.int64
    ).reshape(1, -1)

    def daily(channel: int) -> np.ndarray:
        return _uniform(seed_arr, day, channel)

    def per_slot(channel: int) -> np.ndarray:
        return _uniform(seed_arr, slots.reshape(1, -1), channel)

    jitter = (daily(1) + daily(2) - 1.0) * 0.75  # about ±45 min, triangular
    wake = h["wake"] + np.where(weekend, h["weekend_shift"], 0.0) + jitter
    sleep = h["sleep"] + (daily(3) - 0.5) * 1.0
    out = daily(4) < np.where(weekend, h["outing_rate"] * 0.7, h["outing_rate"])
    out_start = 9.5 + 4.5 * daily(5)
    out_end = out_start + 1.5 + 3.5 * daily(6)
    away = out & (hour >= out_start) & (hour < out_end)
    up = (hour >= wake - 0.5) & (hour < sleep) & ~away
    noise = per_slot(7)

    kwh = h["base"] + h["fridge"] * (0.4 + 1.2 * per_slot(8))  # fridge cycling within the half-hour
    kwh = kwh + np.where(up, h["activity"] * (0.03 + 0.07 * noise), 0.0)
    meals = (
        _peak(hour, wake + 0.25, 0.35)
        + _peak(hour, 11.75 + 0.5 * daily(9), 0.25)
        + _peak(hour, 17.5 + 1.0 * daily(10), 0.40)
        + _peak(hour, 18.0 + 1.0 * daily(10), 0.20)
    )
    kwh = kwh + np.where(up, h["activity"] * meals * (0.7 + 0.6 * per_slot(11)), 0.0)
    tv_on = up & ((hour >= 19.0) | (weekend & (hour >= 13.0) & (hour < 16.0)) | ((hour >= 12.0) & (hour < 13.0)))
    kwh = kwh + np.where(tv_on, h["tv"], 0.0)
    bath = h["bath"] + (daily(12) - 0.5)
    kwh = kwh + np.where(up & (np.abs(hour - bath) < 0.5), 0.45 * h["activity"], 0.0)
    night_trip = ~up & ~away & (per_slot(13) < 0.06)  # a light on for the bathroom at night
    kwh = kwh + np.where(night_trip, 0.03, 0.0)
    load = None
    if weather is None:
        heating = np.isin(month, (12, 1, 2)) * 0.10 + np.isin(month, (7, 8)) * 0.08
        kwh = kwh + np.where(up, heating, 0.0)
    else:
        from core.meters.climate_sim import climate_load

        load = climate_load(seed_arr, slots, day, hour, up, away, wake, sleep, weather)
        kwh = kwh + load.kwh

    if incapacitated_from is not None:
        limits = np.array(
            [slot_index(t) if t is not None else np.iinfo(np.int64).max for t in incapacitated_from], dtype=np.int64
        ).reshape(-1, 1)
        still = slots.reshape(1, -1) >= limits
        kwh = np.where(still, h["base"] + h["fridge"] * (0.4 + 1.2 * per_slot(8)), kwh)
    present = np.broadcast_to(~away, kwh.shape)
    return SimDetail(np.round(kwh, 3).astype(np.float32), present,
                     None if load is None else np.broadcast_to(load.cooling, kwh.shape),
                     None if load is None else np.broadcast_to(load.heating, kwh.shape))


def _peak(hour: np.ndarray, at: np.ndarray, size: float) -> np.ndarray:
    """``size`` kWh in the half-hour that contains ``at``."""
    return np.where((hour <= at) & (at < hour + 0.5), size, 0.0)


def simulate(
    seed: int, start: datetime, end: datetime, *, incapacitated_from: datetime | None = None
) -> list[tuple[datetime, float]]:
    """One home's half-hours as (UTC interval start, kWh)."""
    values = simulate_many([seed], start, end, incapacitated_from=[incapacitated_from])[0]
    first = datetime.fromtimestamp(slot_index(start) * SLOT_SECONDS, UTC)
    step = timedelta(seconds=SLOT_SECONDS)
    return [(first + i * step, v) for i, v in enumerate(as_kwh(values))]


def as_kwh(values: np.ndarray) -> list[float]:
    """float32 values as the 3-decimal floats a meter reports (0.085, not 0.08500000089)."""
    return np.round(values.astype(np.float64), 3).tolist()


def readings(
    meter_id: str, start: datetime, end: datetime, *, incapacitated_from: datetime | None = None
) -> Iterator[ReadingIn]:
    """One home's simulated readings, ready for ``ingest``."""
    for at, kwh in simulate(seed_for(meter_id), start, end, incapacitated_from=incapacitated_from):
        yield ReadingIn(meter_id, at, kwh, ReadingQuality.MEASURED, 0)
