"""Open, acknowledge and close incidents: the one door every part goes through.

Detection calls :func:`open_incident`; the bot, Twilio callbacks, check-in pages and
email links all call :func:`acknowledge`; usage resuming calls :func:`close_for_usage`.
The escalation engine (core/escalation) runs the steps of open incidents and adds the
"tell the others" messages through the hooks below.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.db import is_postgres
from core.enums import EMERGENCY_KINDS, CloseReason, IncidentKind, IncidentState
from core.models import Home, Incident


def _lock(session: Session, incident: Incident) -> None:
    """Re-read the incident under a row lock (PostgreSQL), so two doors never race."""
    session.flush()
    session.refresh(incident, with_for_update=True if is_postgres(session) else None)


def open_incident(
    session: Session,
    home: Home,
    kind: IncidentKind,
    *,
    window_start: datetime,
    evidence: dict[str, Any],
    confidence: float | None = None,
) -> Incident | None:
    """Open an incident unless one of this kind is already open for the home (then None).

    The home's escalation policy is copied into the incident now, so later edits do not
    change an incident in flight; its first step is due at once.
    """
    already = session.scalar(
        select(Incident.id).where(Incident.home_id == home.id, Incident.kind == kind, Incident.closed_at.is_(None))
    )
    if already is not None:
        return None
    from core.detection.evidence import Evidence
    from core.escalation.policy import snapshot_for

    evidence = Evidence.from_json(evidence, strict=True).to_json()  # a key no reader knows is refused here
    now = clock.now()
    incident = Incident(
        home_id=home.id,
        kind=kind,
        state=IncidentState.OPEN,
        window_start=window_start,
        detected_at=now,
        evidence=evidence,
        confidence=confidence,
        policy_snapshot=snapshot_for(home, kind),
        step_index=0,
        next_due_at=now,
    )
    session.add(incident)
    session.flush()
    audit.record(session, "detection", "incident_opened", home_id=home.id, incident_id=incident.id, kind=kind.value)
    return incident


def open_incidents_of(session: Session, home_id: int) -> list[Incident]:
    return list(
        session.scalars(select(Incident).where(Incident.home_id == home_id, Incident.closed_at.is_(None)))
    )


def acknowledge(
    session: Session, incident: Incident, who: str, source: str, *, watcher_id: int | None = None,
    except_recipient: str | None = None,
) -> bool:
    """Someone took it. Stops every pending step and tells the others who took it (outbox,
    same transaction). Returns False if it was already taken or closed.

    ``who`` is how others will be told (a display label, never a phone number);
    ``source`` is the channel: line, line_group, voice, sms_link, email_link, resident_line, admin.
    The one who acted (``watcher_id``, or the chat ``except_recipient``, e.g. a landlord group) is not
    told their own news.
    """
    from core.escalation import notices

    _lock(session, incident)
    if incident.closed_at is not None or incident.acknowledged_at is not None:
        return False
    now = clock.now()
    incident.acknowledged_at = now
    incident.acknowledged_by = who
    incident.ack_source = source
    incident.state = IncidentState.ACKNOWLEDGED
    incident.next_due_at = None
    incident.fence += 1
    audit.record(
        session, f"{source}:{watcher_id or '-'}", "incident_acknowledged", home_id=incident.home_id,
        incident_id=incident.id,
    )
    notices.stop_pending(session, incident)
    notices.tell_alerted(session, incident, "ack", who=who, except_watcher_id=watcher_id,
                         except_recipient=except_recipient)
    return True


def close(
    session: Session,
    incident: Incident,
    reason: CloseReason,
    actor: str,
    *,
    who: str | None = None,
    watcher_id: int | None = None,
    except_recipient: str | None = None,
) -> bool:
    """Close for good. States never move backwards; closing twice does nothing.

    Pending steps stop; whoever was alerted is told why it ended (usage seen, the resident
    answered, or ``who`` found them safe / says it was a false alarm — kept for tuning).
    """
    from core.escalation import notices

    _lock(session, incident)
    if incident.closed_at is not None:
        return False
    incident.closed_at = clock.now()
    incident.close_reason = reason
    incident.state = IncidentState.CLOSED
    incident.next_due_at = None
    incident.fence += 1
    audit.record(
        session, actor, "incident_closed", home_id=incident.home_id, incident_id=incident.id, reason=reason.value
    )
    if reason is not CloseReason.NOTICE:  # a notice closes right after writing its messages: keep them
        notices.stop_pending(session, incident)
    if (event := notices.ENDINGS.get(reason)) is not None:
        notices.tell_alerted(session, incident, event, who=who, except_watcher_id=watcher_id,
                             except_recipient=except_recipient)
    return True


def confirm_resident(session: Session, incident: Incident, source: str) -> bool:
    """The resident said they are fine (a person answered, pressed 1, tapped the link or OK)."""
    return close(session, incident, CloseReason.RESIDENT_OK, source)


def close_for_usage(session: Session, home_id: int, seen_at: datetime) -> list[Incident]:
    """Usage resumed: close the home's open emergency incidents as "usage seen"."""
    closed = []
    for incident in open_incidents_of(session, home_id):
        if incident.kind in EMERGENCY_KINDS:
            incident.evidence = {**incident.evidence, "usage_seen": seen_at.isoformat()}
            if close(session, incident, CloseReason.USAGE_SEEN, "detection"):
                closed.append(incident)
    return closed
