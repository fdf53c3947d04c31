"""The tail of a home's quiet-score episodes, and the register step rhythm, on hand-made series."""

from __future__ import annotations

import numpy as np
import pytest

from core.detection.series import register_step, smooth_rows
from core.detection.survival import MIN_PEAK, alarm_level, episode_peaks, learn_tail, per_run_probability


def test_episode_peaks_are_whole_episodes_between_resets() -> None:
    score = np.array([[5.0, 6.0, 0.0, 1.0, 3.0, 9.0, 0.0, 1.0, 1.5, 0.0, 7.0]], np.float32)
    reset = score == 0.0
    peaks = episode_peaks(score, reset)
    assert peaks[0, ~np.isnan(peaks[0])].tolist() == [9.0]  # the first and last are cut; 1.5 never rose


def test_the_alarm_level_is_past_what_the_home_reaches_and_grows_as_the_budget_shrinks() -> None:
    rng = np.random.default_rng(1)
    peaks = np.sort(rng.exponential(4.0, size=(1, 300)).astype(np.float32) + MIN_PEAK, axis=1)
    tail, per_day = learn_tail(peaks, np.array([56]))
    assert per_day[0] == pytest.approx(300 / 56)
    assert tail[0, 1] == pytest.approx(4.0, rel=0.35)  # the exponential's own scale
    levels = [alarm_level(tail, per_run_probability(b, per_day))[0] for b in (4.0, 1.0, 0.25)]
    assert levels[0] < levels[1] < levels[2]
    # the budget holds on the home's own episodes: about budget/month * 56 days of them pass
    p = per_run_probability(1.0, per_day)
    fresh = rng.exponential(4.0, size=200_000) + MIN_PEAK
    assert np.mean(fresh >= alarm_level(tail, p)[0]) == pytest.approx(p[0], rel=0.6)


def test_a_home_whose_score_never_rises_alarms_on_a_modest_score() -> None:
    tail, per_day = learn_tail(np.full((1, 3), np.nan, np.float32), np.array([56]))
    level = alarm_level(tail, per_run_probability(0.5, per_day))[0]
    assert MIN_PEAK < level < 40


def test_the_register_step_and_its_rhythm_are_learned_from_the_readings() -> None:
    fine = np.array([[0.051, 0.062, 0.049, np.nan, 0.3]], np.float32)
    coarse = np.array([[0.0, 0.1, 0.0, 0.0, 0.1, np.nan, 0.2]], np.float32)
    assert register_step(fine)[0] == pytest.approx(0.002, abs=1e-4)
    assert register_step(coarse)[0] == pytest.approx(0.1)
    smooth = smooth_rows(np.vstack([coarse, coarse]), np.array([1, 3]))
    assert np.array_equal(smooth[0], coarse[0], equal_nan=True)
    assert smooth[1, 4] == pytest.approx(0.1 / 3)  # the fridge's steady third of a step
    assert smooth[1, 5] == pytest.approx(0.05)  # a missing reading is left out, not taken as zero
