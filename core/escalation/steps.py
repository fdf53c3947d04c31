"""The step kinds, as one table ``SPECS = {StepKind: StepSpec}`` (function, parameters, order).

Each function is given the locked incident and its current step, writes what the step
causes (attempt rows, outbox messages) in the caller's transaction, and returns a small
result: :class:`Wait` (run this step again at ``until``), :class:`Advance` (go on to the
next step now) or :class:`Finish` (close the incident). A step's progress is read back
from its attempt rows, so running it again after a crash continues, never repeats.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, outbox
from core.enums import AttemptState, Channel, CloseReason, IncidentKind, WatcherRole
from core.escalation import checkin, messages
from core.escalation.attempts import advance, attempts_of_step, new_attempt, routes
from core.escalation.kinds import ALL_CHANNELS, Param, StepKind, StepSpec, check_complete
from core.models import CheckinToken, EscalationAttempt, Home, HomeWatcher, Incident, Watcher
from core.settings import Settings
from core.texts import normalize_language, t


@dataclass(frozen=True)
class Wait:
    until: datetime


@dataclass(frozen=True)
class Advance:
    pass


@dataclass(frozen=True)
class Finish:
    reason: CloseReason


StepResult = Wait | Advance | Finish


@dataclass
class StepContext:
    session: Session
    incident: Incident
    home: Home
    step: dict[str, Any]
    index: int
    now: datetime
    settings: Settings
    known_attempts: list[EscalationAttempt] | None = None  # prefetched for a batch by the engine

    @property
    def lang(self) -> str:
        return normalize_language((self.incident.policy_snapshot or {}).get("language"))

    def attempts(self) -> list[EscalationAttempt]:
        if self.known_attempts is None:
            self.known_attempts = attempts_of_step(self.session, self.incident.id, self.index)
        return list(self.known_attempts)

    def send(self, channel: Channel, target: str, payload_for: Callable[[EscalationAttempt], dict[str, Any]],
             attempt_no: int = 1, watcher_id: int | None = None) -> EscalationAttempt:
        """One attempt row and its outbox message, keyed by the attempt (so exactly one)."""
        attempt = new_attempt(self.session, self.incident.id, self.index, self.step["kind"], attempt_no,
                              channel, target, self.now, watcher_id)
        outbox.enqueue(self.session, channel=channel, recipient=target, payload=payload_for(attempt),
                       key=f"inc:{self.incident.id}:attempt:{attempt.id}", home_id=self.home.id,
                       incident_id=self.incident.id, attempt_id=attempt.id, fresh_key=True)
        if self.known_attempts is not None:
            self.known_attempts.append(attempt)
        return attempt


def _give_up_open_attempts(ctx: StepContext) -> None:
    for attempt in ctx.attempts():
        advance(attempt, AttemptState.NO_ANSWER)


def contact_resident(ctx: StepContext) -> StepResult:
    """Ask the resident "are you OK?" by voice (N calls), SMS link or LINE check-in."""
    method, resident = ctx.step.get("method"), ctx.home.resident
    if not method or resident is None:
        audit.record(ctx.session, "escalation", "resident_not_contacted", home_id=ctx.home.id,
                     incident_id=ctx.incident.id)
        return Advance()
    done = ctx.attempts()
    name = messages.honorific(resident.display_name, ctx.lang)
    if method == "voice":
        if len(done) < ctx.step["attempts"]:
            ctx.send(Channel.VOICE, resident.phone or "",
                     lambda a: messages.voice_payload(ctx.settings, a.id, name, ctx.lang), attempt_no=len(done) + 1)
            return Wait(ctx.now + timedelta(minutes=ctx.step["interval_minutes"]))
    elif not done:
        minutes = ctx.step["confirm_within_minutes"]
        if method == "sms":
            nonce = secrets.token_hex(16)

            def sms_payload(a: EscalationAttempt) -> dict[str, Any]:
                token = checkin.derive_token(nonce, ctx.settings)
                ctx.session.add(CheckinToken(token_hash=checkin.token_hash(token), incident_id=ctx.incident.id,
                                             attempt_id=a.id, expires_at=ctx.now + timedelta(minutes=minutes)))
                return messages.sms_checkin_payload(ctx.settings, a.id, name, ctx.lang, minutes, nonce)

            ctx.send(Channel.SMS, resident.phone or "", sms_payload)
        else:
            ctx.send(Channel.LINE, resident.line_user_id or "", lambda a: messages.line_checkin_payload(name, ctx.lang))
        return Wait(ctx.now + timedelta(minutes=minutes))
    _give_up_open_attempts(ctx)
    return Advance()


def _family_links(ctx: StepContext) -> list[HomeWatcher]:
    return list(ctx.session.scalars(
        select(HomeWatcher).join(Watcher)
        .where(HomeWatcher.home_id == ctx.home.id, HomeWatcher.role == WatcherRole.FAMILY,
               Watcher.deleted_at.is_(None))
        .order_by(HomeWatcher.escalation_order, HomeWatcher.id)
    ))


def alert_family(ctx: StepContext) -> StepResult:
    """Alert the family one by one in their order, waiting between them for an acknowledgement;
    after the senior's call for help, everyone not yet alerted at once."""
    links = _family_links(ctx)
    alerted_ids = list(dict.fromkeys(a.watcher_id for a in ctx.attempts()))
    remaining = [link for link in links if link.watcher_id not in alerted_ids]
    if not remaining:
        return Advance()
    urgent = bool(ctx.incident.evidence.get("urgent"))
    told = [w.display_name or "" for w in (ctx.session.get(Watcher, i) for i in alerted_ids) if w]
    batch = remaining if urgent else remaining[:1]
    if urgent:
        told += [link.watcher.display_name or "" for link in batch]
    for link in batch:
        _alert_one(ctx, link, [n for n in told if n != link.watcher.display_name])
    return Wait(ctx.now + timedelta(minutes=ctx.step["wait_minutes"]))


