"""A home is watched only after 56 days with >= 90% of half-hours; data gaps are flagged."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import HomeStatus, ReadingQuality
from core.meters.ingest import ingest
from core.meters.sources import ReadingIn
from core.models import AuditLog, Home
from core.readiness import readiness, refresh_home_statuses
from tests.core.meters.conftest import add_home, utc

NOW = utc(2026, 6, 1, 0, 0)


def history(session: Session, home: Home, days: float, *, skip_every: int = 0, end: datetime = NOW) -> None:
    """Readings for the ``days`` before ``end``; every ``skip_every``-th half-hour missing."""
    count = int(days * 48)
    items = [
        ReadingIn(home.meter_id, end - timedelta(minutes=30 * (i + 1)), 0.1, ReadingQuality.MEASURED, 0)
        for i in range(count)
        if not (skip_every and i % skip_every == 0)
    ]
    ingest(session, items, now=NOW)


def test_no_history_needs_all_56_days(session: Session, clock: ManualClock) -> None:
    home = add_home(session, "R0")
    state = readiness(session, home, NOW)
    assert (state.ready, state.days_of_history, state.days_remaining) == (False, 0, 56)


def test_thirty_full_days_need_26_more(session: Session, clock: ManualClock) -> None:
    home = add_home(session, "R30")
    history(session, home, 30)
    state = readiness(session, home, NOW)
    assert (state.ready, state.days_of_history, state.days_remaining) == (False, 30, 26)
    assert abs(state.coverage - 30 / 56) < 0.001


def test_56_days_at_95_percent_are_ready(session: Session, clock: ManualClock) -> None:
    home = add_home(session, "R56")
    history(session, home, 56, skip_every=20)
    state = readiness(session, home, NOW)
    assert state.ready and state.days_remaining == 0 and 0.94 < state.coverage < 0.96


def test_56_days_at_75_percent_are_not_ready_and_say_how_long(session: Session, clock: ManualClock) -> None:
    home = add_home(session, "R75")
    history(session, home, 56, skip_every=4)
    state = readiness(session, home, NOW)
    assert not state.ready and state.days_of_history == 56 and state.coverage == 0.75
    # 36 of 48 a day now; each new full day replaces one: 2016 + 12 d >= 0.9 × 2688 from d = 34.
    assert state.days_remaining == 34


def test_refresh_moves_ready_homes_by_consent(session: Session, clock: ManualClock) -> None:
    consenting = add_home(session, "C1")
    waiting = add_home(session, "C2", consent=False)
    young = add_home(session, "C3")
    for home in (consenting, waiting):
        history(session, home, 57)
    history(session, young, 10)
    counts = refresh_home_statuses(session, NOW)
    assert counts["activated"] == 1 and counts["awaiting_consent"] == 1
    assert consenting.status == HomeStatus.ACTIVE and consenting.ready_at == NOW
    assert waiting.status == HomeStatus.AWAITING_CONSENT
    assert young.status == HomeStatus.AWAITING_HISTORY
    waiting.resident.consent_given_at = NOW
    refresh_home_statuses(session, NOW)
    assert waiting.status == HomeStatus.ACTIVE
    changes = session.scalars(select(AuditLog).where(AuditLog.action == "home.status_changed")).all()
    assert sorted((a.home_id, a.detail["new"]) for a in changes) == sorted(
        [(consenting.id, "active"), (waiting.id, "awaiting_consent"), (waiting.id, "active")]
    )


def test_withdrawn_consent_is_no_consent(session: Session, clock: ManualClock) -> None:
    home = add_home(session, "W1")
    home.resident.consent_withdrawn_at = NOW
    history(session, home, 57)
    refresh_home_statuses(session, NOW)
    assert home.status == HomeStatus.AWAITING_CONSENT


def test_a_home_whose_data_stops_is_flagged_once_and_cleared_when_data_returns(
    session: Session, clock: ManualClock, settings
) -> None:
    home = add_home(session, "G1", status=HomeStatus.ACTIVE)
    fresh = add_home(session, "G2", status=HomeStatus.ACTIVE)
    history(session, home, 1, end=NOW - timedelta(hours=4))
    history(session, fresh, 1, end=NOW - timedelta(hours=1))
    assert settings.data_gap_after_minutes == 180
    assert refresh_home_statuses(session, NOW)["data_gap"] == 1
    assert home.data_gap_since == NOW - timedelta(hours=4)  # where the data stopped
    assert fresh.data_gap_since is None
    assert refresh_home_statuses(session, NOW + timedelta(hours=1))["data_gap"] == 0  # already flagged
    gaps = session.scalars(select(AuditLog).where(AuditLog.action == "meters.data_gap")).all()
    assert [a.home_id for a in gaps] == [home.id]
    history(session, home, 0.1, end=NOW)
    session.refresh(home)
    assert home.data_gap_since is None
