"""Load readings and cached weather around core.detection.climate, and keep each home's profile.

:func:`learn_profiles` (nightly) learns every watched home's cooling and heating from its
last :data:`LEARN_DAYS` local days and its office's cached forecasts, in chunks of homes,
and stores them in ``home_climate``. :func:`day_readings` gives the ladder one home's
readings of one local day as [48] with NaN for what has not arrived.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.detection import climate
from core.detection.live import _readings
from core.detection.timeaxis import SLOTS_PER_DAY, day_first_slot
from core.enums import HomeStatus
from core.models import Home, HomeClimate
from core.settings import get_settings
from core.weather.store import history, office_of

LEARN_DAYS = 70  # ten weeks: early summer's mild days and midsummer's hot ones
CHUNK_HOMES = 500
EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    return (day - EPOCH).days


def params() -> climate.ClimateParams:
    s = get_settings()
    return climate.ClimateParams(hot_c=s.heat_day_max_c, cold_c=s.cold_night_min_c)


def days_grid(session: Session, home_ids: list[int], first: date, last: date) -> np.ndarray:
    """Readings of local days first..last as [H, days, 48] (NaN = missing), one query."""
    a = day_first_slot(day_number(first))
    b = day_first_slot(day_number(last) + 1) - 1
    x = _readings(session, sorted(home_ids), a, b) if home_ids else np.zeros((0, 0), np.float32)
    order = {hid: i for i, hid in enumerate(sorted(home_ids))}
    x = x[[order[h] for h in home_ids]] if home_ids else x
    return x.reshape(len(home_ids), -1, SLOTS_PER_DAY).astype(float)


def day_readings(session: Session, home_id: int, day: date) -> np.ndarray:
    return days_grid(session, [home_id], day, day)[0, 0]


def learn_home(readings: np.ndarray, first: date, weather: dict[date, tuple[float | None, float | None]],
               p: climate.ClimateParams) -> dict[str, dict]:
    """Both profiles of one home from [days, 48] readings starting at ``first``."""
    n = readings.shape[0]
    days = [first + timedelta(days=i) for i in range(n)]
    t_max = np.array([np.nan if weather.get(d, (None, None))[0] is None else weather[d][0] for d in days], float)
    t_min = np.array([np.nan if weather.get(d, (None, None))[1] is None else weather[d][1] for d in days], float)
    return {kind: climate.learn(readings, t_max, t_min, kind, p).to_json() for kind in ("cooling", "heating")}


def learn_profiles(session: Session, now: datetime, *, home_ids: list[int] | None = None) -> int:
    """The nightly job (and the demo): learn and store every watched home's profiles."""
    settings = get_settings()
    today = now.astimezone(settings.tz).date()
    last, first = today - timedelta(days=1), today - timedelta(days=LEARN_DAYS)
    query = select(Home).where(Home.status.in_((HomeStatus.ACTIVE, HomeStatus.PAUSED)),
                               Home.climate_watch_enabled.is_(True), Home.ended_at.is_(None))
    if home_ids is not None:
        query = query.where(Home.id.in_(home_ids))
    homes = [h for h in session.scalars(query.order_by(Home.id)) if office_of(h) is not None]
    p = params()
    learned = 0
    for k in range(0, len(homes), CHUNK_HOMES):
        chunk = homes[k:k + CHUNK_HOMES]
        grid = days_grid(session, [h.id for h in chunk], first, last)
        weather_by_office: dict[str, dict] = {}
        for i, home in enumerate(chunk):
            office = office_of(home)
            assert office is not None
            if office not in weather_by_office:
                weather_by_office[office] = history(session, office, first, last)
            data = learn_home(grid[i], first, weather_by_office[office], p)
            row = session.get(HomeClimate, home.id) or HomeClimate(home_id=home.id)
            row.computed_at, row.data = now, data
            session.add(row)
            learned += 1
        session.flush()
    return learned


def profile_of(session: Session, home_id: int, kind: climate.Kind) -> climate.ClimateProfile | None:
    row = session.get(HomeClimate, home_id)
    if row is None or kind not in (row.data or {}):
        return None
    return climate.ClimateProfile.from_json(row.data[kind])
