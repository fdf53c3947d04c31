"""What this home's cooling (or heating) looks like, and whether it is on today. Pure numpy.

Learning: on the home's own hot days (forecast maximum at or above ``hot_c``) against
its mild days, the typical use of each half-hour differs by what the air conditioner adds
— the *load* per half-hour. Heating is the same on cold days (minimum at or below
``cold_c``). Trimmed means make a forgotten day or an outing count for little. A home with
enough hot days and no load worth the name has *never been seen cooling*: it is told once,
kindly, and not nudged every hot day. A home with too few hot days yet is judged with a
generic prior instead of its own load. Also learned from mild days: how much a single
half-hour wanders around the typical day (``noise``: the home's own variation plus, on a
coarse meter, the register step), and the home's standby level at night.

Checking: cooling is a steady load that *stays on* once switched on, where the kettle or a
meal adds one half-hour. So only the latest run of half-hours matters, not the morning
before it started: for each latest run of 2 to 4 half-hours (up to the newest reading) the
lift over a mild day is averaged with its largest value dropped (one meal does not make an
air conditioner), and cooling is *on* when some run's mean reaches a share of what this
home's cooling adds while it runs — and stands clear of the home's noise for that many
half-hours, which is what makes 0.1 kWh register steps work: one half-hour says little
there, an hour or two averages the steps out. When only the newest half-hour is up, the
air conditioner may just have started: the verdict says *rising* and the caller may wait
for one more reading. Someone is *home* when the latest half-hours show activity above the
home's quiet level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

SLOTS = 48
Kind = Literal["cooling", "heating"]


@dataclass(frozen=True)
class ClimateParams:
    hot_c: float = 31.0  # a hot day, for learning and checking
    cold_c: float = 2.0  # a cold night (forecast minimum)
    mild_max: tuple[float, float] = (17.0, 27.0)  # a mild day's maximum
    mild_min: tuple[float, float] = (8.0, 20.0)  # a mild day's minimum (heating)
    min_days: int = 3  # hot (cold) days and mild days needed to learn
    seen_kwh: float = 0.05  # mean load per half-hour that counts as "this home cools"
    prior_kwh: float = 0.10  # expected load when the home's own is not known yet
    on_share: float = 0.35  # a run's lift / the home's running load that counts as "on" (heat_eval)
    on_floor_kwh: float = 0.04  # ... and never less than this per half-hour
    noise_z: float = 2.0  # ... and at least this many standard errors of the home's mild-day noise
    run_max: int = 4  # the longest latest run looked at (2 h): older half-hours do not say "on now"
    home_slots: int = 2  # half-hours of activity in the window that say someone is home


COOL_WINDOW = (20, 34)  # 10:00-17:00 local: where learned cooling load is summed
HEAT_WINDOW = (34, 46)  # 17:00-23:00 local: the cold evening


@dataclass(frozen=True)
class ClimateProfile:
    """One home's learned cooling or heating: ``load`` and ``mild`` are kWh per half-hour [48]."""

    kind: Kind
    load: np.ndarray
    mild: np.ndarray
    quiet: float  # the home's quiet level (a low percentile of mild days)
    step: float  # register step of the meter: 0.1 or 0.01 (or finer)
    days: int  # hot (cold) days learned from
    mild_days: int
    seen: bool | None  # None: too few days to say
    noise: float = 0.0  # spread of one half-hour around the mild day in the window (robust sd)

    def usual_start(self, window: tuple[int, int]) -> int:
        """The half-hour from which this home's cooling (heating) usually runs, within ``window``."""
        load = self.load[window[0]:window[1]]
        running = np.flatnonzero(load >= 0.5 * float(np.percentile(load, 75)))
        return window[0] + int(running[0]) if running.size else window[0]

    def level(self, window: tuple[int, int]) -> float:
        return float(np.mean(self.load[window[0]:window[1]]))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "load": np.round(self.load, 4).tolist(), "mild": np.round(self.mild, 4).tolist(),
                "quiet": round(self.quiet, 4), "step": self.step, "days": self.days, "mild_days": self.mild_days,
                "seen": self.seen, "noise": round(self.noise, 4)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> ClimateProfile:
        return ClimateProfile(data["kind"], np.asarray(data["load"], float), np.asarray(data["mild"], float),
                              float(data["quiet"]),
                              float(data["step"]), int(data["days"]), int(data["mild_days"]),
                              data["seen"], float(data.get("noise", 0.0)))


