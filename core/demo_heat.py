"""``mimamori demo --heat``: one hot afternoon, told as it happens, read back from the database.

The demo home of core.demo (her son on LINE, she on LINE too) moves to Tokyo's forecast
area. Ten weeks of her simulated summer are learned (the simulator's air conditioner
answers each day's weather), then 4 August 2026: the weather job reads the saved JMA and
WBGT responses (core/weather/fixtures/summer, no network), she stays home and does not
switch the air conditioner on, the ladder nudges her, still nothing, her son is told, he
calls her and the air conditioner appears; the ladder closes. Only the climate step and the
outbox dispatcher run; the "meter" is the simulator, fed half-hour by half-hour an hour late.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.demo import Cast, StoryEvent, create_home, learn_baselines
from core.enums import IncidentKind, OutboxState, ReadingQuality
from core.meters import simulator
from core.meters.climate_sim import Weather
from core.meters.ingest import ingest
from core.meters.pull import available_until
from core.meters.sources import ReadingIn
from core.models import Home, Incident, OutboxMessage, WeatherDay
from core.readiness import refresh_home_statuses
from core.texts import t

HEAT_DAY = date(2026, 8, 4)
OFFICE = "130000"
HISTORY_DAYS = 70
AC_AFTER_FAMILY = timedelta(minutes=25)  # her son calls; she switches it on
DEMO_ADDRESS = "東京都杉並区阿佐谷南1-1-1"
# Her habits for this story (the simulator draws them from a seed): an air conditioner she
# usually switches on late in the morning of a hot day.
HEAT_SEED = simulator.seed_for("demo-heat-5")


def _jst(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=9)


def _day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def summer_weather(first: date, days: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed early summer: mild June days warming into a hot late July (°C)."""
    rng = np.random.default_rng(20260804)
    ramp = np.linspace(23.0, 33.5, days)
    t_max = np.round(ramp + rng.normal(0, 1.6, days))
    return t_max, t_max - 8


def setup(session: Session, now: datetime, lang: str) -> Cast:
    """The demo home in Tokyo, ten weeks of summer history learned, recorded forecasts cached."""
    from core.demo import DEMO_SENIOR_LINE_ID

    cast = create_home(session, now, lang=lang, senior_line_id=DEMO_SENIOR_LINE_ID)
    home = session.get(Home, cast.home_id)
    assert home is not None
    home.address = DEMO_ADDRESS
    first = HEAT_DAY - timedelta(days=HISTORY_DAYS)
    t_max, t_min = summer_weather(first, HISTORY_DAYS)
    for i in range(HISTORY_DAYS):
        d = first + timedelta(days=i)
        session.add(WeatherDay(office=OFFICE, day=d, station="44132", t_max=float(t_max[i]), t_min=float(t_min[i]),
                               issued_at=_jst(d, 5), fetched_at=_jst(d, 5, 20)))
    weather = Weather(_day_number(first), t_max, t_min)
    start, end = _jst(first, 0), _jst(HEAT_DAY, 0)
    values = simulator.simulate_many([HEAT_SEED], start, end, weather=weather)[0]
    step = timedelta(minutes=30)
    rows = (ReadingIn(home.meter_id, start + k * step, v, ReadingQuality.MEASURED, 0)
            for k, v in enumerate(simulator.as_kwh(values)))
    ingest(session, rows, now=now)
    session.flush()
    refresh_home_statuses(session, now)
    learn_baselines(session, now)
    from core.climate.profiles import learn_profiles

    learn_profiles(session, now, home_ids=[home.id])
    return cast


