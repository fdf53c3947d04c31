"""What the day graph marks for heat and cold: a hot day (or a heat-stroke alert) and the
half-hours the home's own cooling ran (core.detection.climate.running_slots). Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy.orm import Session

from core.climate.profiles import day_readings, params, profile_of
from core.detection import climate
from core.models import Home, WeatherDay
from core.settings import get_settings
from core.texts import t
from core.weather.store import office_of


@dataclass(frozen=True)
class DayMarks:
    label: str | None  # 「暑い日（最高35度）」, or None on an ordinary day
    cooling: np.ndarray  # bool [48]: the home's cooling ran
    cooling_label: str


def day_marks(session: Session, home: Home, day: date, lang: str) -> DayMarks | None:
    """None when the home is not watched for heat or nothing is known of the day's weather."""
    office = office_of(home)
    if not home.climate_watch_enabled or office is None:
        return None
    w = session.get(WeatherDay, (office, day))
    settings = get_settings()
    if w is None or (w.t_max is None and w.wbgt_max is None):
        return None
    degrees = t("climate.degrees", lang, value=w.t_max) if w.t_max is not None else "—"
    label = None
    if w.wbgt_max is not None and w.wbgt_max >= settings.heat_alert_wbgt:
        label = t("climate.graph.alert_day", lang, t_max=degrees)
    elif w.t_max is not None and w.t_max >= settings.heat_day_max_c:
        label = t("climate.graph.hot_day", lang, t_max=degrees)
    profile = profile_of(session, home.id, "cooling")
    running = climate.running_slots(profile, day_readings(session, home.id, day), params()) \
        if profile is not None and profile.seen else np.zeros(48, bool)
    if label is None and not running.any():
        return None
    return DayMarks(label, running, t("climate.graph.cooling", lang))


def week_lines(session: Session, home: Home, first: date, lang: str) -> list[str]:
    """For the weekly digest: each hot day of the week and when the home's cooling ran (or not)."""
    from datetime import timedelta

    out = []
    for k in range(7):
        day = first + timedelta(days=k)
        marks = day_marks(session, home, day, lang)
        if marks is None or marks.label is None:
            continue
        slots = np.flatnonzero(marks.cooling)
        if slots.size:
            ran = t("climate.week.cooling_ran", lang, start=_hhmm(int(slots[0])), end=_hhmm(int(slots[-1]) + 1))
        else:
            ran = t("climate.week.no_cooling", lang)
        out.append(t("climate.week.day", lang, month=day.month, day=day.day, label=marks.label, ran=ran))
    return out


def _hhmm(slot: int) -> str:
    return f"{slot // 2}:{30 * (slot % 2):02d}"