@dataclass(frozen=True)
class Verdict:
    on: bool  # the home's own cooling (heating) shape is there
    home: bool  # someone is home (activity seen in the window)
    excess: float  # today's mean excess over a mild day, kWh per half-hour
    expected: float  # what this home's cooling usually adds there
    slots: int  # half-hours looked at
    rising: bool = False  # only the newest half-hour looks like cooling: it may just have started


def register_step(values: np.ndarray) -> float:
    """0.1 if every reading sits on a 0.1 kWh step (coarse meters), else 0.01 or finer."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return 0.1
    for step in (0.1, 0.01):
        if np.all(np.abs(v / step - np.round(v / step)) < 1e-3):
            return step
    return 0.001


def _typical_rows(days: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per half-hour, the mean of the middle 60 % of the chosen days (NaN-aware).

    A trimmed mean, not a median: at 0.1 kWh register steps a median snaps to a step, and
    a fan's 0.02 kWh can then look like 0.1; a mean of steps dithers back to the truth,
    while trimming keeps an outing or a forgotten day from counting much."""
    if not mask.any():
        return np.full(SLOTS, np.nan)
    chosen = days[mask]
    out = np.full(SLOTS, np.nan)
    has = np.isfinite(chosen).any(axis=0)
    if not has.any():
        return out
    lo, hi = np.nanpercentile(chosen[:, has], [20, 80], axis=0)
    inner = chosen[:, has]
    keep = np.isfinite(inner) & (inner >= lo) & (inner <= hi)
    out[has] = np.where(keep, inner, 0.0).sum(axis=0) / np.maximum(keep.sum(axis=0), 1)
    return out


def learn(days: np.ndarray, t_max: np.ndarray, t_min: np.ndarray, kind: Kind,
          p: ClimateParams = ClimateParams()) -> ClimateProfile:
    """Learn from ``days`` [D, 48] (local days, NaN = missing) and each day's forecast max/min [D]."""
    days = np.asarray(days, float).reshape(-1, SLOTS)
    t_max, t_min = np.asarray(t_max, float), np.asarray(t_min, float)
    complete = np.isfinite(days).sum(axis=1) >= SLOTS * 0.75
    if kind == "cooling":
        extreme = complete & (t_max >= p.hot_c)
        mild = complete & (t_max >= p.mild_max[0]) & (t_max <= p.mild_max[1])
        window = COOL_WINDOW
    else:
        extreme = complete & (t_min <= p.cold_c)
        mild = complete & (t_min >= p.mild_min[0]) & (t_min <= p.mild_min[1])
        window = HEAT_WINDOW
    mild_profile = _typical_rows(days, mild)
    load = np.clip(np.nan_to_num(_typical_rows(days, extreme) - mild_profile, nan=0.0), 0.0, None)
    mild_vals = days[mild]
    quiet = float(np.nanpercentile(mild_vals, 10)) if np.isfinite(mild_vals).any() else float("nan")
    enough = int(extreme.sum()) >= p.min_days and int(mild.sum()) >= p.min_days
    seen = bool(np.mean(load[window[0]:window[1]]) >= p.seen_kwh) if enough else None
    step = register_step(days)
    return ClimateProfile(kind, load, np.nan_to_num(mild_profile, nan=0.0), quiet, step,
                          int(extreme.sum()), int(mild.sum()), seen,
                          _noise(days[mild, window[0]:window[1]], mild_profile[window[0]:window[1]], step))


def _noise(mild_days: np.ndarray, typical: np.ndarray, step: float) -> float:
    """Sd of a mild day's half-hours around the typical mild day, winsorised at 10/90 % so an
    outing or a feast shifts it little; never below a register step's own rounding noise,
    step / sqrt(12) (at 0.1 kWh steps most residuals can be exactly 0, and the step is still there)."""
    resid = (mild_days - typical)[np.isfinite(mild_days - typical)]
    if resid.size < 8:
        return step / np.sqrt(12.0)
    lo, hi = np.percentile(resid, [10, 90])
    return max(float(np.std(np.clip(resid, lo, hi))), step / np.sqrt(12.0))


