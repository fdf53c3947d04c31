"""core.climate.ladder.judge, the pure decision the cycle and heat_eval share: a newest half-hour
that looks like cooling waits for one more reading, then a meal is told apart from an air conditioner."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from core.climate.ladder import BY_KIND, judge
from core.detection import climate
from core.enums import IncidentKind
from core.weather.store import DayWeather
from tests.core.climate.test_climate_learning import _days, _weather

HOT = DayWeather("130000", date(2026, 8, 4), 35.0, 27.0, None, False)
TRIGGER = BY_KIND[IncidentKind.HEAT_RISK]


def _profile_and_forgotten_day() -> tuple[climate.ClimateProfile, np.ndarray]:
    t_max, t_min, hot = _weather(40)
    days = _days(40, hot, 0.25, forgotten={4})
    return climate.learn(days, t_max, t_min, "cooling"), days[4].copy()


def test_a_newest_rise_waits_and_a_meal_is_then_nudged(settings: Any) -> None:
    profile, day = _profile_and_forgotten_day()
    day[23] += 0.35  # 11:30-12:00: lunch, or the air conditioner starting?
    at_13_05, at_13_35 = day.copy(), day.copy()
    at_13_05[24:] = np.nan
    at_13_35[25:] = np.nan  # 12:00-12:30 came in at its usual level: it was lunch
    assert judge(TRIGGER, profile, at_13_05, HOT, 13 + 5 / 60, settings)[0] is None
    assert judge(TRIGGER, profile, at_13_35, HOT, 13 + 35 / 60, settings)[0] == "nudge"


def test_a_newest_rise_that_stays_is_cooling_and_no_nudge(settings: Any) -> None:
    profile, day = _profile_and_forgotten_day()
    day[23:] += 0.25  # switched on at 11:30
    day[25:] = np.nan
    decision, verdict = judge(TRIGGER, profile, day, HOT, 13 + 35 / 60, settings)
    assert decision is None and verdict is not None and verdict.on


def test_no_cooling_is_nudged_at_the_first_look(settings: Any) -> None:
    profile, day = _profile_and_forgotten_day()
    day[24:] = np.nan
    assert judge(TRIGGER, profile, day, HOT, 13 + 5 / 60, settings)[0] == "nudge"
