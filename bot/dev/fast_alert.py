"""/dev/chat's アラートを試す: the home's real escalation on a fast clock (dev only).

It opens a real incident (the detector's evidence shape, marked simulated) through
:func:`core.incidents.open_incident`, so it copies the home's own policy; then the real
engine runs each step and the real dispatcher sends what the step wrote to the outbox —
the senior's check-in first, then the family's alert card with its graph and detail link,
then the landlord group — exactly what production pushes. Only the waits are shortened:
each step's wait becomes ``wait_seconds``, so a person trying it sees the whole chain
in under a minute, and can answer as the senior or tap 対応します in between.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.db import session_scope
from core.detection.evidence import Evidence
from core.enums import IncidentKind
from core.escalation import dispatcher, engine
from core.incidents import open_incident
from core.models import Home, Incident
from core.settings import Settings

log = logging.getLogger(__name__)
WAIT_SECONDS = 8.0
MAX_STEPS = 40


def simulated_evidence(home: Home, now: datetime) -> dict:
    """What the no-wake detector writes, for a morning where nothing was used since last night's
    bedtime (the family's sleep time, else 22:30; at most a day ago)."""
    local = now.astimezone(home.tz)
    schedule = home.schedule
    wake = getattr(schedule, "wake_time", None) if schedule is not None else None
    bed = getattr(schedule, "sleep_time", None) if schedule is not None else None
    usual = f"{wake.hour}:{wake.minute:02d}" if wake is not None else "7:00"
    quiet = local.replace(hour=bed.hour if bed else 22, minute=bed.minute if bed else 30, second=0, microsecond=0)
    while quiet >= local - timedelta(hours=2):
        quiet -= timedelta(days=1)
    return Evidence(window_start=quiet.isoformat(), quiet_since=quiet.isoformat(), usual_wake=usual,
                    confidence=0.9, simulated=True).to_json()


def start(session: Session, home: Home) -> Incident:
    """Open the simulated incident (or return the home's open one)."""
    now = clock.now()
    evidence = simulated_evidence(home, now)
    incident = open_incident(session, home, IncidentKind.NO_WAKE,
                             window_start=datetime.fromisoformat(evidence["quiet_since"]),
                             evidence=evidence, confidence=0.9)
    if incident is None:
        incident = session.scalar(select(Incident).where(
            Incident.home_id == home.id, Incident.kind == IncidentKind.NO_WAKE, Incident.closed_at.is_(None)))
    assert incident is not None
    return incident


def step(incident_id: int, settings: Settings) -> bool:
    """Make the incident's next step due now, run it and send its messages. False once it has ended."""
    with session_scope() as s:
        incident = s.get(Incident, incident_id)
        if incident is None or incident.closed_at is not None or incident.next_due_at is None:
            ended = True
        else:
            ended = False
            incident.next_due_at = min(incident.next_due_at, clock.now())
    if not ended:
        engine.tick(settings=settings)
    dispatcher.dispatch_due(settings=settings)
    return not ended


def run_in_background(incident_id: int, settings: Settings, wait_seconds: float = WAIT_SECONDS) -> threading.Thread:
    """The fast clock: one step now, then one every ``wait_seconds`` until the incident ends."""

    def loop() -> None:
        for _ in range(MAX_STEPS):
            try:
                if not step(incident_id, settings):
                    return
            except Exception:  # dev only: say so and stop, never take the page down
                log.exception("simulated alert %s stopped", incident_id)
                return
            _time.sleep(wait_seconds)

    thread = threading.Thread(target=loop, name=f"fast-alert-{incident_id}", daemon=True)
    thread.start()
    return thread
