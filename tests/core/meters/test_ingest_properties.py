"""Whatever order and however often readings arrive, the stored result is the same."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.enums import ReadingQuality
from core.meters.ingest import ingest
from core.meters.sources import ReadingIn
from core.models import MeterReading
from tests.core.meters.conftest import add_home, utc

SERIAL = itertools.count()
START = utc(2026, 5, 1, 0, 0)
NOW = utc(2026, 6, 1, 0, 0)

readings = st.lists(
    st.tuples(st.integers(0, 95), st.integers(0, 5000).map(lambda w: w / 1000)),
    min_size=1,
    max_size=60,
    unique_by=lambda r: r[0],
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=readings, order=st.randoms(use_true_random=False), repeat=st.integers(1, 3))
def test_order_and_repeats_do_not_matter(session: Session, rows: list, order, repeat: int) -> None:
    home = add_home(session, f"PROP-{next(SERIAL)}")
    items = [
        ReadingIn(home.meter_id, START + timedelta(minutes=30 * slot), kwh, ReadingQuality.MEASURED, 0)
        for slot, kwh in rows
    ]
    shuffled = list(items) * repeat
    order.shuffle(shuffled)
    first = ingest(session, shuffled, now=NOW)
    assert first.inserted == len(rows) and first.revised == 0 and first.rejected == 0
    again = ingest(session, list(reversed(items)), now=NOW)
    assert again.changed == 0
    stored = dict(
        session.execute(
            select(MeterReading.interval_start, MeterReading.kwh).where(MeterReading.home_id == home.id)
        ).all()
    )
    assert stored == {i.interval_start: i.kwh for i in items}
    session.execute(delete(MeterReading).where(MeterReading.home_id == home.id))
