"""core.detection.climate: a home's own cooling load, learned and recognised, also at 0.1 kWh steps."""

from __future__ import annotations

import numpy as np
import pytest

from core.detection import climate

rng = np.random.default_rng(7)


def _days(n: int, hot: np.ndarray, ac_kwh: float, forgotten: set[int] = frozenset()) -> np.ndarray:
    base = 0.08 + 0.04 * rng.random((n, 48))
    base[:, 14:44] += 0.05 + 0.05 * rng.random((n, 30))  # up and about 07:00-22:00
    for d in np.flatnonzero(hot):
        if d not in forgotten:
            base[d, 22:44] += ac_kwh * (0.8 + 0.4 * rng.random(22))  # 11:00-22:00
    return base


def _weather(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t_max = np.where(np.arange(n) % 2 == 0, 33.0, 24.0)
    return t_max, t_max - 8, t_max >= 31


@pytest.mark.parametrize("step", [None, 0.1])
def test_a_home_that_cools_is_learned_and_its_cooling_recognised(step: float | None) -> None:
    t_max, t_min, hot = _weather(40)
    days = _days(40, hot, 0.25, forgotten={4})
    if step:
        days = np.round(days / step) * step
    p = climate.learn(days, t_max, t_min, "cooling")
    assert p.seen is True and p.step == (step or 0.001) and 0.15 < p.level(climate.COOL_WINDOW) < 0.3
    cool_day, forgot_day = days[0].copy(), days[4].copy()
    cool_day[26:] = forgot_day[26:] = np.nan  # readings up to 13:00
    on = climate.check(p, cool_day, 20, 26)
    off = climate.check(p, forgot_day, 20, 26)
    assert on.on and on.home
    assert not off.on and off.home


def test_a_home_never_seen_cooling_is_known_as_such_and_too_few_days_say_nothing() -> None:
    t_max, t_min, hot = _weather(40)
    p = climate.learn(_days(40, hot, 0.0), t_max, t_min, "cooling")
    assert p.seen is False
    few = climate.learn(_days(40, hot, 0.25)[:4], t_max[:4], t_min[:4], "cooling")
    assert few.seen is None


def test_an_empty_house_is_not_someone_at_home() -> None:
    t_max, t_min, hot = _weather(40)
    days = _days(40, hot, 0.25)
    p = climate.learn(days, t_max, t_min, "cooling")
    empty = np.full(48, np.nan)
    empty[:26] = p.quiet
    v = climate.check(p, empty, 20, 26)
    assert not v.on and not v.home


def test_a_profile_survives_its_json_round_trip() -> None:
    t_max, t_min, hot = _weather(20)
    p = climate.learn(_days(20, hot, 0.2), t_max, t_min, "heating")
    q = climate.ClimateProfile.from_json(p.to_json())
    assert q.kind == "heating" and np.allclose(q.load, p.load, atol=1e-4) and q.seen == p.seen


@pytest.mark.parametrize("step", [None, 0.1])
def test_cooling_switched_on_late_in_the_morning_is_on_by_the_latest_hour(step: float | None) -> None:
    """The morning before the air conditioner started does not outvote the hour since."""
    t_max, t_min, hot = _weather(40)
    days = _days(40, hot, 0.25, forgotten={4})
    late = days[4].copy()  # a hot day it was not on in the morning ...
    late[22:24] += 0.25  # ... switched on at 11:00, readings up to 12:00
    late[24:] = np.nan
    if step:
        days, late = np.round(days / step) * step, np.round(late / step) * step
    p = climate.learn(days, t_max, t_min, "cooling")
    v = climate.check(p, late, 20, 24)
    assert v.on and v.home and not v.rising


def test_one_meal_is_not_cooling_and_a_newest_rise_is_only_rising() -> None:
    t_max, t_min, hot = _weather(40)
    days = _days(40, hot, 0.25, forgotten={4})
    p = climate.learn(days, t_max, t_min, "cooling")
    meal = days[4].copy()
    meal[24:] = np.nan
    meal[22] += 0.4  # lunch an hour ago
    v = climate.check(p, meal, 20, 24)
    assert not v.on and not v.rising and v.home
    newest = days[4].copy()
    newest[24:] = np.nan
    newest[23] += 0.4  # the newest half-hour only: lunch, or the air conditioner starting
    v = climate.check(p, newest, 20, 24)
    assert not v.on and v.rising


def test_a_coarse_meter_is_learned_as_noisier() -> None:
    t_max, t_min, hot = _weather(40)
    days = _days(40, hot, 0.25)
    fine = climate.learn(days, t_max, t_min, "cooling")
    coarse = climate.learn(np.round(days / 0.1) * 0.1, t_max, t_min, "cooling")
    assert len(fine.noise) == len(climate.RUNS)
    assert all(0.0 < f < c for f, c in zip(fine.noise, coarse.noise, strict=True))
    assert fine.noise[0] > fine.noise[-1]  # two hours average a half-hour's wandering out
    assert climate.ClimateProfile.from_json(coarse.to_json()).noise == pytest.approx(coarse.noise, abs=1e-4)
