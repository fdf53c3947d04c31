"""The models and the migrations must describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import Base
from core.enums import IncidentKind
from core.models import Home, Incident, MeterReading


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; regenerate the migration: {diff}"


def test_datetimes_come_back_aware_utc(session: Session) -> None:
    jst = timezone(timedelta(hours=9))
    home = Home(meter_id="MAC-TZ")
    session.add(home)
    session.flush()
    session.add(MeterReading(home_id=home.id, interval_start=datetime(2026, 1, 1, 9, 0, tzinfo=jst), kwh=0.2))
    session.flush()
    session.expire_all()
    got = session.scalars(select(MeterReading.interval_start)).one()
    assert got == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert got.tzinfo is not None


def test_naive_datetimes_are_refused(session: Session) -> None:
    home = Home(meter_id="MAC-NAIVE")
    session.add(home)
    session.flush()
    session.add(MeterReading(home_id=home.id, interval_start=datetime(2026, 1, 1, 9, 0), kwh=0.2))  # noqa: DTZ001
    with pytest.raises(Exception, match="naive"):
        session.flush()


def test_one_open_incident_per_home_and_kind(session: Session) -> None:
    home = Home(meter_id="MAC-INC")
    session.add(home)
    session.flush()
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def incident() -> Incident:
        return Incident(home_id=home.id, kind=IncidentKind.NO_WAKE, window_start=at, detected_at=at)

    first = incident()
    session.add(first)
    session.flush()
    with session.begin_nested(), pytest.raises(IntegrityError):
        session.add(incident())
        session.flush()
    first.closed_at = at
    session.flush()
    session.add(incident())  # once closed, a new one may open
    session.flush()
