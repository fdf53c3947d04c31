"""Each detector on synthetic homes: fires on the situation it is for, stays quiet otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from core.detection.detectors import evaluate
from core.detection.timeaxis import SLOTS_PER_DAY
from core.enums import IncidentKind

from .synth import baseline_of, history, night_reading, normal_day, register, window_input

K = IncidentKind


@pytest.fixture(scope="module")
def hist() -> np.ndarray:
    return history(days=60, seed=3)


@pytest.fixture(scope="module")
def base(hist):
    return baseline_of(hist)


def _day_until(slot: int, kind: str, seed: int = 9) -> np.ndarray:
    """Today up to (and including) half-hour ``slot``: normal, quiet (fridge only) or TV left on."""
    rng = np.random.default_rng(seed)
    if kind == "normal":
        day = normal_day(rng)
    elif kind == "quiet":
        day = night_reading(rng, SLOTS_PER_DAY)
    else:
        day = night_reading(rng, SLOTS_PER_DAY) + np.float32(0.08)
    return day[: slot + 1]


def _series(hist: np.ndarray, today: np.ndarray) -> np.ndarray:
    return np.concatenate([hist[0], today])[None, :]


def _fired(inp) -> set[IncidentKind]:
    ev = evaluate(inp)
    return {k for k, f in ev.findings.items() if f.fired[0]}


def test_the_learned_home_is_watchable_and_ready(base) -> None:
    assert base.ready[0]
    assert base.watchability[0] > 0.5
    assert 13 <= base.wake_hh[0, 0] <= 17  # first activity at 7:00


def test_a_normal_day_raises_nothing(hist, base) -> None:
    for slot in (16, 24, 34, 44):
        assert _fired(window_input(_series(hist, _day_until(slot, "normal")), base)) == set()


def test_a_day_without_any_use_raises_an_emergency_by_midday(hist, base) -> None:
    fired = _fired(window_input(_series(hist, _day_until(24, "quiet")), base))  # 12:00
    assert fired & {K.NO_WAKE, K.INACTIVITY}


def test_no_wake_waits_for_the_grace_period_after_the_set_wake_time(hist, base) -> None:
    set_wake = np.array([18.0])  # 9:00, later than learned: only no_wake matters here
    early = window_input(_series(hist, _day_until(19, "quiet")), base, set_wake_hh=set_wake)
    late = window_input(_series(hist, _day_until(21, "quiet")), base, set_wake_hh=set_wake)
    assert K.NO_WAKE not in _fired(early)
    assert K.NO_WAKE in _fired(late)  # 9:00 + 90 min grace, data up to 10:30


def test_tv_left_on_is_flat_usage_not_inactivity(hist, base) -> None:
    ev = evaluate(window_input(_series(hist, _day_until(40, "tv")), base))  # 20:00
    assert ev.findings[K.FLAT_USAGE].fired[0]
    assert not ev.findings[K.INACTIVITY].fired[0]
    assert ev.findings[K.FLAT_USAGE].evidence["level_kwh"][0] == pytest.approx(0.13, abs=0.03)


def test_a_timed_night_heater_does_not_hide_someone_switching_something_on() -> None:
    """Night storage heaters or a night-rate water heater make night rises huge; cooking in
    the day must still count as "someone switched something on", or a flat-use incident in
    such a home could never close."""
    x = history(days=60, seed=4)
    cube = x.reshape(60, SLOTS_PER_DAY)
    cube[:, 2:6] += np.float32(1.6)  # 01:00-03:00 every night, by timer
    heater = cube.reshape(1, -1)
    base = baseline_of(heater)
    assert base.up_kwh[0] < 1.2  # the rise of cooking on the hob
    rng = np.random.default_rng(9)
    today = night_reading(rng, 41) + np.float32(0.08)  # TV left on since midnight ...
    today[40] += np.float32(1.2)  # ... until someone cooks at 20:00
    inp = window_input(_series(heater, today), base)
    assert evaluate(inp).findings[K.FLAT_USAGE].usage[0] == inp.last_slot[0]  # use seen now: closes


def test_night_activity_only_when_the_home_asked_for_it(hist, base) -> None:
    rng = np.random.default_rng(5)
    evening = normal_day(rng, sleep_hh=48)
    after_midnight = (night_reading(rng, 6) + np.float32(0.5))  # lights on until 03:00
    series = np.concatenate([hist[0], evening, after_midnight])[None, :]
    assert K.NIGHT_ACTIVITY not in _fired(window_input(series, base))
    assert K.NIGHT_ACTIVITY in _fired(window_input(series, base, night_watch=np.array([True])))


def test_over_usage_when_the_day_passes_the_set_percentage(hist, base) -> None:
    today = _day_until(40, "normal") * np.float32(3)
    ev = evaluate(window_input(_series(hist, today), base))
    f = ev.findings[K.OVER_USAGE]
    assert f.fired[0]
    assert f.evidence["day_kwh"][0] > f.evidence["usual_kwh"][0] * 1.5
    assert K.OVER_USAGE not in _fired(window_input(_series(hist, today), base, over_pct=np.array([500.0])))


def test_missing_readings_are_a_data_gap_never_quiet(hist, base) -> None:
    today = _day_until(30, "normal").copy()
    today[12:] = np.nan  # nothing since 06:00
    ev = evaluate(window_input(_series(hist, today), base))
    assert ev.findings[K.DATA_GAP].fired[0]
    assert not ev.findings[K.INACTIVITY].fired[0]
    assert not ev.findings[K.NO_WAKE].fired[0]
    assert ev.findings[K.INACTIVITY].evidence["score"][0] < 5


def test_paused_or_not_ready_homes_raise_nothing(hist, base) -> None:
    series = _series(hist, _day_until(30, "quiet"))
    assert _fired(window_input(series, base))  # something to suppress
    assert _fired(window_input(series, base, paused=np.array([True]))) == set()
    assert _fired(window_input(series, base, ready=np.array([False]))) == set()


def test_a_home_without_rhythm_never_raises_an_emergency() -> None:
    from .synth import baseline_of as learn_of

    rng = np.random.default_rng(2)
    flat = np.stack([np.concatenate([night_reading(rng, SLOTS_PER_DAY) for _ in range(60)])])
    base = learn_of(flat)
    assert base.watchability[0] < 0.2
    today = night_reading(rng, 30)
    fired = _fired(window_input(np.concatenate([flat[0], today])[None, :], base))
    assert not fired & {K.NO_WAKE, K.INACTIVITY, K.FLAT_USAGE}


def test_many_homes_are_evaluated_at_once_and_independently(hist, base) -> None:
    quiet = _series(hist, _day_until(30, "quiet"))[0]
    normal = _series(hist, _day_until(30, "normal"))[0]
    both = np.stack([quiet, normal])
    ev = evaluate(window_input(both, base.take(np.array([0, 0]))))
    assert ev.findings[K.INACTIVITY].fired.tolist() == [True, False]


def test_a_larger_false_alarm_budget_alarms_on_a_shorter_quiet_stretch(hist, base) -> None:
    from core.detection.engine import Sensitivity

    def first_alarm(budget: float) -> int:
        for slot in range(10, 48):
            inp = window_input(_series(hist, _day_until(slot, "quiet")), base,
                               sensitivity=Sensitivity(false_alarm_budget=budget))
            if _fired(inp) & {K.NO_WAKE, K.INACTIVITY}:
                return slot
        return 99

    strict, usual, loose = first_alarm(0.05), first_alarm(0.5), first_alarm(20.0)
    assert loose <= usual <= strict < 99
    assert loose < strict


def test_coarse_register_readings_still_catch_a_quiet_day_and_a_tv_left_on(hist) -> None:
    """A 0.1 kWh register: the fridge reads 0.0, 0.0, 0.1...; averaged over the home's step rhythm."""
    def read(today: np.ndarray) -> np.ndarray:
        return register(_series(hist, today), 0.1)

    base = baseline_of(read(np.zeros(0, np.float32))[:, : hist.shape[1]])
    assert base.smooth_slots[0] > 1  # learned from the home's own steps
    assert base.watchability[0] > 0.35
    assert not _fired(window_input(read(_day_until(34, "normal")), base)) & EMERGENCIES
    assert _fired(window_input(read(_day_until(30, "quiet")), base)) & {K.NO_WAKE, K.INACTIVITY}
    assert K.FLAT_USAGE in _fired(window_input(read(_day_until(44, "tv")), base))


