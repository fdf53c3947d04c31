"""The real reference data (../shared/data/lcl-dev, ~1M readings of 60 homes) imports, and
imports again without changing a row. SLOW: about a minute per database (marked shared_data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from core.db import session_scope
from core.meters.ingest import ingest
from core.meters.sources import detect_format, file_source
from core.models import Home, MeterReading

pytestmark = pytest.mark.shared_data


def test_lcl_dev_imports_once(db: Engine, lcl_readings: Path) -> None:
    assert detect_format(lcl_readings) == "replay"
    with session_scope() as session:
        first = ingest(session, file_source(lcl_readings), create_homes=True)
    assert first.rejected == 0, first.errors[:5]
    assert first.homes_created == 60
    assert first.inserted > 1_000_000 and first.revised == 0
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(MeterReading)) == first.inserted
        assert session.scalar(select(func.count()).select_from(Home)) == 60
        dead = session.scalar(select(Home).where(Home.meter_id == "MAC000004"))
        assert dead is not None and dead.last_reading_at is not None
    with session_scope() as session:
        second = ingest(session, file_source(lcl_readings), create_homes=True)
    assert (second.inserted, second.revised, second.homes_created) == (0, 0, 0)
    assert second.unchanged == first.inserted
