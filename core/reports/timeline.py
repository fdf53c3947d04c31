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
from core.escalation.kinds import StepKind
from core.escalation.messages import honorific
from core.models import AuditLog, EscalationAttempt, Incident, Watcher
from core.texts import t


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # aware UTC
    local: datetime  # in the home's timezone
    text: str
    tone: str  # "quiet", "contact", "answered", "missed", "ack", "closed", "info"


def _attempt_who(session: Session, attempt: EscalationAttempt, lang: str, resident: str) -> str:
    if attempt.watcher_id is not None:
        watcher = session.get(Watcher, attempt.watcher_id)
        if watcher is not None and watcher.display_name and watcher.deleted_at is None:
            return honorific(watcher.display_name, lang)
        return t("reports.who.someone", lang)
    if attempt.step_kind == StepKind.ALERT_LANDLORD_GROUP:
        return t("reports.who.group", lang)
    if attempt.step_kind == StepKind.ALERT_DISPATCH:
        return t("reports.who.partner", lang)
    return resident


def _result(attempt: EscalationAttempt) -> tuple[str, str]:
    """(result key, tone) in words a family reads: an alert that went out "was sent", whatever
    happened after; a call "was answered" or "not answered"; never a bare "cancelled"."""
    state = AttemptState(attempt.state)
    sent = attempt.started_at is not None
    if state is AttemptState.FAILED:
        return "failed", "missed"
    if state is AttemptState.PENDING or (state is AttemptState.CANCELLED and not sent):
        return ("not_needed" if state is AttemptState.CANCELLED else "pending"), "info"
    if attempt.step_kind == StepKind.CONTACT_RESIDENT:
        return {AttemptState.SUCCEEDED: ("answered", "answered"), AttemptState.NO_ANSWER: ("no_answer", "missed"),
                AttemptState.CANCELLED: ("ended_meanwhile", "info")}.get(state, ("waiting", "contact"))
    return "sent", "contact"


_SHOWN = {"incident_opened", "incident_acknowledged", "incident_closed", "resident_called_for_help"}


def _audit_text(row: AuditLog, incident: Incident, lang: str) -> tuple[str, str]:
    if row.action == "incident_opened":
        return t("reports.timeline.opened", lang), "info"
    if row.action == "resident_called_for_help":
        return t("reports.timeline.help", lang), "missed"
    if row.action == "incident_acknowledged":
        who = honorific(incident.acknowledged_by or "", lang) or t("reports.who.someone", lang)
        return t("reports.timeline.acknowledged", lang, who=who), "ack"
    reason = str(row.detail.get("reason") or (incident.close_reason or ""))
    label = t(f"reports.close.{reason}", lang) if reason else ""
    return t("reports.timeline.closed", lang, reason=label), "closed"


def build_timeline(session: Session, incident: Incident, tz: ZoneInfo, lang: str,
                   resident: str | None = None) -> list[TimelineEntry]:
    """Every step of the incident in sentences a family reads, oldest first, with local times
    ("7:40 お母さんにお電話しました（応答なし）"). ``resident`` is how this reader names the senior.
    Internal records (a step run, a fence) are not shown."""
    resident = resident or t("reports.who.resident", lang)
    quiet = t("reports.timeline.quiet_since", lang)
    entries: list[tuple[datetime, str, str]] = [(incident.window_start, quiet, "quiet")]
    attempts = session.scalars(
        select(EscalationAttempt).where(EscalationAttempt.incident_id == incident.id).order_by(EscalationAttempt.id)
    )
    for attempt in attempts:
        at = attempt.started_at or attempt.due_at
        result, tone = _result(attempt)
        text = t(f"reports.timeline.contact.{Channel(attempt.channel).value}", lang,
                 who=_attempt_who(session, attempt, lang, resident), n=attempt.attempt_no,
                 result=t(f"reports.result.{result}", lang))
        entries.append((at, text, tone))
    audits = session.scalars(select(AuditLog).where(AuditLog.incident_id == incident.id,
                                                    AuditLog.action.in_(_SHOWN)).order_by(AuditLog.id))
    for row in audits:
        text, tone = _audit_text(row, incident, lang)
        entries.append((row.at, text, tone))
    entries.sort(key=lambda e: e[0])
    return [TimelineEntry(at, at.astimezone(tz), text, tone) for at, text, tone in entries]
