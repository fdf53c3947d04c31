"""Run the configured meter source once (``mimamori meters pull``, the scheduler's job).

``METER_SOURCE=http`` pulls the retailer's API from its saved cursor;
``METER_SOURCE=simulator`` (the embedded default) "receives" every simulated half-hour
that ended at least an hour ago — real readings arrive about an hour late — for each
home still watched, starting ``BACKFILL_DAYS`` back for a home with no data yet so the
demo has history to learn from. Homes the simulator should show as not getting up are
kept in the simulator's MeterSourceCursor state (``set_incapacitated``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.db import session_scope
from core.enums import UNMETERED, ReadingQuality
from core.meters import simulator
from core.meters.ingest import ImportResult, ingest
from core.meters.sources import ReadingIn
from core.models import Home, MeterSourceCursor
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

SIMULATOR_SOURCE = "simulator"
DELAY = timedelta(minutes=60)  # a half-hour is available this long after it ended
BACKFILL_DAYS = 60
HALF_HOUR = timedelta(minutes=30)


def pull_once(settings: Settings | None = None, *, now: datetime | None = None) -> ImportResult:
    """Run the configured source once and store what it gave."""
    settings = settings or get_settings()
    if settings.meter_source == "http":
        from core.meters.http_api import MeterApiClient, pull

        return pull(MeterApiClient.from_settings(settings))
    if settings.meter_source == "simulator":
        with session_scope() as session:
            return pull_simulated(session, now or clock.now())
    return ImportResult()



def available_until(now: datetime) -> datetime:
    """Half-hours starting before this have ended at least ``DELAY`` before ``now``."""
    epoch = int((now - DELAY).timestamp())
    return datetime.fromtimestamp(epoch - epoch % 1800, UTC)


def pull_simulated(session: Session, now: datetime) -> ImportResult:
    """Simulate and ingest every half-hour each watched home has not received yet."""
    end = available_until(now)
    backfill_start = end - timedelta(days=BACKFILL_DAYS)
    incapacitated = incapacitated_homes(session)
    groups: dict[datetime, list[Home]] = defaultdict(list)
    for home in session.scalars(select(Home).where(Home.status.not_in(UNMETERED))):
        start = home.last_reading_at + HALF_HOUR if home.last_reading_at else backfill_start
        if start < end:
            groups[max(start, backfill_start)].append(home)
    items: list[ReadingIn] = []
    for start, homes in groups.items():
        values = simulator.simulate_many(
            [simulator.seed_for(h.meter_id) for h in homes],
            start,
            end,
            incapacitated_from=[incapacitated.get(h.meter_id) for h in homes],
        )
        times = [start + i * HALF_HOUR for i in range(values.shape[1])]
        for home, row in zip(homes, values, strict=True):
            items.extend(
                ReadingIn(home.meter_id, at, kwh, ReadingQuality.MEASURED, 0)
                for at, kwh in zip(times, simulator.as_kwh(row), strict=True)
            )
    return ingest(session, items, now=now)


def incapacitated_homes(session: Session) -> dict[str, datetime]:
    state = session.get(MeterSourceCursor, SIMULATOR_SOURCE)
    if state is None:
        return {}
    return {meter: datetime.fromisoformat(at) for meter, at in (state.state or {}).get("incapacitated", {}).items()}


def set_incapacitated(session: Session, meter_id: str, since: datetime | None) -> None:
    """Make the simulated senior of ``meter_id`` stop moving from ``since`` (None: recover)."""
    state = session.get(MeterSourceCursor, SIMULATOR_SOURCE)
    if state is None:
        state = MeterSourceCursor(source=SIMULATOR_SOURCE, cursor=None, state={})
        session.add(state)
    marks = dict((state.state or {}).get("incapacitated", {}))
    if since is None:
        marks.pop(meter_id, None)
    else:
        marks[meter_id] = since.astimezone(UTC).isoformat()
    state.state = {**(state.state or {}), "incapacitated": marks}
    state.updated_at = clock.now()
    audit.record(session, "meters.simulator", "meters.simulated_incapacity", incapacitated=since is not None)
