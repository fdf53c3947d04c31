"""How high a home's own "looks asleep" stretches go, and when the present one is rarer than
its false-alarm budget allows. Pure numpy, shared by learning (baseline.py) and detection.

After Wilhelm & Wahl (Sensors 24:6583, 2024), who score the present inactivity against the
home's own past inactivity periods. Here a stretch is an *episode* of a detector's score (the
accumulated evidence that the home looks like its own nights, core/detection/engine.py), from
one reset (sustained use) to the next; the score already weighs each half-hour by how unusual
quiet is at that time of day, so the peaks of all the home's episodes form one sample however
sparse its daytime stretches are. Its upper tail is modelled as exponential above ``u`` (a high
quantile; its scale from the median excess, so a few absences in the history do not swamp it).
If every episode may reach the alarm level with the same small probability ``p``, expected
false alarms per day are ``p`` times the episodes a day; the operator's budget ("one false
alarm in N weeks") sets ``p`` per home, and the level that alarms is ``u + scale * ln(share /
p)``.
"""

from __future__ import annotations

import numpy as np

MIN_PEAK = 2.0  # episodes whose score never reaches this are not stretches of quiet at all
TAIL_QUANTILE = 0.8
PRIOR_EPISODES, PRIOR_SCALE = 5, 5.0  # a weak prior on the tail's scale, for homes with few quiet episodes
N_PARAMS = 3  # u, scale, log(share above u)
DAYS_PER_MONTH = 30.44
NEVER = 1e6  # the level of a home not learned yet


def episode_peaks(score: np.ndarray, reset: np.ndarray) -> np.ndarray:
    """Peak of ``score`` [R, N] in each episode between resets -> [R, E] (NaN padded).

    The first and last episode of a row are cut by the row's ends and left out; so are
    episodes that never reach ``MIN_PEAK``."""
    r, n = score.shape
    episode = np.cumsum(reset, axis=1)  # episode number of each column
    last = episode[:, -1:]
    whole = (episode > 0) & (episode < last)
    e_max = int(last.max()) + 1 if r and n else 1
    peaks = np.full((r, e_max), -np.inf, np.float32)
    rows = np.broadcast_to(np.arange(r)[:, None], score.shape)
    np.maximum.at(peaks, (rows[whole], episode[whole]), score[whole])
    peaks = np.where(peaks >= MIN_PEAK, peaks, np.nan)
    return np.sort(peaks, axis=1)  # NaN last


def learn_tail(peaks: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tail of each row's episode peaks -> (tail [R, 3], episodes a day [R])."""
    r = peaks.shape[0]
    n = np.sum(~np.isnan(peaks), axis=1)
    idx = np.clip(np.floor(TAIL_QUANTILE * (n - 1)).astype(np.int64), 0, max(peaks.shape[1] - 1, 0))
    u = np.take_along_axis(peaks, idx[:, None], axis=1)[:, 0] if peaks.shape[1] else np.full(r, np.nan)
    above = np.nan_to_num(peaks) > np.nan_to_num(u)[:, None]
    m = above.sum(axis=1)
    excess = np.where(above, np.nan_to_num(peaks) - np.nan_to_num(u)[:, None], np.nan)
    median_excess = _row_median(excess)
    # An exponential's median excess is its scale times ln 2. The median, not the mean: the few
    # absences (trips, and the events a test injects) in 56 days must not blunt the watch.
    scale = (np.nan_to_num(median_excess) / np.log(2.0) * m + PRIOR_EPISODES * PRIOR_SCALE) / (m + PRIOR_EPISODES)
    scale = np.maximum(scale, 1.0)
    share = np.maximum(m, 0.5) / np.maximum(n, 1)
    ok = n >= PRIOR_EPISODES  # fewer: the home's score hardly ever rises on a normal day
    tail = np.stack([np.where(ok, u, MIN_PEAK), scale, np.where(ok, np.log(share), 0.0)], axis=1)
    return tail.astype(np.float32), (n / np.maximum(days, 1)).astype(np.float32)


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


def per_run_probability(budget_per_month: float | np.ndarray, runs_per_day: np.ndarray) -> np.ndarray:
    """The probability each episode may be given of alarming for the budget to hold."""
    return np.asarray(budget_per_month) / DAYS_PER_MONTH / np.maximum(runs_per_day, 0.1)


def alarm_level(tail: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Score rarer than ``p`` per episode: ``tail`` [R, 3], ``p`` [R] -> [R]."""
    u, scale, log_share = tail[:, 0], tail[:, 1], tail[:, 2]
    return u + scale * np.maximum(log_share - np.log(p), 0.0)


def empty_tails(h: int) -> np.ndarray:
    """A tail that never alarms (a home not learned yet)."""
    tail = np.zeros((h, N_PARAMS), np.float32)
    tail[:, 0] = NEVER
    tail[:, 1] = 1.0
    return tail