def _alert_one(ctx: StepContext, link: HomeWatcher, told: list[str]) -> None:
    """One family member's alert on each of their routes (LINE card with an email fallback, email, SMS)."""
    watcher = link.watcher
    lang = normalize_language(watcher.language)
    name = messages.resident_name(ctx.home, lang, link.relation_label)
    ways = routes(watcher, link, ctx.now) or []
    for channel, target in ways:
        if channel is Channel.LINE:
            payload = messages.family_alert_line(ctx.incident, ctx.home, lang, name, told, ctx.settings, watcher.id)
            email = messages.family_alert_email(ctx.incident, ctx.home, lang, name, told, watcher.id, ctx.settings)
            payload["fallback"] = {"subject": email["subject"], "text": email["text"]}
        elif channel is Channel.EMAIL:
            payload = messages.family_alert_email(ctx.incident, ctx.home, lang, name, told, watcher.id, ctx.settings)
        else:
            payload = {"body": messages.family_alert_sms(ctx.incident, ctx.home, lang, name)}
        ctx.send(channel, target, lambda _a, p=payload: p, watcher_id=watcher.id)
    if not ways:
        new_attempt(ctx.session, ctx.incident.id, ctx.index, StepKind.ALERT_FAMILY, 1, Channel.LINE, "-", ctx.now,
                    watcher.id).state = AttemptState.FAILED
        audit.record(ctx.session, "escalation", "watcher_unreachable", home_id=ctx.home.id,
                     incident_id=ctx.incident.id, watcher_id=watcher.id)


def alert_landlord_group(ctx: StepContext) -> StepResult:
    building = ctx.home.building
    if ctx.attempts() or building is None or not building.line_group_id:
        return Advance()
    lang = normalize_language(building.language)
    ctx.send(Channel.LINE, building.line_group_id,
             lambda _a: messages.landlord_alert_line(ctx.incident, ctx.home, lang, ctx.settings))
    return Wait(ctx.now + timedelta(minutes=ctx.step["wait_minutes"]))


def alert_dispatch(ctx: StepContext) -> StepResult:
    targets = messages.dispatch_payloads(ctx.incident, ctx.home, normalize_language(ctx.step.get("language")),
                                         ctx.step)
    if ctx.attempts() or not targets:
        return Advance()
    for channel, recipient, payload in targets:
        ctx.send(Channel(channel), recipient, lambda _a, p=payload: p)
    return Wait(ctx.now + timedelta(minutes=ctx.step["wait_minutes"]))


NOTICE_FLAGS: dict[IncidentKind, str | None] = {
    IncidentKind.OVER_USAGE: "notify_over_usage",
    IncidentKind.USAGE_RESUMED: "notify_usage",
    IncidentKind.NIGHT_ACTIVITY: "notify_usage",
    IncidentKind.DATA_GAP: None,  # everyone: watching is degraded
}


def notify_watchers(ctx: StepContext) -> StepResult:
    """A notice (not an emergency): one message to each watcher who opted in, then close."""
    flag = NOTICE_FLAGS.get(ctx.incident.kind)
    links = ctx.session.scalars(select(HomeWatcher).where(HomeWatcher.home_id == ctx.home.id)).all()
    for link in links:
        watcher = link.watcher
        if watcher.deleted_at is not None or (flag and not getattr(link, flag)):
            continue
        lang = normalize_language(watcher.language)
        name = messages.resident_name(ctx.home, lang, link.relation_label)
        text = t(f"escalation.notice.{ctx.incident.kind.value}", lang, name=name)
        subject = t("escalation.notice_subject", lang, name=name)
        for channel, target in routes(watcher, link, ctx.now)[:1]:
            payload = messages.text_payload(channel.value, text, subject)
            ctx.send(channel, target, lambda _a, p=payload: p, watcher_id=watcher.id)
    return Finish(CloseReason.NOTICE)


SPECS: dict[StepKind, StepSpec] = {spec.kind: spec for spec in (
    StepSpec(StepKind.CONTACT_RESIDENT, contact_resident, {
        "attempts": Param(int, 3, 1, 10),
        "interval_minutes": Param(int, 10, 1, 120),
        "confirm_within_minutes": Param(int, 30, 5, 240),
    }, emergency_rank=0, ending_channels=frozenset({Channel.LINE})),
    StepSpec(StepKind.ALERT_FAMILY, alert_family, {"wait_minutes": Param(int, 15, 1, 240)},
             emergency_rank=1, alerts=True, ending_channels=ALL_CHANNELS),
    StepSpec(StepKind.ALERT_LANDLORD_GROUP, alert_landlord_group, {"wait_minutes": Param(int, 30, 1, 480)},
             emergency_rank=2, alerts=True, ending_channels=ALL_CHANNELS),
    StepSpec(StepKind.ALERT_DISPATCH, alert_dispatch, {
        "email": Param(str, None),
        "webhook_url": Param(str, None),
        "language": Param(str, "ja"),
        "wait_minutes": Param(int, 60, 1, 1440),
    }, emergency_rank=3, alerts=True, ending_channels=ALL_CHANNELS),
    StepSpec(StepKind.NOTIFY_WATCHERS, notify_watchers),
)}
check_complete(SPECS)


def result_code(result: StepResult) -> str:
    return {Wait: "wait", Advance: "advance", Finish: "finish"}[type(result)]