EMERGENCIES = {K.NO_WAKE, K.INACTIVITY, K.FLAT_USAGE}


def test_a_baseline_survives_its_stored_form_with_every_learned_array(hist) -> None:
    from dataclasses import fields

    from core.detection.baseline import Baselines
    from core.detection.baseline_pack import pack, unpack_many

    two = baseline_of(np.concatenate([hist, register(hist, 0.1)]))
    back = unpack_many([pack(two, 0), None, pack(two, 1)])
    for f in fields(Baselines):
        learned, stored = getattr(two, f.name), getattr(back, f.name)
        assert stored.shape == (3, *learned.shape[1:]), f.name
        assert np.allclose(np.nan_to_num(stored[[0, 2]]), np.nan_to_num(learned), atol=1e-4), f.name
    assert back.ready.tolist() == [True, False, True]
    assert back.smooth_slots.tolist()[::2] == two.smooth_slots.tolist()


def test_in_a_night_heater_home_daytime_use_below_the_heater_s_level_is_use() -> None:
    """A nightly 1.6 kWh heater block lifts the home's activity level above it; cooking at
    0.5 kWh must still count as use, or her quiet stretches never end and an emergency,
    once open, never closes when she is up again."""
    x = history(days=60, seed=4)
    cube = x.reshape(60, SLOTS_PER_DAY)
    cube[:, 2:6] += np.float32(1.6)
    heater = cube.reshape(1, -1)
    base = baseline_of(heater)
    assert base.active_kwh[0] > 1.6  # the heater's block is not use ...
    rng = np.random.default_rng(11)
    today = night_reading(rng, 25)
    today[2:6] += np.float32(1.6)
    today[22:] += np.float32(0.5)  # ... but cooking from 11:00 is
    ev = evaluate(window_input(_series(heater, today), base))
    last = window_input(_series(heater, today), base).last_slot[0]
    assert ev.findings[K.INACTIVITY].usage[0] == last
    assert ev.findings[K.INACTIVITY].episode[0] >= last - 1  # and it ends the quiet stretch


def test_a_quiet_stretch_keeps_its_beginning_for_a_day_and_a_half(hist, base) -> None:
    """The sustained use that began a stretch stays in view for 48 h: a quiet day that began
    the evening before is still that stretch (its episode), not "quiet since before the window",
    which the book can only tell apart from an earlier raise by the use it saw."""
    rng = np.random.default_rng(12)
    evening = normal_day(rng)  # last use at 22:00
    quiet = night_reading(rng, SLOTS_PER_DAY + 28)  # a whole day and a morning: 38 h later
    inp = window_input(np.concatenate([hist[0], evening, quiet])[None, :], base)
    f = evaluate(inp).findings[K.INACTIVITY]
    assert f.episode[0] >= 0
    assert inp.last_slot[0] - f.episode[0] > 64  # more than 32 h ago
