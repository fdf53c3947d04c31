"""The scheduled weather pull, the cache it fills (``weather_day``), and what readers ask of it.

:func:`pull_weather` asks each forecast office that a watched home needs, once, for its
forecast and the WBGT forecast of the office's station, and upserts one row per local
day. A failed office keeps its old rows (they grow stale) and is logged; the next run
tries again. :func:`day_weather` answers the ladder only with a forecast issued in time
(``WEATHER_STALE_HOURS``): a missing or late forecast is ``None``, and ``None`` never
starts a heat message. :func:`weather_gaps` is what ``mimamori status`` shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.enums import HomeStatus
from core.errors import WeatherError
from core.logging import log_event
from core.models import Home, WeatherDay
from core.settings import Settings, get_settings
from core.weather.areas import office_for
from core.weather.jma import parse_forecast, parse_wbgt
from core.weather.sources import WeatherSource, source_for

log = logging.getLogger(__name__)
WATCHED = (HomeStatus.ACTIVE, HomeStatus.PAUSED)


@dataclass(frozen=True)
class DayWeather:
    """What the ladder needs of one day: forecast max/min and the heat-stroke alert."""

    office: str
    day: date
    t_max: float | None
    t_min: float | None
    wbgt_max: float | None
    heat_alert: bool


def office_of(home: Home) -> str | None:
    return office_for(home.address, home.area)


def watched_offices(session: Session) -> dict[str, int]:
    """Forecast offices the watched homes need -> how many homes each (homes with no place: skipped)."""
    out: dict[str, int] = {}
    rows = session.execute(select(Home.address, Home.area).where(
        Home.status.in_(WATCHED), Home.climate_watch_enabled.is_(True), Home.ended_at.is_(None)))
    for address, area in rows:
        if (office := office_for(address, area)) is not None:
            out[office] = out.get(office, 0) + 1
    return out


def store_office(session: Session, source: WeatherSource, office: str, now: datetime) -> int:
    """Fetch and cache one office; returns days stored. Raises WeatherError on failure."""
    forecast = parse_forecast(office, source.forecast(office))
    wbgt: dict[date, float] = {}
    if forecast.station:
        try:
            wbgt = parse_wbgt(source.wbgt(forecast.station))
        except WeatherError as exc:  # no WBGT is no alert, not a lost forecast
            log_event(log, "weather.wbgt_failed", logging.WARNING, office=office, error=str(exc)[:200])
    days = set(forecast.days) | set(wbgt)
    for day in sorted(days):
        row = session.get(WeatherDay, (office, day)) or WeatherDay(office=office, day=day)
        values = forecast.days.get(day)
        if values is not None:
            row.t_max, row.t_min = values.t_max, values.t_min
            row.issued_at = forecast.issued_at
        if day in wbgt:
            row.wbgt_max = wbgt[day]
            row.issued_at = row.issued_at or forecast.issued_at
        row.station = forecast.station
        row.fetched_at = now
        session.add(row)
    session.flush()
    return len(days)


def pull_weather(session: Session, now: datetime, *, source: WeatherSource | None = None,
                 settings: Settings | None = None) -> dict[str, int]:
    """The scheduled job: every needed office once. Returns counts (offices, days, failed)."""
    settings = settings or get_settings()
    today = now.astimezone(settings.tz).date()
    source = source or source_for(settings, today)
    counts = {"offices": 0, "days": 0, "failed": 0}
    for office in sorted(watched_offices(session)):
        try:
            with session.begin_nested():
                counts["days"] += store_office(session, source, office, now)
            counts["offices"] += 1
        except WeatherError as exc:
            counts["failed"] += 1
            log_event(log, "weather.pull_failed", logging.WARNING, office=office, error=str(exc)[:200])
    return counts


def is_fresh(row: WeatherDay, now: datetime, settings: Settings) -> bool:
    """Issued recently enough to act on (a row from yesterday's pull of a dead feed is not)."""
    issued = row.issued_at or row.fetched_at
    return issued is not None and now - issued <= timedelta(hours=settings.weather_stale_hours)


def day_weather(session: Session, office: str | None, day: date, now: datetime | None = None,
                settings: Settings | None = None) -> DayWeather | None:
    """The day's forecast if it is there and fresh; None otherwise (then: no heat message)."""
    if office is None:
        return None
    settings = settings or get_settings()
    row = session.get(WeatherDay, (office, day))
    if row is None or not is_fresh(row, now or clock.now(), settings):
        return None
    if row.t_max is None and row.t_min is None and row.wbgt_max is None:
        return None
    alert = row.wbgt_max is not None and row.wbgt_max >= settings.heat_alert_wbgt
    return DayWeather(office, day, row.t_max, row.t_min, row.wbgt_max, alert)


def history(session: Session, office: str, first: date, last: date) -> dict[date, tuple[float | None, float | None]]:
    """Cached (t_max, t_min) by day for learning what this home does on hot and cold days."""
    rows = session.execute(select(WeatherDay.day, WeatherDay.t_max, WeatherDay.t_min).where(
        WeatherDay.office == office, WeatherDay.day >= first, WeatherDay.day <= last))
    return {d: (hi, lo) for d, hi, lo in rows}


def weather_gaps(session: Session, now: datetime, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Offices a watched home needs whose forecast for today is missing or late (operator view)."""
    settings = settings or get_settings()
    today = now.astimezone(ZoneInfo(settings.mimamori_timezone)).date()
    out = []
    for office, homes in sorted(watched_offices(session).items()):
        row = session.get(WeatherDay, (office, today))
        if row is None:
            out.append({"office": office, "homes": homes, "reason": "missing", "issued_at": None})
        elif not is_fresh(row, now, settings):
            out.append({"office": office, "homes": homes, "reason": "late", "issued_at": row.issued_at})
    return out
