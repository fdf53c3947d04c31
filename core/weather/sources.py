"""Where forecasts come from, behind one small interface: the real sites, or saved responses.

:class:`HttpWeather` asks JMA and the Ministry of the Environment with a timeout and a few
retries with backoff (a 404 is not retried: that point publishes nothing). The recording
fake :class:`FixtureWeather` answers from JSON/CSV files in the published shapes
(``core/weather/fixtures/<season>/``), records every call, can be told an area is
unreachable, and can move the saved dates onto today (``make run`` has no network).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import requests

from core.errors import WeatherError
from core.settings import Settings

FIXTURES = Path(__file__).with_name("fixtures")


class WeatherSource(Protocol):
    """Raw responses: the forecast JSON of a JMA office and the WBGT CSV of a point."""

    def forecast(self, office: str) -> Any: ...

    def wbgt(self, point: str) -> str: ...


class HttpWeather:
    """The published sites; ``sleep`` is injected so tests do not wait for the backoff."""

    def __init__(self, forecast_url: str, wbgt_url: str, *, timeout: float = 10.0, attempts: int = 3,
                 backoff_seconds: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 http: requests.Session | None = None) -> None:
        self.forecast_url, self.wbgt_url = forecast_url, wbgt_url
        self.timeout, self.attempts, self.backoff_seconds = timeout, attempts, backoff_seconds
        self.sleep = sleep
        self.http = http or requests.Session()

    def _get(self, url: str) -> requests.Response:
        last = "no attempt"
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                resp = self.http.get(url, timeout=self.timeout)
            except requests.RequestException as exc:
                last = type(exc).__name__
                continue
            if resp.status_code == 200:
                return resp
            last = f"HTTP {resp.status_code}"
            if resp.status_code in (400, 401, 403, 404):
                break
        raise WeatherError(f"{url}: {last}")

    def forecast(self, office: str) -> Any:
        try:
            return self._get(self.forecast_url.format(office=office)).json()
        except ValueError as exc:
            raise WeatherError(f"forecast {office}: not JSON") from exc

    def wbgt(self, point: str) -> str:
        resp = self._get(self.wbgt_url.format(point=point))
        return resp.content.decode("utf-8-sig", errors="replace")


_ISO_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?=T)")
_STAMP = re.compile(r"\b(\d{8})(\d{2})\b")
_SLASH_DAY = re.compile(r"\b(\d{4})/(\d{2})/(\d{2})\b")


class FixtureWeather:
    """Saved responses in the real shapes. ``calls`` records what was asked; ``unreachable``
    names offices/points that fail like a dead network; ``today`` moves the saved report so
    that it was issued on that day (every date shifted by the same number of days)."""

    def __init__(self, folder: Path | str, *, today: date | None = None) -> None:
        self.folder = Path(folder)
        self.today = today
        self.calls: list[tuple[str, str]] = []
        self.unreachable: set[str] = set()

    @classmethod
    def for_day(cls, day: date, *, shift: bool = False, root: Path = FIXTURES) -> FixtureWeather:
        """The summer set from May to September, the winter set otherwise."""
        season = "summer" if 5 <= day.month <= 9 else "winter"
        return cls(root / season, today=day if shift else None)

    def _text(self, name: str, key: str) -> str:
        self.calls.append((name.split("_")[0], key))
        path = self.folder / name
        if key in self.unreachable or not path.exists():
            raise WeatherError(f"{name}: no saved response")
        return self._shift(path.read_text(encoding="utf-8"))

    def _shift(self, text: str) -> str:
        if self.today is None:
            return text
        issued = _ISO_DAY.search(text) or None
        if issued is None:
            m = _SLASH_DAY.search(text)
            if m is None:
                return text
            first = date(int(m[1]), int(m[2]), int(m[3]))
        else:
            first = date.fromisoformat(issued[1])
        delta = self.today - first

        def iso(m: re.Match[str]) -> str:
            return (date.fromisoformat(m[1]) + delta).isoformat()

        def stamp(m: re.Match[str]) -> str:
            day = date(int(m[1][:4]), int(m[1][4:6]), int(m[1][6:]))
            return f"{day + delta:%Y%m%d}{m[2]}"

        def slash(m: re.Match[str]) -> str:
            return f"{date(int(m[1]), int(m[2]), int(m[3])) + delta:%Y/%m/%d}"

        return _SLASH_DAY.sub(slash, _STAMP.sub(stamp, _ISO_DAY.sub(iso, text)))

    def forecast(self, office: str) -> Any:
        return json.loads(self._text(f"forecast_{office}.json", office))

    def wbgt(self, point: str) -> str:
        return self._text(f"wbgt_{point}.csv", point)


class NoWeather:
    """WEATHER_SOURCE=none: every area is a gap (and no heat alert is ever sent)."""

    def forecast(self, office: str) -> Any:
        raise WeatherError("weather is switched off (WEATHER_SOURCE=none)")

    def wbgt(self, point: str) -> str:
        raise WeatherError("weather is switched off (WEATHER_SOURCE=none)")


_installed: WeatherSource | None = None


def use_source(source: WeatherSource | None) -> None:
    """Install a source process-wide (tests, the demo, the benchmark); None: from settings."""
    global _installed
    _installed = source


def source_for(settings: Settings, today: date) -> WeatherSource:
    if _installed is not None:
        return _installed
    if settings.weather_source == "http":
        return HttpWeather(settings.weather_forecast_url, settings.weather_wbgt_url,
                           timeout=settings.http_timeout_seconds, attempts=settings.weather_retries)
    if settings.weather_source == "none":
        return NoWeather()
    root = Path(settings.weather_fixtures_dir) if settings.weather_fixtures_dir else FIXTURES
    return FixtureWeather.for_day(today, shift=True, root=root)


