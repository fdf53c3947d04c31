"""The tail of a home's score by time of day, and the register step rhythm, on hand-made series."""

from __future__ import annotations

import numpy as np
import pytest

from core.detection.series import register_step, smooth_rows
from core.detection.survival import alarm_level, learn_tail, learn_tails, per_slot_probability
from core.detection.timeaxis import SLOTS_PER_DAY


def _days(rng: np.random.Generator, afternoon_scale: float) -> np.ndarray:
    """56 days of a score: 0 all day but an afternoon (14:00) that sometimes rises."""
    score = np.zeros((1, 56, SLOTS_PER_DAY), np.float32)
    score[0, :, 28] = rng.exponential(afternoon_scale, 56) * (rng.random(56) < 0.5)
    return score


def test_the_alarm_level_follows_the_time_of_day_and_grows_as_the_budget_shrinks() -> None:
    tail = learn_tails(_days(np.random.default_rng(1), 6.0))
    assert tail.shape == (1, SLOTS_PER_DAY, 3)
    levels = [alarm_level(tail[:, 28], per_slot_probability(b))[0] for b in (4.0, 1.0, 0.25)]
    assert levels[0] < levels[1] < levels[2]
    assert levels[1] > alarm_level(tail[:, 10], per_slot_probability(1.0))[0]  # the night: rarely rises


def test_the_budget_holds_on_the_home_s_own_scores() -> None:
    rng = np.random.default_rng(2)
    samples = np.sort(rng.exponential(4.0, size=(1, 400)).astype(np.float32), axis=1)
    tail = learn_tail(samples)
    assert tail[0, 1] == pytest.approx(4.0, rel=0.35)  # the exponential's own scale
    for p in (1e-2, 1e-3):
        fresh = rng.exponential(4.0, size=400_000)
        assert np.mean(fresh >= alarm_level(tail, p)[0]) == pytest.approx(p, rel=0.7)


def test_a_half_hour_seen_too_rarely_never_alarms() -> None:
    tail = learn_tail(np.full((1, 10), 1.0, np.float32))
    assert alarm_level(tail, 1e-3)[0] > 1e5


def test_the_register_step_and_its_rhythm_are_learned_from_the_readings() -> None:
    fine = np.array([[0.051, 0.062, 0.049, np.nan, 0.3]], np.float32)
    coarse = np.array([[0.0, 0.1, 0.0, 0.0, 0.1, np.nan, 0.2]], np.float32)
    assert register_step(fine)[0] == pytest.approx(0.002, abs=1e-4)
    assert register_step(coarse)[0] == pytest.approx(0.1)
    smooth = smooth_rows(np.vstack([coarse, coarse]), np.array([1, 3]))
    assert np.array_equal(smooth[0], coarse[0], equal_nan=True)
    assert smooth[1, 4] == pytest.approx(0.1 / 3)  # the fridge's steady third of a step
    assert smooth[1, 5] == pytest.approx(0.05)  # a missing reading is left out, not taken as zero
