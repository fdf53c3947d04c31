"""Reading the two published formats, strictly: what is not there stays None, never a guess.

JMA's ``forecast/{office}.json`` is a list of two reports. The first (short-term, issued at
05, 11 and 17 JST) has a time series whose areas carry ``temps`` for AMeDAS stations:
a value at 00:00 is the morning's minimum, at 09:00 the day's maximum. The second (weekly)
has ``tempsMin``/``tempsMax`` per day for the same stations (empty strings for the days the
short-term report covers). Short-term values win.

The Ministry of the Environment's WBGT forecast ``yohou_{point}.csv``: a header row
``,,YYYYMMDDHH,...`` (hour 24 = the end of that day) and a row ``point,issued, v, v...``
where each value is WBGT × 10. The 熱中症警戒アラート is issued when a forecast WBGT
reaches 33, so the day's maximum is what the ladder needs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.errors import WeatherFormatError


@dataclass
class DayValues:
    t_max: float | None = None
    t_min: float | None = None


@dataclass
class Forecast:
    """A forecast office's report: per local day, the station's maximum and minimum."""

    office: str
    station: str | None
    issued_at: datetime | None
    days: dict[date, DayValues] = field(default_factory=dict)


def _number(text: Any) -> float | None:
    if text is None:
        return None
    text = str(text).strip()
    if not text or text in {"-", "--", "×"}:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _station_area(areas: list[dict[str, Any]], keys: tuple[str, ...], station: str | None) -> dict[str, Any] | None:
    with_values = [a for a in areas if any(k in a for k in keys)]
    if station is not None:
        for area in with_values:
            if str(area.get("area", {}).get("code")) == station:
                return area
    return with_values[0] if with_values else None


def parse_forecast(office: str, doc: Any, station: str | None = None) -> Forecast:
    """Daily max/min for one station (the office's first, or ``station``) from forecast JSON."""
    if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
        raise WeatherFormatError(f"forecast {office}: not a list of reports")
    try:
        issued = datetime.fromisoformat(doc[0]["reportDatetime"])
    except (KeyError, TypeError, ValueError) as exc:
        raise WeatherFormatError(f"forecast {office}: no reportDatetime") from exc
    out = Forecast(office, station, issued)
    short: dict[date, DayValues] = {}
    for series in doc[0].get("timeSeries", []):
        area = _station_area(series.get("areas", []), ("temps",), station)
        if area is None:
            continue
        out.station = out.station or str(area.get("area", {}).get("code") or "") or None
        for when, value in zip(series.get("timeDefines", []), area.get("temps", []), strict=False):
            at = datetime.fromisoformat(when)
            v = _number(value)
            if v is None:
                continue
            day = short.setdefault(at.date(), DayValues())
            if at.hour < 9:
                day.t_min = v
            else:
                day.t_max = v
    for report in doc[1:2]:
        for series in report.get("timeSeries", []):
            area = _station_area(series.get("areas", []), ("tempsMax", "tempsMin"), out.station)
            if area is None:
                continue
            for i, when in enumerate(series.get("timeDefines", [])):
                day = out.days.setdefault(datetime.fromisoformat(when).date(), DayValues())
                day.t_max = _number((area.get("tempsMax") or [None] * (i + 1))[i])
                day.t_min = _number((area.get("tempsMin") or [None] * (i + 1))[i])
    for values in short.values():
        # The 05:00 report repeats the day's maximum at 00:00 (the morning minimum is past):
        # a "minimum" equal to the maximum is not one.
        if values.t_min is not None and values.t_min == values.t_max:
            values.t_min = None
    for when, values in short.items():
        day = out.days.setdefault(when, DayValues())
        day.t_max = values.t_max if values.t_max is not None else day.t_max
        day.t_min = values.t_min if values.t_min is not None else day.t_min
    out.days = {d: v for d, v in out.days.items() if v.t_max is not None or v.t_min is not None}
    return out


def parse_wbgt(text: str) -> dict[date, float]:
    """The highest forecast WBGT of each day in a ``yohou_{point}.csv``."""
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if len(rows) < 2 or len(rows[0]) < 3:
        raise WeatherFormatError("wbgt: expected a header row and a value row")
    out: dict[date, float] = {}
    for stamp, value in zip(rows[0][2:], rows[1][2:], strict=False):
        stamp = stamp.strip()
        v = _number(value)
        if len(stamp) != 10 or not stamp.isdigit() or v is None or v <= 0:
            continue
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
        out[day] = max(out.get(day, 0.0), v / 10.0)
    return out
