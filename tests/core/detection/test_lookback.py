"""A quiet stretch longer than the detection window is known by where it began (core/detection/lookback.py),
and live and replay remember a raise for the same time (core/detection/book.py MEMORY_SLOTS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert, select

from core.db import session_scope
from core.detection.book import MEMORY_SLOTS, UNKNOWN, HomeBook, Raised, step
from core.detection.engine import WINDOW_SLOTS
from core.detection.evidence import Evidence
from core.detection.live import refresh_baselines, run_detection
from core.detection.lookback import LOOKBACK_SLOTS, awake_before
from core.detection.timeaxis import SLOTS_PER_DAY, day_first_slot, slot_of
from core.enums import EMERGENCY_KINDS, IncidentKind
from core.models import Home, Incident, MeterReading

from .synth import DAY0, baseline_of, history, night_reading, normal_day

K = IncidentKind
START = datetime(2026, 4, 1, 15, 0, tzinfo=UTC)  # 2026-04-02 00:00 JST: day 0 of the live home
DELAY = timedelta(minutes=60)


def test_the_newest_sustained_use_before_the_window_is_found_and_a_lone_spike_is_not() -> None:
    x = history(60)
    base = baseline_of(x)
    before = night_reading(np.random.default_rng(3), LOOKBACK_SLOTS)[None, :].copy()
    window_first = day_first_slot(DAY0 + 60) + np.array([0])
    assert awake_before(before, window_first, base).tolist() == [UNKNOWN]
    before[0, 100] = 0.9  # a lone spike: not someone up and about
    assert awake_before(before, window_first, base).tolist() == [UNKNOWN]
    before[0, 200:203] = 0.9  # an hour and a half of use
    found = int(awake_before(before, window_first, base)[0])
    assert found == window_first[0] - LOOKBACK_SLOTS + 202


def test_the_book_remembers_a_raise_as_long_as_the_window_and_the_lookback_reach() -> None:
    assert MEMORY_SLOTS >= WINDOW_SLOTS + LOOKBACK_SLOTS
    book = HomeBook()
    step(book, [Raised(K.INACTIVITY, 100, 101)], {K.INACTIVITY: 100}, now=110)
    book.forget(139 + MEMORY_SLOTS)
    assert book.seen == {"emergency": 100}  # still open: kept, as live loads every open incident
    step(book, [], {K.INACTIVITY: 130}, {K.INACTIVITY: 100}, now=140)  # a lone spike closes it
    book.forget(111 + MEMORY_SLOTS)  # closed: remembered from when it was raised, as live's detected_at
    assert book.seen == {"usage_resumed": 100}
    book.forget(141 + MEMORY_SLOTS)
    assert book.seen == {}


def _store(home_id: int, values: np.ndarray) -> None:
    rows = [{"home_id": home_id, "interval_start": START + timedelta(minutes=30 * i), "kwh": float(v)}
            for i, v in enumerate(values)]
    with session_scope() as s:
        s.execute(insert(MeterReading), rows)


def _at(day: int, hh: int) -> datetime:
    """Detection time that sees the readings up to (day, half-hour hh) of the live home."""
    return START + timedelta(days=day, minutes=30 * (hh + 1)) + DELAY


def _cycle(clock, when: datetime) -> list[Incident]:
    clock.set(when)
    with session_scope() as s:
        refresh_baselines(s, when)
    with session_scope() as s:
        return run_detection(s, when)


LAST_USE = slot_of(START) + 64 * SLOTS_PER_DAY + 44  # day 64, 22:00-22:30: the late stretch's last use


def late_quiet_stretch(make_home, clock, **home_fields) -> tuple[Home, list[Incident]]:
    """An emergency a week ago (day 60), closed by a lone spike; days of ordinary life since; then
    the readings of two and a half quiet days (with lone spikes) arrive late, all at once, and one
    cycle sees them on day 67 at 07:00. -> (the home, what that cycle opened)."""
    rng = np.random.default_rng(11)
    days = [normal_day(rng) for _ in range(60)]
    quiet_day = normal_day(rng)
    quiet_day[20:] = night_reading(rng, SLOTS_PER_DAY - 20)  # day 60: nothing after 10:00
    spike_day = normal_day(rng)
    spike_day[6] += 0.9  # day 61, 03:00: one half-hour of use, then ordinary life from 07:00
    lived = [normal_day(rng) for _ in range(3)]  # days 62-64, asleep from 22:30 on day 64
    quiet = [night_reading(rng, SLOTS_PER_DAY) for _ in range(3)]  # days 65-67
    for day in quiet[:2]:
        day[[20, 36]] += 0.9  # a lone spike twice a day
    x = np.concatenate([*days, quiet_day, spike_day, *lived, *quiet])
    home = make_home(ready_at=START + timedelta(days=56), **home_fields)
    _store(home.id, x)

    opened = [i for hh in range(28, 48) for i in _cycle(clock, _at(60, hh))]
    assert [i.kind in EMERGENCY_KINDS for i in opened] == [True]  # the first quiet day, raised once
    resumed = [i for hh in range(0, 12) for i in _cycle(clock, _at(61, hh))]
    assert [i.kind for i in resumed] == [K.USAGE_RESUMED]  # the spike closed it
    return home, _cycle(clock, _at(67, 14))


def test_a_long_quiet_stretch_seen_first_when_longer_than_the_window_is_raised_once(make_home, clock) -> None:
    """The stretch began after the old raise, so it is a new situation: raised once, quiet since its real start."""
    home, late = late_quiet_stretch(make_home, clock)
    assert [i.kind in EMERGENCY_KINDS for i in late] == [True]
    since = Evidence.from_json(late[0].evidence).quiet_since
    assert since is not None and slot_of(datetime.fromisoformat(since)) == LAST_USE + 1
    assert _cycle(clock, _at(67, 15)) == []  # once per situation
    with session_scope() as s:
        emergencies = s.scalars(select(Incident).where(Incident.home_id == home.id,
                                                       Incident.kind.in_(EMERGENCY_KINDS))).all()
    assert len(emergencies) == 2
