"""Pulling the retailer's API over real HTTP from a local fake: paging, cursor, 401, 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from core.clock import ManualClock
from core.db import session_scope
from core.errors import MeterApiError
from core.meters.fake_api import FakeMeterApi
from core.meters.http_api import SOURCE_NAME, MeterApiClient, pull
from core.models import MeterReading, MeterSourceCursor
from tests.core.meters.conftest import add_home, utc

START = utc(2026, 5, 1, 0, 0)


@pytest.fixture
def api() -> Iterator[FakeMeterApi]:
    with FakeMeterApi(token="secret") as server:
        yield server


@pytest.fixture
def homes(db: Engine) -> None:
    with session_scope() as session:
        add_home(session, "API-1")
        add_home(session, "API-2")


def fill(api: FakeMeterApi, count: int, first: int = 0) -> None:
    for i in range(first, first + count):
        at = (START + timedelta(minutes=30 * (i // 2))).isoformat()
        api.add(f"API-{1 + i % 2}", at, 0.1 + i / 1000)


def client(api: FakeMeterApi, token: str = "secret", sleeps: list[float] | None = None) -> MeterApiClient:
    return MeterApiClient(api.url, token, page_size=10, sleep=(sleeps if sleeps is not None else []).append)


def stored() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(MeterReading)) or 0


def test_pages_until_done_and_resumes_from_the_saved_cursor(
    api: FakeMeterApi, homes: None, clock: ManualClock
) -> None:
    fill(api, 25)
    result = pull(client(api))
    assert (result.inserted, result.rejected) == (25, 0)
    assert stored() == 25
    assert [r["query"].get("cursor") for r in api.requests] == [None, "10", "20", "25"]
    assert all(r["authorization"] == "Bearer secret" for r in api.requests)
    with session_scope() as session:
        assert session.get(MeterSourceCursor, SOURCE_NAME).cursor == "25"
    fill(api, 5, first=25)
    again = pull(client(api))
    assert again.inserted == 5
    assert api.requests[4]["query"]["cursor"] == "25"


def test_a_wrong_token_stops_at_once(api: FakeMeterApi, homes: None, clock: ManualClock) -> None:
    fill(api, 3)
    with pytest.raises(MeterApiError) as err:
        pull(client(api, token="wrong"))
    assert err.value.status == 401
    assert len(api.requests) == 1
    assert stored() == 0


def test_server_errors_are_retried_with_backoff(api: FakeMeterApi, homes: None, clock: ManualClock) -> None:
    fill(api, 3)
    api.fail_next(503, times=2)
    sleeps: list[float] = []
    assert pull(client(api, sleeps=sleeps)).inserted == 3
    assert sleeps == [0.5, 1.0]


def test_an_api_that_keeps_failing_keeps_the_cursor(api: FakeMeterApi, homes: None, clock: ManualClock) -> None:
    fill(api, 15)
    pull(client(api))
    fill(api, 5, first=15)
    api.fail_next(500, times=10)
    with pytest.raises(MeterApiError, match="failed 4 times"):
        pull(client(api))
    with session_scope() as session:
        assert session.get(MeterSourceCursor, SOURCE_NAME).cursor == "15"
    assert stored() == 15


def test_bad_records_are_listed_with_their_place(api: FakeMeterApi, homes: None, clock: ManualClock) -> None:
    api.add("API-1", START.isoformat(), 0.2)
    api.add("API-1", "yesterday", 0.2)
    api.add("API-9", START.isoformat(), 0.2)
    result = pull(client(api))
    assert result.inserted == 1
    assert [(e.line, e.reason.split(" ")[0]) for e in result.errors] == [(2, "record"), (3, "unknown")]
