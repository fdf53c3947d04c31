"""Stop every pending step and tell everyone already alerted how the incident ended.

Called by core.incidents in the same transaction as the acknowledgement or closing,
so "the others are told" exists exactly when the change does. Someone counts as
alerted when their alert was sent or is being sent (claimed by a dispatcher); alerts
not yet claimed are cancelled and their recipients are not bothered at all. Which
steps' recipients hear the ending, and on which channels, is in the step table
(``StepSpec.ending_channels``): the family, the landlord group and the dispatch partner
on every channel, the senior on LINE.

:func:`ending_text` is the one sentence for "how it ended" — who or what, when, what
happens now — used by these notices and by a tap on an old card's button alike.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.detection.evidence import Evidence
from core.enums import AttemptState, Channel, CloseReason, OutboxState
from core.escalation import messages
from core.escalation.attempts import advance
from core.escalation.kinds import StepKind
from core.models import EscalationAttempt, Home, HomeWatcher, Incident, OutboxMessage, Watcher
from core.texts import normalize_language, t

ENDINGS = {
    CloseReason.USAGE_SEEN: "usage_seen",
    CloseReason.RESIDENT_OK: "resident_ok",
    CloseReason.SAFE: "safe",
    CloseReason.FALSE_ALARM: "false_alarm",
}


def _hears_ending(attempt: EscalationAttempt) -> bool:
    from core.escalation.steps import SPECS

    spec = next((s for k, s in SPECS.items() if k == attempt.step_kind), None)
    return spec is not None and attempt.channel in spec.ending_channels


def alerted(session: Session, incident: Incident, *, only: tuple[StepKind, ...] | None = None,
            alerts_only: bool = False) -> list[tuple[EscalationAttempt, OutboxMessage]]:
    """Attempts whose message went out (or is going out right now) to someone who hears the ending;
    ``alerts_only`` leaves out the senior's own check-in, ``only`` keeps just those step kinds."""
    from core.escalation.steps import SPECS

    kinds = [k for k, spec in SPECS.items() if spec.ending_channels and (spec.alerts or not alerts_only)]
    if only is not None:
        kinds = [k for k in kinds if k in only]
    rows = session.execute(
        select(EscalationAttempt, OutboxMessage)
        .join(OutboxMessage, OutboxMessage.attempt_id == EscalationAttempt.id)
        .where(EscalationAttempt.incident_id == incident.id, EscalationAttempt.step_kind.in_(kinds))
        .order_by(EscalationAttempt.id)
    ).all()
    return [(a, o) for a, o in rows if _hears_ending(a)
            and (o.state is OutboxState.SENT or (o.state is OutboxState.PENDING and o.attempts > 0))]


def stop_pending(session: Session, incident: Incident) -> int:
    """Cancel the incident's unsent messages and open attempts. Returns messages cancelled."""
    cancelled = 0
    for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.incident_id == incident.id, OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.attempt_id.is_not(None))):
        if row.attempts > 0 and row.last_error is None:
            continue  # a dispatcher holds it right now: it is going out, and counts as alerted
        row.state = OutboxState.CANCELLED
        cancelled += 1
    for attempt in incident.attempts:
        if attempt.state in (AttemptState.PENDING, AttemptState.IN_PROGRESS):
            advance(attempt, AttemptState.CANCELLED)
    return cancelled


def event_of(incident: Incident) -> str | None:
    """How the incident stands for the people in it: a close reason's ending, "ack", or None (still open)."""
    if incident.closed_at is not None:
        return ENDINGS.get(incident.close_reason, "other") if incident.close_reason else "other"
    return "ack" if incident.acknowledged_at is not None else None


