"""The tail of a home's score by time of day, its stretches' peaks, and the register step rhythm,
on hand-made series."""

from __future__ import annotations

import numpy as np
import pytest

from core.detection.series import register_step, smooth_rows
from core.detection.survival import (
    DAYS_PER_MONTH,
    exceedance,
    learn_peaks,
    learn_tail,
    learn_tails,
    peak_threshold,
    stretch_level,
)
from core.detection.timeaxis import SLOTS_PER_DAY


def _days(rng: np.random.Generator, afternoon_scale: float) -> np.ndarray:
    """56 days of a score: 0 all day but an afternoon (14:00) that sometimes rises."""
    score = np.zeros((1, 56, SLOTS_PER_DAY), np.float32)
    score[0, :, 28] = rng.exponential(afternoon_scale, 56) * (rng.random(56) < 0.5)
    return score


def _stretches(rng: np.random.Generator, days: int, peak_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(score, reset) [1, days*48]: one 12 h stretch a day (20:00-08:00) rising to an exponential
    peak at 08:00, and use (resets) the rest of the day."""
    score = np.zeros((1, days * SLOTS_PER_DAY), np.float32)
    reset = np.ones_like(score, dtype=bool)
    for d in range(days):
        start = d * SLOTS_PER_DAY + 40
        if start + 24 > score.shape[1]:
            break
        score[0, start : start + 24] = np.linspace(0, rng.exponential(peak_scale), 24)
        reset[0, start : start + 24] = False
    return score, reset


def test_the_alarm_level_follows_the_time_of_day_and_grows_as_the_budget_shrinks() -> None:
    tail = learn_tails(_days(np.random.default_rng(1), 6.0))
    assert tail.shape == (1, SLOTS_PER_DAY, 3)
    peaks = np.array([[1.0, 1.0, -1.6, np.log(30.0)]], np.float32)
    levels = [stretch_level(tail[:, 28], peaks, b)[0] for b in (4.0, 1.0, 0.25)]
    assert levels[0] < levels[1] < levels[2]
    assert levels[1] > stretch_level(tail[:, 10], peaks, 1.0)[0]  # the night: rarely rises


def test_the_time_of_day_tail_is_the_home_s_own() -> None:
    rng = np.random.default_rng(2)
    samples = np.sort(rng.exponential(4.0, size=(1, 400)).astype(np.float32), axis=1)
    tail = learn_tail(samples)
    assert tail[0, 1] == pytest.approx(4.0, rel=0.35)  # the exponential's own scale
    fresh = rng.exponential(4.0, size=400_000)
    for e in (3.0, 6.0):
        assert np.mean(exceedance(fresh, tail[0]) >= e) == pytest.approx(np.exp(-e), rel=0.7)


def test_a_half_hour_seen_too_rarely_never_alarms() -> None:
    tail = learn_tail(np.full((1, 10), 1.0, np.float32))
    peaks = np.array([[1.0, 1.0, -1.6, np.log(30.0)]], np.float32)
    assert stretch_level(tail, peaks, 1.0)[0] > 1e5


def test_each_stretch_counts_once_and_the_budget_holds_per_stretch() -> None:
    rng = np.random.default_rng(3)
    score, reset = _stretches(rng, 400, 3.0)
    tails = learn_tails(score.reshape(1, -1, SLOTS_PER_DAY))
    peaks = learn_peaks(score, reset, tails)
    assert np.exp(peaks[0, 3]) == pytest.approx(DAYS_PER_MONTH, rel=0.05)  # one stretch a day, not 24 half-hours
    budget = 1.0  # a month: one stretch in about 30 may alarm
    fresh, _ = _stretches(np.random.default_rng(4), 4000, 3.0)
    level = stretch_level(tails[0, np.arange(fresh.shape[1]) % SLOTS_PER_DAY], np.repeat(peaks, fresh.shape[1], 0),
                          budget)
    alarms = fresh[0] > level
    starts = np.flatnonzero(alarms & ~np.r_[False, alarms[:-1]])
    per_month = len(starts) / 4000 * DAYS_PER_MONTH
    assert per_month == pytest.approx(budget, rel=0.6)
    assert peak_threshold(peaks, 0.25)[0] > peak_threshold(peaks, budget)[0]


def test_a_home_with_too_few_stretches_is_watched_as_if_every_half_hour_were_one() -> None:
    score, reset = _stretches(np.random.default_rng(5), 56, 3.0)
    reset[:, : 50 * SLOTS_PER_DAY] = True  # only the last few days have a quiet stretch
    tails = learn_tails(score.reshape(1, -1, SLOTS_PER_DAY))
    few = learn_peaks(score, reset, tails)
    assert peak_threshold(few, 1.0)[0] == pytest.approx(np.log(DAYS_PER_MONTH * SLOTS_PER_DAY), rel=1e-3)


def test_the_register_step_and_its_rhythm_are_learned_from_the_readings() -> None:
    fine = np.array([[0.051, 0.062, 0.049, np.nan, 0.3]], np.float32)
    coarse = np.array([[0.0, 0.1, 0.0, 0.0, 0.1, np.nan, 0.2]], np.float32)
    assert register_step(fine)[0] == pytest.approx(0.002, abs=1e-4)
    assert register_step(coarse)[0] == pytest.approx(0.1)
    smooth = smooth_rows(np.vstack([coarse, coarse]), np.array([1, 3]))
    assert np.array_equal(smooth[0], coarse[0], equal_nan=True)
    assert smooth[1, 4] == pytest.approx(0.1 / 3)  # the fridge's steady third of a step
    assert smooth[1, 5] == pytest.approx(0.05)  # a missing reading is left out, not taken as zero


def test_a_score_the_home_often_reaches_is_not_rare_even_where_it_is_seldom_above_u() -> None:
    # 09:00, 168 samples: the score is 0 (the home is up) every day, so u = 0 and the share above is tiny
    tail = learn_tail(np.zeros((1, 168), np.float32))
    assert tail[0, 0] == 0 and tail[0, 2] < -5
    assert exceedance(np.float32(0.0), tail[0]) == 0  # was -ln(share above u): "rarer than 1 in 300"
    assert exceedance(np.float32(3.0), tail[0]) > 5  # above u it is rare indeed


def test_stretches_that_stay_at_the_usual_score_leave_the_peaks_at_zero() -> None:
    # quiet afternoons (no reset) whose score stays 0, at hours where it is never above 0
    score = np.zeros((1, 56 * SLOTS_PER_DAY), np.float32)
    reset = np.ones_like(score, dtype=bool)
    for d in range(56):
        reset[0, d * SLOTS_PER_DAY + 26 : d * SLOTS_PER_DAY + 38] = False  # 13:00-19:00, 6 h each day
    tails = learn_tails(score.reshape(1, -1, SLOTS_PER_DAY))
    peaks = learn_peaks(score, reset, tails)
    assert peaks[0, 0] == 0  # their peak exceedance is 0, not the hours' -ln(share above u) (about 6)
