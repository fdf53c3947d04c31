"""An incident's story in order: when things went quiet, who was contacted, who answered, who took it.

Built from the incident itself, its EscalationAttempt rows and the AuditLog rows about
it. Lines name people the way the family sees them (a watcher's name, "ご本人", the
building's group) and never show a phone number or a LINE id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import AttemptState, Channel
from core.models import AuditLog, EscalationAttempt, Incident, Watcher
from core.texts import t


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # aware UTC
    local: datetime  # in the home's timezone
    text: str
    tone: str  # "quiet", "contact", "answered", "missed", "ack", "closed", "info"


def _attempt_who(session: Session, attempt: EscalationAttempt, lang: str) -> str:
    if attempt.watcher_id is not None:
        watcher = session.get(Watcher, attempt.watcher_id)
        if watcher is not None and watcher.display_name and watcher.deleted_at is None:
            return watcher.display_name
        return t("reports.who.someone", lang)
    if "group" in attempt.step_kind or "landlord" in attempt.step_kind:
        return t("reports.who.group", lang)
    return t("reports.who.resident", lang)


_ATTEMPT_TONE = {
    AttemptState.SUCCEEDED: "answered",
    AttemptState.NO_ANSWER: "missed",
    AttemptState.FAILED: "missed",
    AttemptState.CANCELLED: "info",
}


def _audit_text(row: AuditLog, incident: Incident, lang: str) -> tuple[str, str]:
    if row.action == "incident_opened":
        return t("reports.timeline.opened", lang), "info"
    if row.action == "incident_acknowledged":
        who = incident.acknowledged_by or t("reports.who.someone", lang)
        return t("reports.timeline.acknowledged", lang, who=who), "ack"
    if row.action == "incident_closed":
        reason = str(row.detail.get("reason") or (incident.close_reason or ""))
        label = t(f"reports.close.{reason}", lang) if reason else ""
        return t("reports.timeline.closed", lang, reason=label), "closed"
    return t("reports.timeline.other", lang, action=row.action), "info"


def build_timeline(session: Session, incident: Incident, tz: ZoneInfo, lang: str) -> list[TimelineEntry]:
    """Every step of the incident, oldest first, with local times."""
    quiet = t("reports.timeline.quiet_since", lang)
    entries: list[tuple[datetime, str, str]] = [(incident.window_start, quiet, "quiet")]
    attempts = session.scalars(
        select(EscalationAttempt).where(EscalationAttempt.incident_id == incident.id).order_by(EscalationAttempt.id)
    )
    for attempt in attempts:
        at = attempt.started_at or attempt.due_at
        channel = t(f"reports.channel.{Channel(attempt.channel).value}", lang)
        result = t(f"reports.attempt.{AttemptState(attempt.state).value}", lang)
        text = t("reports.timeline.attempt", lang, who=_attempt_who(session, attempt, lang), channel=channel,
                 n=attempt.attempt_no, result=result)
        entries.append((at, text, _ATTEMPT_TONE.get(AttemptState(attempt.state), "contact")))
    audits = session.scalars(select(AuditLog).where(AuditLog.incident_id == incident.id).order_by(AuditLog.id))
    for row in audits:
        text, tone = _audit_text(row, incident, lang)
        entries.append((row.at, text, tone))
    entries.sort(key=lambda e: e[0])
    return [TimelineEntry(at, at.astimezone(tz), text, tone) for at, text, tone in entries]
