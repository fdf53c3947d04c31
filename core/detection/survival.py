"""How high a home's own "looks asleep" score goes at each time of day, and when the present
one is rarer than its false-alarm budget allows. Pure numpy, shared by learning (baseline.py) and detection.

After Wilhelm & Wahl (Sensors 24:6583, 2024), who score the present inactivity against the
home's own past inactivity periods. Here the score is a detector's own accumulated evidence
(that the home looks like its own nights, or is stuck on one level; core/detection/engine.py),
and the past is that score at the same half-hour of day (+-30 min) over the 56 learning days.
Its upper tail is modelled as exponential above ``u`` (a high quantile; its scale from the
median excess, so a few absences in the history do not swamp it). The operator's budget
("one false alarm in N weeks") becomes a probability ``p`` per half-hour, and the level that
alarms is ``u + scale * ln(share / p)``: per home and per time of day, nothing tuned globally.
"""

from __future__ import annotations

import numpy as np

from core.detection.timeaxis import SLOTS_PER_DAY

TAIL_QUANTILE = 0.8
PRIOR_SAMPLES, PRIOR_SCALE = 5, 5.0  # a weak prior on the tail's scale, for hours the score hardly rises
MIN_SAMPLES = 20  # fewer days seen at a half-hour: it never alarms
N_PARAMS = 3  # u, scale, log(share above u)
DAYS_PER_MONTH = 30.44
NEVER = 1e6  # the level of a home not learned yet


def learn_tails(score_days: np.ndarray) -> np.ndarray:
    """Tail of a detector's score at each half-hour of day over the learning days.

    ``score_days`` [H, D, 48] (NaN = not seen); each half-hour also takes the days' scores of
    its two neighbours (routines drift). Returns [H, 48, 3]: u, scale, log(share above u)."""
    h, d, s = score_days.shape
    widened = np.concatenate([np.roll(score_days, k, axis=2) for k in (-1, 0, 1)], axis=1)  # [H, 3D, 48]
    samples = np.sort(widened.transpose(0, 2, 1).reshape(h * s, 3 * d), axis=1)  # NaN last
    return learn_tail(samples).reshape(h, s, N_PARAMS)


def learn_tail(samples: np.ndarray) -> np.ndarray:
    """Tail of each row's sorted samples (NaN last) -> [R, 3]: u, scale, log(share above u)."""
    r = samples.shape[0]
    n = np.sum(~np.isnan(samples), axis=1)
    idx = np.clip(np.floor(TAIL_QUANTILE * (n - 1)).astype(np.int64), 0, max(samples.shape[1] - 1, 0))
    u = np.take_along_axis(samples, idx[:, None], axis=1)[:, 0] if samples.shape[1] else np.full(r, np.nan)
    u = np.nan_to_num(u)
    above = np.nan_to_num(samples, nan=-np.inf) > u[:, None]
    m = above.sum(axis=1)
    median_excess = _row_median(np.where(above, samples - u[:, None], np.nan))
    # An exponential's median excess is its scale times ln 2. The median, not the mean: the few
    # absences (trips, and the events a test injects) in 56 days must not blunt the watch.
    scale = (np.nan_to_num(median_excess) / np.log(2.0) * m + PRIOR_SAMPLES * PRIOR_SCALE) / (m + PRIOR_SAMPLES)
    scale = np.maximum(scale, 1.0)
    share = np.maximum(m, 0.5) / np.maximum(n, 1)
    ok = n >= MIN_SAMPLES
    tail = np.stack([np.where(ok, u, NEVER), scale, np.where(ok, np.log(share), 0.0)], axis=1)
    return tail.astype(np.float32)


def _row_median(values: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (NaN for an empty row), without numpy's warnings."""
    ordered = np.sort(values, axis=1)
    count = np.sum(~np.isnan(values), axis=1)
    lo = np.clip((count - 1) // 2, 0, max(values.shape[1] - 1, 0))
    hi = np.clip(count // 2, 0, max(values.shape[1] - 1, 0))
    if not values.shape[1]:
        return np.full(values.shape[0], np.nan)
    mid = (np.take_along_axis(ordered, lo[:, None], 1) + np.take_along_axis(ordered, hi[:, None], 1))[:, 0] / 2
    return np.where(count > 0, mid, np.nan)


def per_slot_probability(budget_per_month: float | np.ndarray) -> np.ndarray:
    """The probability each half-hour may be given of passing its alarm level for the budget to
    hold even if every half-hour were a separate chance to cry wolf (a union bound: a quiet
    stretch passes many half-hours but raises once, so the budget holds with room to spare)."""
    return np.asarray(budget_per_month, np.float64) / DAYS_PER_MONTH / SLOTS_PER_DAY


def alarm_level(tail: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """Score rarer than ``p``: ``tail`` [R, 3] (this half-hour's), ``p`` [R] or scalar -> [R]."""
    u, scale, log_share = tail[:, 0], tail[:, 1], tail[:, 2]
    return u + scale * np.maximum(log_share - np.log(p), 0.0)


def empty_tails(h: int) -> np.ndarray:
    """A tail that never alarms (a home not learned yet)."""
    tail = np.zeros((h, SLOTS_PER_DAY, N_PARAMS), np.float32)
    tail[:, :, 0] = NEVER
    tail[:, :, 1] = 1.0
    return tail
