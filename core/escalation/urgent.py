"""The senior calls for help: the family is alerted at once, marked urgent, with their words.

With a check-in open, the incident is marked urgent (its evidence keeps the senior's
words), its remaining senior contact is stopped and it jumps to the family step, which
then alerts every family member at once; family members already alerted are sent the
senior's words too. Without one, every family member gets the urgent message straight away.
Nothing here ever closes an incident: a call for help is never an "OK".
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock, outbox
from core.detection.evidence import Evidence
from core.enums import AttemptState, Channel, OutboxState, WatcherRole
from core.escalation import messages
from core.escalation.attempts import advance, routes
from core.escalation.kinds import StepKind
from core.models import Home, HomeWatcher, Incident, OutboxMessage, Resident, Watcher
from core.texts import normalize_language, t


def _stop_resident_contact(session: Session, incident: Incident) -> None:
    for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.incident_id == incident.id, OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.attempts == 0, OutboxMessage.attempt_id.is_not(None))):
        attempt = next((a for a in incident.attempts if a.id == row.attempt_id), None)
        if attempt is not None and attempt.step_kind == StepKind.CONTACT_RESIDENT:
            row.state = OutboxState.CANCELLED
    for attempt in incident.attempts:
        if attempt.step_kind == StepKind.CONTACT_RESIDENT and attempt.state in (
                AttemptState.PENDING, AttemptState.IN_PROGRESS):
            advance(attempt, AttemptState.SUCCEEDED, confirmed_by="help")


def _family_step(incident: Incident) -> int | None:
    steps = (incident.policy_snapshot or {}).get("steps", [])
    return next((i for i, s in enumerate(steps) if s.get("kind") == StepKind.ALERT_FAMILY), None)


def call_for_help(session: Session, resident: Resident, words: str, incident: Incident | None) -> Incident | None:
    """Alert the family now (see the module). Returns the incident concerned, if any."""
    from core.escalation.engine import run_step

    home = session.get(Home, resident.home_id)
    assert home is not None
    audit.record(session, f"resident_line:{resident.id}", "resident_called_for_help", home_id=home.id,
                 incident_id=incident.id if incident else None)
    if incident is None:
        _help_without_incident(session, home, words)
        return None
    already = bool(incident.evidence.get("urgent"))
    incident.evidence = Evidence.from_json(incident.evidence).but(urgent=True, resident_words=words).to_json()
    if already:
        pass_on(session, incident, words)
        return incident
    _stop_resident_contact(session, incident)
    pass_on(session, incident, words, first=True)  # those already alerted hear the call for help now
    family = _family_step(incident)
    if incident.acknowledged_at is None and family is not None and incident.step_index <= family:
        incident.step_index = family
        incident.next_due_at = clock.now()
        session.flush()
        run_step(session, incident)  # the family step runs in this transaction: no wait for the next tick
    return incident


def pass_on(session: Session, incident: Incident, words: str | None, *, first: bool = False) -> int:
    """Show everyone already alerted (family, landlord group) what the senior just wrote: the
    call for help itself when ``first``, else their next words. Never closes anything."""
    from core.escalation.notices import alerted, recipient

    home = session.get(Home, incident.home_id)
    assert home is not None
    n = len(session.scalars(select(OutboxMessage.id).where(OutboxMessage.incident_id == incident.id)).all())
    told = 0
    shown = (StepKind.ALERT_FAMILY, StepKind.ALERT_LANDLORD_GROUP)
    for attempt, row in alerted(session, incident, only=shown):
        lang, name = recipient(session, incident, home, attempt)
        said = words or t("endings.a_sticker", lang)
        text = ("\n".join([t("endings.help_title", lang, name=name), t("endings.help_words", lang, words=said),
                           t("endings.help_now", lang)]) if first
                else t("endings.resident_wrote", lang, name=name, words=said))
        outbox.enqueue(session, channel=row.channel, recipient=row.recipient,
                       payload=messages.text_payload(row.channel.value, text,
                                                     t("endings.help_title", lang, name=name)),
                       key=f"inc:{incident.id}:words:{n}:{attempt.id}", home_id=home.id, incident_id=incident.id)
        told += 1
    return told


def _help_without_incident(session: Session, home: Home, words: str) -> None:
    """No check-in open: every family member hears the senior's words at once, on their first route."""
    now = clock.now()
    stamp = f"{now:%Y%m%d%H%M%S%f}"
    links = session.scalars(select(HomeWatcher).join(Watcher).where(
        HomeWatcher.home_id == home.id, HomeWatcher.role == WatcherRole.FAMILY, Watcher.deleted_at.is_(None),
    ).order_by(HomeWatcher.escalation_order, HomeWatcher.id)).all()
    for link in links:
        lang = normalize_language(link.watcher.language)
        name = messages.resident_name(home, lang, link.relation_label)
        title = t("endings.help_title", lang, name=name)
        text = "\n".join([title, t("endings.help_words", lang, words=words), t("endings.help_now", lang)])
        for channel, target in routes(link.watcher, link, now)[:1]:
            payload = messages.text_payload(channel.value, text, title)
            if channel is Channel.LINE and home.resident and home.resident.phone:
                payload = messages.help_card(title, text, home.resident.phone, lang)
            outbox.enqueue(session, channel=channel, recipient=target, payload=payload,
                           key=f"help:{home.id}:{stamp}:{link.watcher_id}", home_id=home.id)
