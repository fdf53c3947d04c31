"""A replay reads each tick's series from its (home, day) strip: they must be the very numbers the
plain Context computes from the tick's own window (core/detection/strips.py)."""

from __future__ import annotations

import numpy as np
import pytest

from core.detection import strips as strips_mod
from core.detection.detectors import evaluate_each
from core.detection.engine import Context, Sensitivity
from core.detection.replay import MeterArrays, daily_baselines, padded, replay_each, tick_input, tick_windows
from core.detection.strips import PREFIX, day_strips, tick_context
from core.detection.timeaxis import SLOTS_PER_DAY, day_first_slot

from .synth import DAY0, night_reading, normal_day, register

DAYS = 62


@pytest.fixture(scope="module")
def homes() -> MeterArrays:
    """A fine home, a 0.1 kWh register (smoothed over several half-hours), and a home that goes
    quiet for two days (no reset in the window: the carried-on score), with gaps here and there."""
    rng = np.random.default_rng(3)
    fine = np.concatenate([normal_day(rng) for _ in range(DAYS)])
    coarse = register(np.concatenate([normal_day(rng) for _ in range(DAYS)])[None, :], 0.1)[0]
    away = np.concatenate([normal_day(rng) for _ in range(DAYS)])
    away[58 * SLOTS_PER_DAY + 20 : 60 * SLOTS_PER_DAY + 30] = night_reading(rng, 2 * SLOTS_PER_DAY + 10)
    x = np.stack([fine, coarse, away]).astype(np.float32)
    x[0, 57 * SLOTS_PER_DAY + 5 : 57 * SLOTS_PER_DAY + 12] = np.nan
    x[1, 59 * SLOTS_PER_DAY + 40 : 59 * SLOTS_PER_DAY + 43] = np.nan
    return MeterArrays(["fine", "coarse", "away"], day_first_slot(DAY0), x)


def _every_tick(data: MeterArrays):
    base, ready = daily_baselines(data)
    hh, kk = np.nonzero(np.repeat(ready, SLOTS_PER_DAY, axis=1))
    nan = np.full(len(data.meter_ids), np.nan)
    inp = tick_input(data, tick_windows(data), base, hh, kk, nan, nan, Sensitivity())
    return base, ready, hh, kk, inp


def test_the_strips_give_every_tick_the_series_of_its_own_window(homes) -> None:
    base, ready, hh, kk, inp = _every_tick(homes)
    assert len(hh) > 3 * SLOTS_PER_DAY
    strips = day_strips(padded(homes), homes.first_slot, base, ready)
    fast, plain = tick_context(strips, inp, hh, kk), Context(inp)
    assert np.array_equal(fast.active, plain.active)
    assert np.array_equal(fast.ups, plain.ups)
    assert np.array_equal(fast.quiet_now, plain.quiet_now)
    assert np.array_equal(fast.flat_now[0], plain.flat_now[0])
    assert np.array_equal(fast.flat_now[1], plain.flat_now[1])
    for one, other in zip(evaluate_each(inp, (Sensitivity(),), context=fast), evaluate_each(inp, (Sensitivity(),)),
                          strict=True):
        for kind, f in one.findings.items():
            g = other.findings[kind]
            for name in ("fired", "episode", "window_start", "usage", "confidence"):
                assert np.array_equal(getattr(f, name), getattr(g, name)), (kind, name)


def test_the_sample_reaches_both_paths_and_the_window_start(homes) -> None:
    """The check above means something only if some ticks carry a score on (no reset since the
    window's head), some take the strip's, and a window's start differs from the strip's columns."""
    base, ready, hh, kk, inp = _every_tick(homes)
    strips = day_strips(padded(homes), homes.first_slot, base, ready)
    s, t = strips.index[hh, kk // SLOTS_PER_DAY], kk % SLOTS_PER_DAY
    carried = strips.quiet_reset[s, t + 95] < t + PREFIX
    assert carried.any() and (~carried).any()
    plain = Context(inp)
    cols = t[:, None] + np.arange(PREFIX)[None, :]
    assert (plain.ups[:, :PREFIX] != strips.ups[s[:, None], cols]).any()


def test_a_head_too_short_would_be_caught(homes, monkeypatch) -> None:
    """The 4-hour floor looks 10 columns back: a head of 2 columns gives other ups than the window's."""
    base, ready, hh, kk, inp = _every_tick(homes)
    monkeypatch.setattr(strips_mod, "PREFIX", 2)
    strips = day_strips(padded(homes), homes.first_slot, base, ready)
    assert not np.array_equal(strips_mod.tick_context(strips, inp, hh, kk).ups, Context(inp).ups)


def test_a_replay_raises_the_same_alerts_as_the_plain_context(homes, monkeypatch) -> None:
    fast = replay_each(homes, (Sensitivity(),))[0]
    assert {a.kind.value for a in fast if a.meter_id == "away"} >= {"inactivity"}
    monkeypatch.setattr("core.detection.replay.tick_context", lambda strips, inp, hh, kk: Context(inp))
    assert fast == replay_each(homes, (Sensitivity(),))[0]
