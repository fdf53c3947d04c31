"""Fixtures for escalation: recording channels, open incidents, run-until-quiet helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from core.db import session_scope
from core.enums import Channel, IncidentKind
from core.escalation import dispatcher, engine, faults
from core.escalation.channels.fakes import RecordingSender
from core.incidents import open_incident
from core.models import Home, Incident


@pytest.fixture(autouse=True)
def _disarm_faults() -> Any:
    yield
    faults.disarm()


@pytest.fixture
def recording() -> dict[Channel, RecordingSender]:
    """One recording fake per channel (SMS and voice share one, as Twilio does)."""
    twilio = RecordingSender()
    return {Channel.LINE: RecordingSender(), Channel.SMS: twilio, Channel.VOICE: twilio,
            Channel.EMAIL: RecordingSender(), Channel.WEBHOOK: RecordingSender()}


def open_emergency(home: Home, kind: IncidentKind = IncidentKind.NO_WAKE, **evidence: Any) -> int:
    from core import clock

    with session_scope() as s:
        h = s.get(Home, home.id)
        assert h is not None
        incident = open_incident(s, h, kind, window_start=clock.now() - timedelta(hours=2),
                                 evidence=evidence or {"last_activity_at": (clock.now() - timedelta(hours=10)).isoformat()})
        assert incident is not None
        return incident.id


@pytest.fixture
def open_emergency_fixture() -> Callable[..., int]:
    return open_emergency


def load(incident_id: int) -> Incident:
    with session_scope() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        s.expunge(incident)
        return incident


def run(channels: dict[Channel, Any] | None = None, rounds: int = 5) -> None:
    """Let the engine and the dispatcher catch up with everything due now."""
    for _ in range(rounds):
        stepped = engine.tick()
        sent = dispatcher.dispatch_due(channels=channels)
        if not stepped and not sent:
            return
