"""The simulated senior: deterministic habits, a day's shape, the demo's "does not get up",
and the embedded default's pull of what became available an hour after each half-hour."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import HomeStatus
from core.meters import simulator
from core.meters.pull import pull_simulated, set_incapacitated
from core.models import Home, MeterReading
from tests.core.meters.conftest import add_home, utc

START = utc(2026, 3, 1, 15, 0)  # Monday 2026-03-02 00:00 JST
DAYS = 28


def by_day(values: np.ndarray) -> np.ndarray:
    return values.reshape(-1, 48)


def test_same_seed_same_home_whatever_range_is_asked() -> None:
    whole = simulator.simulate_many([7, 8], START, START + timedelta(days=DAYS))
    assert whole.shape == (2, DAYS * 48)
    assert np.array_equal(whole, simulator.simulate_many([7, 8], START, START + timedelta(days=DAYS)))
    later = simulator.simulate_many([7], START + timedelta(days=3, hours=5), START + timedelta(days=DAYS))
    assert np.array_equal(later[0], whole[0, 3 * 48 + 10 :])
    assert not np.array_equal(whole[0], whole[1])
    single = simulator.simulate(8, START, START + timedelta(days=DAYS))
    assert [kwh for _, kwh in single] == simulator.as_kwh(whole[1])
    assert single[0][0] == START


def test_a_day_has_a_quiet_night_a_morning_and_an_evening() -> None:
    days = by_day(simulator.simulate_many([3], START, START + timedelta(days=DAYS))[0])
    night = days[:, 4:8].mean()  # 2:00-4:00 JST
    morning = days[:, 12:18].max(axis=1)  # 6:00-9:00
    evening = days[:, 34:42].max(axis=1)  # 17:00-21:00
    assert days.min() > 0  # the fridge never stops: a zero would look like a dead meter
    assert (evening > 2 * night).mean() > 0.9
    assert (morning > 2 * night).mean() > 0.7
    assert 3.0 < days.sum(axis=1).mean() < 15.0  # a single senior's kWh per day


def test_weekends_start_later_on_average() -> None:
    values = simulator.simulate_many(range(200), START, START + timedelta(days=DAYS))
    days = values.reshape(200, DAYS, 48)
    night = days[:, :, 4:8].mean(axis=2, keepdims=True)
    first_use = np.argmax(days[:, :, 8:] > night + 0.15, axis=2)  # first active slot after 4:00
    weekend = np.array([(d % 7) >= 5 for d in range(DAYS)])  # START is a Monday
    assert first_use[:, weekend].mean() > first_use[:, ~weekend].mean()


def test_some_days_have_an_outing() -> None:
    days = by_day(simulator.simulate_many([11], START, START + timedelta(days=90))[0])
    quiet_day = (days[:, 20:28] < days[:, 4:8].max(axis=1, keepdims=True) + 0.01).sum(axis=1) >= 4
    assert 0 < quiet_day.sum() < 60


def test_incapacitated_from_leaves_only_the_base_load() -> None:
    stop = START + timedelta(days=2, hours=-2)  # 22:00 JST on day 2
    normal = by_day(simulator.simulate_many([5], START, START + timedelta(days=5))[0])
    still = by_day(simulator.simulate_many([5], START, START + timedelta(days=5), incapacitated_from=[stop])[0])
    assert np.array_equal(normal[:1], still[:1])
    after = still[2:]
    assert after.max() < normal[:2].max() / 2
    assert after.max() - after.min() < 0.1  # flat: fridge and standby only


def test_pull_receives_what_ended_an_hour_ago_once(session: Session, clock: ManualClock) -> None:
    clock.set(utc(2026, 6, 1, 0, 10))
    home = add_home(session, "SIM-1")
    ended = add_home(session, "SIM-2", status=HomeStatus.ENDED)
    first = pull_simulated(session, clock.now())
    # 60 days up to the half-hour that ended at 23:00 UTC (the last one ended >= 60 min before 00:10).
    assert first.inserted == 60 * 48
    session.refresh(home)
    assert home.last_reading_at == utc(2026, 5, 31, 22, 30)
    assert pull_simulated(session, clock.now()).changed == 0
    clock.advance(minutes=30)
    assert pull_simulated(session, clock.now()).inserted == 1
    count = session.scalar(select(func.count()).select_from(MeterReading).where(MeterReading.home_id == ended.id))
    assert count == 0
    assert session.get(Home, home.id).last_reading_at == utc(2026, 5, 31, 23, 0)


def test_the_demo_senior_who_does_not_get_up(session: Session, clock: ManualClock) -> None:
    clock.set(utc(2026, 6, 1, 0, 0))
    home = add_home(session, "SIM-DEMO")
    pull_simulated(session, clock.now())
    set_incapacitated(session, "SIM-DEMO", utc(2026, 5, 31, 23, 0))  # 08:00 JST
    clock.advance(hours=8)
    pull_simulated(session, clock.now())
    rows = session.execute(
        select(MeterReading.interval_start, MeterReading.kwh)
        .where(MeterReading.home_id == home.id, MeterReading.interval_start >= utc(2026, 5, 31, 23, 0))
        .order_by(MeterReading.interval_start)
    ).all()
    assert len(rows) == 16  # 23:00 to 06:30 UTC: ended at least an hour before 08:00
    assert max(kwh for _, kwh in rows) < 0.15


def test_the_meter_cycle_pulls_refreshes_statuses_learns_new_homes_then_detects() -> None:
    from core.jobs import CYCLE_STEPS, resolve

    assert [s.name for s in CYCLE_STEPS] == [
        "meter_cycle.pull", "meter_cycle.readiness", "meter_cycle.baselines", "meter_cycle.detect",
        "meter_cycle.climate",
    ]
    assert resolve(CYCLE_STEPS[0].func) is not None
    assert resolve(CYCLE_STEPS[1].func) is not None
