"""The dev demo home that ``make run`` seeds: watched at once, and its family gets last week's
digest with the week's graph in LINE (through the real outbox dispatcher and the LINE API fake)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core import demo
from core.db import session_scope
from core.enums import HomeStatus
from core.escalation.dispatcher import dispatch_due
from core.models import Home, MeterReading


def test_seed_dev_home_is_watched_and_its_weekly_digest_reaches_line(db: Any, clock: Any, fake_line: Any) -> None:
    with session_scope() as session:
        cast = demo.seed_dev_home(session, clock.now())
    assert cast is not None
    with session_scope() as session:
        home = session.get(Home, cast.home_id)
        assert home is not None and home.status == HomeStatus.ACTIVE
        assert home.resident is not None and home.resident.consent_given_at is not None
        assert home.building is not None and home.building.line_group_id == demo.DEMO_GROUP_ID
        days = session.scalar(select(func.count()).select_from(MeterReading)
                              .where(MeterReading.home_id == home.id)) / 48
        assert days >= 56

    assert dispatch_due() >= 1
    [digest] = fake_line.state.messages_to(demo.DEMO_WATCHER_LINE_ID)
    week = digest["contents"]["contents"][0]
    assert digest["contents"]["type"] == "carousel" and "/graphs/" in week["hero"]["url"]


def test_seed_dev_home_leaves_a_database_with_homes_alone(db: Any, clock: Any, make_home: Any) -> None:
    make_home()
    with session_scope() as session:
        assert demo.seed_dev_home(session, clock.now()) is None
        assert session.scalar(select(func.count(Home.id))) == 1