def running_level(profile: ClimateProfile, window: tuple[int, int]) -> float:
    """What the home's cooling (heating) adds while it runs: the upper quartile of its load."""
    return float(np.percentile(profile.load[window[0]:window[1]], 75))


def expected_load(profile: ClimateProfile | None, p: ClimateParams = ClimateParams()) -> float:
    """What this home's cooling (heating) adds per half-hour while running; a prior while unknown."""
    if profile is not None and profile.seen:
        kind_window = COOL_WINDOW if profile.kind == "cooling" else HEAT_WINDOW
        return max(running_level(profile, kind_window), p.prior_kwh * 0.5)
    return p.prior_kwh


def on_level(profile: ClimateProfile | None, p: ClimateParams = ClimateParams()) -> float:
    """The lift per half-hour that reads as this home's cooling (heating) running."""
    return max(p.on_share * expected_load(profile, p), p.on_floor_kwh)


def latest_runs(lift: np.ndarray, run_max: int) -> list[tuple[int, float]]:
    """(k, mean) for the latest k = 2..run_max known lifts, each mean without its largest value."""
    out = []
    for k in range(2, min(run_max, lift.size) + 1):
        tail = np.sort(lift[-k:])[:-1]
        out.append((k, float(tail.mean())))
    return out


def check(profile: ClimateProfile | None, today: np.ndarray, first: int, last: int,
          p: ClimateParams = ClimateParams()) -> Verdict:
    """Is the home's cooling (heating) on in today's half-hours ``first..last-1`` [48, NaN = not yet]?

    *On* when a latest run of half-hours (2 to ``run_max``, largest value dropped) lifts
    above a mild day by a share of what this home's cooling adds while running, and by more
    than its noise for that run's length (a generic amount while the home is not known yet).
    *Rising* when only the newest half-hour does. Someone is home when the latest half-hours
    show activity."""
    today = np.asarray(today, float)
    window = today[first:last]
    known = np.isfinite(window)
    finite = today[np.isfinite(today)]
    if profile is not None and profile.mild_days > 0:
        base, step, quiet, noise = profile.mild, profile.step, profile.quiet, profile.noise
    else:
        level = float(np.percentile(finite, 25)) if finite.size else 0.0
        base = np.full(SLOTS, level)
        step = register_step(today)
        quiet = float(np.min(finite)) if finite.size else 0.0
        noise = step / np.sqrt(12.0)
    expected = expected_load(profile, p)
    need = max(p.on_share * expected, p.on_floor_kwh)
    if not known.any():
        return Verdict(False, False, 0.0, expected, 0)
    lift = window[known] - base[first:last][known]
    runs = latest_runs(lift, p.run_max)
    on = any(m >= max(need, p.noise_z * noise / np.sqrt(k - 1)) for k, m in runs)
    excess = max((m for _, m in runs), default=float(lift[-1]))
    rising = bool(not on and lift[-1] >= max(need, p.noise_z * noise))
    active = window[known] >= (quiet if np.isfinite(quiet) else 0.0) + max(step, 0.05)
    # Home *now*: activity in the latest half-hours (someone who went out at 11:30 is not
    # at home at 13:00, and an empty house needs no air conditioner).
    home = bool(on or (int(active.sum()) >= p.home_slots and bool(active[-2:].any())))
    return Verdict(bool(on), home, excess, expected, int(known.sum()), rising)


def running_slots(profile: ClimateProfile, day: np.ndarray, p: ClimateParams = ClimateParams()) -> np.ndarray:
    """bool [48]: half-hours where the home's own cooling (heating) shows, for the day graph.

    The same test as :func:`check`, half-hour by half-hour over a centred 3-slot median, so a
    single spike (the kettle) is not drawn as an air conditioner."""
    day = np.asarray(day, float)
    lift = day - profile.mild
    padded = np.concatenate([[np.nan], lift, [np.nan]])
    stacked = np.stack([padded[:-2], padded[1:-1], padded[2:]])
    known = np.isfinite(stacked).any(axis=0)
    middle = np.full(SLOTS, np.nan)
    middle[known] = np.nanmedian(stacked[:, known], axis=0)
    need = on_level(profile, p)
    return np.isfinite(day) & np.nan_to_num(middle >= need, nan=False)