def ending_text(incident: Incident, home: Home, lang: str, *, name: str, resident: bool = False,
                event: str | None = None, who: str | None = None) -> str | None:
    """One short message: who or what ended it, when, and what happens now (None if it has not ended).
    ``resident`` words it for the senior themself."""
    event = event or event_of(incident)
    if event is None:
        return None
    at = incident.closed_at if event != "ack" else incident.acknowledged_at
    when = messages.local_time(at, home, lang, date=False) or ""
    who = messages.honorific(who or incident.acknowledged_by or "", lang)
    evidence = Evidence.from_json(incident.evidence)
    if evidence.resident_sticker:
        reply = t("endings.reply_sticker", lang)
    elif evidence.resident_reply:
        reply = t("endings.reply_words", lang, words=evidence.resident_reply)
    else:
        reply = ""
    if event == "other":  # ended another way (contract ended, consent withdrawn): say which, for anyone
        reason = t(f"reports.close.{incident.close_reason}", lang) if incident.close_reason else ""
        return t("endings.other", lang, time=when, reason=reason)
    key = f"endings.{'resident.' if resident else ''}{event}"
    return t(key, lang, name=name, who=who, time=when, reply=reply)


def tell_alerted(session: Session, incident: Incident, event: str, *,
                 who: str | None = None, except_watcher_id: int | None = None,
                 except_recipient: str | None = None) -> int:
    """One short message to each recipient already alerted (except the one who acted). Returns count."""
    home = session.get(Home, incident.home_id)
    assert home is not None
    sent: set[tuple[Channel, str]] = set()
    for attempt, row in alerted(session, incident):
        route = (attempt.channel, attempt.target)
        if route in sent or (except_watcher_id is not None and attempt.watcher_id == except_watcher_id) \
                or (except_recipient is not None and row.recipient == except_recipient):
            continue
        to_resident = attempt.step_kind == StepKind.CONTACT_RESIDENT
        if to_resident and event == "resident_ok":
            continue  # the senior is answered in their own chat
        sent.add(route)
        text, subject = _words_for(session, incident, home, attempt, event, who, to_resident)
        partner = {"incident": {"id": incident.id}, "event": _partner_event(event)}
        payload = (messages.text_payload(row.channel.value, text, subject) if row.channel is not Channel.WEBHOOK
                   else {"url": row.recipient, "json": partner})
        outbox.enqueue(session, channel=row.channel, recipient=row.recipient, payload=payload,
                       key=f"inc:{incident.id}:tell:{event}:{attempt.id}", home_id=home.id, incident_id=incident.id)
    return len(sent)


def _words_for(session: Session, incident: Incident, home: Home, attempt: EscalationAttempt, event: str,
               who: str | None, to_resident: bool) -> tuple[str, str]:
    """The ending in the recipient's language, naming the senior as that recipient does."""
    lang, name = recipient(session, incident, home, attempt)
    text = ending_text(incident, home, lang, name=name, resident=to_resident, event=event, who=who) or ""
    return text, t("escalation.notice_subject", lang, name=name)


def recipient(session: Session, incident: Incident, home: Home, attempt: EscalationAttempt) -> tuple[str, str]:
    """(language, how they name the senior) for whoever ``attempt`` reached: the senior, a family
    member (their own word for the senior), the landlord group or the dispatch partner."""
    watcher = session.get(Watcher, attempt.watcher_id) if attempt.watcher_id else None
    to_resident = attempt.step_kind == StepKind.CONTACT_RESIDENT
    if to_resident:
        lang = normalize_language(home.resident.language if home.resident else None)
    elif attempt.step_kind == StepKind.ALERT_LANDLORD_GROUP and home.building is not None:
        lang = normalize_language(home.building.language)
    elif attempt.step_kind == StepKind.ALERT_DISPATCH:
        lang = normalize_language(_dispatch_language(incident))
    else:
        lang = normalize_language(watcher.language if watcher else None)
    link = session.scalar(select(HomeWatcher).where(
        HomeWatcher.home_id == home.id, HomeWatcher.watcher_id == attempt.watcher_id)) if watcher else None
    return lang, messages.resident_name(home, lang, link.relation_label if link else None)


def _dispatch_language(incident: Incident) -> str | None:
    steps = (incident.policy_snapshot or {}).get("steps", [])
    return next((s.get("language") for s in steps if s.get("kind") == StepKind.ALERT_DISPATCH), None)


def _partner_event(event: str) -> str:
    """The dispatch partner's webhook names events as it always has: ``ack`` or ``close_<reason>``."""
    return event if event == "ack" else f"close_{event}"