def today_readings(meter_id: str, ac_from: datetime | None) -> list[tuple[datetime, float]]:
    """Her hot day as the meter records it: home all day, no air conditioner until ``ac_from``."""
    mild = Weather(_day_number(HEAT_DAY), np.array([24.0]), np.array([18.0]))
    start = _jst(HEAT_DAY, 0)
    values = simulator.simulate_many([HEAT_SEED], start, start + timedelta(days=1),
                                     weather=mild)[0].astype(float)
    if ac_from is not None:
        first = int((ac_from - start).total_seconds() // 1800)
        values[first:] += 0.28
    step = timedelta(minutes=30)
    return [(start + k * step, v) for k, v in enumerate(simulator.as_kwh(values))]


def feed(session: Session, meter_id: str, now: datetime, ac_from: datetime | None) -> int:
    """Ingest the half-hours that have become available by ``now`` (an hour late, like a real meter)."""
    until = available_until(now)
    rows = [ReadingIn(meter_id, at, kwh, ReadingQuality.MEASURED, 0)
            for at, kwh in today_readings(meter_id, ac_from) if at < until]
    result = ingest(session, iter(rows), now=now)
    return result.inserted + result.revised


@dataclass
class HeatStory:
    events: list[StoryEvent]
    incident_id: int | None


def story(session: Session, cast: Cast, lang: str) -> HeatStory:
    """What happened so far, read back: the forecast, the ladder, every message sent."""
    home = session.get(Home, cast.home_id)
    assert home is not None and home.resident is not None
    events: list[StoryEvent] = []
    w = session.get(WeatherDay, (OFFICE, HEAT_DAY))
    if w is not None:
        events.append(StoryEvent(w.fetched_at, "forecast", None, None, 0,
                                 {"office": OFFICE, "t_max": w.t_max, "wbgt_max": w.wbgt_max,
                                  "heat_alert": bool(w.wbgt_max is not None and w.wbgt_max >= 33)}, "forecast"))
    incident = session.scalar(select(Incident).where(Incident.home_id == home.id,
                                                      Incident.kind == IncidentKind.HEAT_RISK))
    if incident is None:
        return HeatStory(events, None)
    ev = incident.evidence
    events.append(StoryEvent(incident.detected_at, "no_cooling", None, None, incident.id,
                             {"excess_kwh": ev.get("excess_kwh"), "expected_kwh": ev.get("expected_kwh"),
                              "since": ev.get("window_from")}, "opened"))
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.incident_id == incident.id,
                                                       OutboxMessage.state == OutboxState.SENT)
                           .order_by(OutboxMessage.sent_at, OutboxMessage.id))
    for row in rows:
        event = row.idempotency_key.split(":")[3]
        kind = {"nudge": "resident_nudged", "family": "watcher_told", "seen": "watcher_told_cooling_on"}[event]
        to = t("demo.to_resident", lang, name=home.resident.display_name) if event == "nudge" else \
            t("demo.to_watcher", lang, name=t("demo.watcher_name", lang))
        text = row.payload.get("messages", [{}])[0].get("text") if "messages" in row.payload else None
        events.append(StoryEvent(row.sent_at or row.created_at, kind, row.channel.value, to, incident.id,
                                 {"text": text}, f"sent:{row.id}"))
    if ev.get("seen_at"):
        events.append(StoryEvent(datetime.fromisoformat(ev["seen_at"]), "cooling_seen", None, None, incident.id,
                                 {}, "seen"))
    if incident.closed_at is not None:
        events.append(StoryEvent(incident.closed_at, "incident_closed", None, None, incident.id,
                                 {"reason": incident.close_reason.value if incident.close_reason else None},
                                 "closed"))
    events.sort(key=lambda e: e.at)
    return HeatStory(events, incident.id)


def play_afternoon(clock: Any, cast: Cast, *, lang: str = "ja",
                   on_event: Callable[[StoryEvent], None] = lambda e: None) -> int | None:
    """05:20 the weather job; from 10:05 every half-hour the meter feeds, the climate step and
    the dispatcher run, until the ladder closes (or 18:00). Returns the incident id."""
    from core.db import session_scope
    from core.jobs import CYCLE_STEPS, WORKER_JOBS, run_job
    from core.weather.sources import FixtureWeather, use_source
    from core.weather.store import pull_weather

    climate_step = next(s for s in CYCLE_STEPS if s.name == "meter_cycle.climate")
    use_source(FixtureWeather.for_day(HEAT_DAY))
    seen: set[str] = set()
    ac_from: datetime | None = None
    try:
        clock.set(_jst(HEAT_DAY, 5, 20))
        with session_scope() as session:
            pull_weather(session, clock.now())
        clock.set(_jst(HEAT_DAY, 10, 5))
        incident_id = None
        while clock.now() < _jst(HEAT_DAY, 18):
            now = clock.now()
            with session_scope() as session:
                home = session.get(Home, cast.home_id)
                assert home is not None
                feed(session, home.meter_id, now, ac_from)
            run_job(climate_step, now)
            for spec in WORKER_JOBS:
                run_job(spec, now)
            with session_scope() as session:
                told = story(session, cast, lang)
            incident_id = told.incident_id
            for event in told.events:
                if event.key not in seen:
                    seen.add(event.key)
                    on_event(event)
                if event.kind == "watcher_told" and ac_from is None:
                    ac_from = event.at + AC_AFTER_FAMILY
            if any(e.kind == "incident_closed" for e in told.events):
                return incident_id
            clock.advance(timedelta(minutes=30))
        return incident_id
    finally:
        use_source(None)
