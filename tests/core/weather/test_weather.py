"""Weather: the published shapes read strictly, areas found, fetches retried, gaps shown."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from core.db import session_scope
from core.errors import WeatherError, WeatherFormatError
from core.models import Home, WeatherDay
from core.weather.areas import office_for
from core.weather.jma import parse_forecast, parse_wbgt
from core.weather.sources import FIXTURES, FixtureWeather, HttpWeather
from core.weather.store import day_weather, pull_weather, weather_gaps

SUMMER = FIXTURES / "summer"


def test_the_short_term_report_wins_and_a_repeated_morning_value_is_not_a_minimum() -> None:
    doc = json.loads((SUMMER / "forecast_130000.json").read_text(encoding="utf-8"))
    f = parse_forecast("130000", doc)
    assert f.station == "44132" and f.issued_at == datetime.fromisoformat("2026-08-04T05:00:00+09:00")
    assert (f.days[date(2026, 8, 4)].t_max, f.days[date(2026, 8, 4)].t_min) == (35.0, None)
    assert (f.days[date(2026, 8, 5)].t_max, f.days[date(2026, 8, 5)].t_min) == (34.0, 27.0)
    assert (f.days[date(2026, 8, 7)].t_max, f.days[date(2026, 8, 7)].t_min) == (32.0, 26.0)  # weekly


def test_the_wbgt_forecast_gives_each_days_highest_value() -> None:
    w = parse_wbgt((SUMMER / "wbgt_44132.csv").read_text(encoding="utf-8"))
    assert w == {date(2026, 8, 4): 33.8, date(2026, 8, 5): 32.9}


@pytest.mark.parametrize("doc", [{}, [], [{"timeSeries": []}], "x"])
def test_a_forecast_in_another_shape_is_a_clear_error(doc: Any) -> None:
    with pytest.raises(WeatherFormatError):
        parse_forecast("130000", doc)
    with pytest.raises(WeatherFormatError):
        parse_wbgt("just one line")


@pytest.mark.parametrize(("address", "area", "office"), [
    ("東京都世田谷区桜1-2-3", None, "130000"),
    ("大阪市北区梅田1-1", None, "270000"),
    ("北海道札幌市中央区", None, "016000"),
    ("沖縄県那覇市", None, "471000"),
    (None, "東京", "130000"),
    ("どこか", "関西", "270000"),
    (None, None, None),
])
def test_a_homes_forecast_office_comes_from_its_address_or_utility_area(address: Any, area: Any, office: Any) -> None:
    assert office_for(address, area) == office


class _Resp:
    def __init__(self, status: int, body: bytes = b"[]") -> None:
        self.status_code, self.content = status, body

    def json(self) -> Any:
        return json.loads(self.content)


class _Http:
    def __init__(self, answers: list[Any]) -> None:
        self.answers, self.calls = answers, []

    def get(self, url: str, timeout: float) -> _Resp:
        self.calls.append((url, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_fetch_is_retried_with_backoff_and_a_404_is_not() -> None:
    slept: list[float] = []
    http = _Http([requests.ConnectionError(), _Resp(503), _Resp(200, b'[{"reportDatetime": "x"}]')])
    src = HttpWeather("https://x/{office}.json", "https://y/{point}.csv", timeout=4, attempts=3,
                      sleep=slept.append, http=http)  # type: ignore[arg-type]
    assert src.forecast("130000") == [{"reportDatetime": "x"}]
    assert [c[1] for c in http.calls] == [4, 4, 4] and slept == [1.0, 2.0]
    http = _Http([_Resp(404)])
    src = HttpWeather("https://x/{office}.json", "https://y/{point}.csv", sleep=slept.append, http=http)  # type: ignore[arg-type]
    with pytest.raises(WeatherError):
        src.wbgt("44132")
    assert len(http.calls) == 1


def test_the_fake_moves_saved_dates_onto_today_and_records_calls() -> None:
    fake = FixtureWeather(SUMMER, today=date(2026, 7, 20))
    f = parse_forecast("130000", fake.forecast("130000"))
    assert f.days[date(2026, 7, 20)].t_max == 35.0 and date(2026, 8, 4) not in f.days
    assert parse_wbgt(fake.wbgt("44132"))[date(2026, 7, 20)] == 33.8
    assert fake.calls == [("forecast", "130000"), ("wbgt", "44132")]


def _tokyo_home(make_home: Any) -> Home:
    return make_home(address="東京都杉並区1-1")


def test_the_pull_caches_each_office_once_and_a_dead_feed_is_a_gap(make_home: Any, clock: Any, db: Any) -> None:
    _tokyo_home(make_home)
    _tokyo_home(make_home)
    make_home(address="大阪府大阪市")
    now = datetime(2026, 8, 4, 0, 20, tzinfo=UTC)  # 09:20 JST
    clock.set(now)
    fake = FixtureWeather(SUMMER)
    with session_scope() as s:
        counts = pull_weather(s, now, source=fake)
    assert counts == {"offices": 1, "days": 7, "failed": 1}
    assert [c for c in fake.calls if c[0] == "forecast"] == [("forecast", "130000"), ("forecast", "270000")]
    with session_scope() as s:
        w = day_weather(s, "130000", date(2026, 8, 4), now)
        assert w is not None and w.t_max == 35.0 and w.heat_alert and w.wbgt_max == 33.8
        assert day_weather(s, "270000", date(2026, 8, 4), now) is None
        assert [(g["office"], g["reason"]) for g in weather_gaps(s, now)] == [("270000", "missing")]
        # a day later with the feed dead: yesterday's forecast is late, never acted on
        later = now + timedelta(days=1)
        assert day_weather(s, "130000", date(2026, 8, 5), later) is None
        assert ("130000", "late") in [(g["office"], g["reason"]) for g in weather_gaps(s, later)]
        assert s.get(WeatherDay, ("130000", date(2026, 8, 5))) is not None
