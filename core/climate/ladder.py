"""The gentle ladder for heat and cold: the senior first, then the family, once a day at most.

Declared as data: a :class:`Trigger` per kind (``heat_risk``: a hot day in the early
afternoon; ``cold_risk``: a cold evening) and a table of rungs, each a small function of the
open incident returning the next rung. The ladder's incidents carry no escalation policy
and no due time, so the escalation engine never runs them; this module, called each meter
cycle after detection, does:

    (hot day, someone home, no cooling) --open--> NUDGED --cooling seen--> closed
         NUDGED --still none after HEAT_FAMILY_AFTER_MINUTES, not quiet hours--> FAMILY_TOLD
         FAMILY_TOLD --cooling seen--> closed (the family hears it is on)
         any --paused / switched off--> closed quietly;  any --12 h--> closed quietly

Weather missing or late means no trigger: :func:`core.weather.store.day_weather` returns
None and nothing starts. Every message goes through the outbox with a key per home and day,
so a cycle that runs twice sends once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, names, pauses
from core.climate.profiles import days_grid, params, profile_of
from core.detection import climate
from core.enums import CLIMATE_KINDS, Channel, CloseReason, HomeStatus, IncidentKind, IncidentState, WatcherRole
from core.escalation import messages
from core.incidents import close
from core.models import Home, HomeWatcher, Incident, Watcher
from core.outbox import enqueue
from core.settings import Settings, get_settings
from core.texts import normalize_language, t
from core.weather.store import DayWeather, day_weather, office_of

LADDER_HOURS = 12  # a ladder left open this long ends quietly (the day is over)
MIN_SLOTS = 3  # half-hours of today's readings needed before judging
RECENT_SLOTS = 2  # "cooling appeared": the latest half-hours
LAST_CALL_HOURS = 0.5  # after check hour + this, judge with what has arrived (the nudge is due by 14:00)
# Until check hour + this, a newest half-hour that looks like cooling starting waits for the next
# reading: to the end of the window on a fine meter; on a 0.1 kWh register, where one half-hour a
# step up is often a rounding, only to 13:30 so the nudge is still due by 14:00 (heat_eval).
RISING_WAIT_HOURS = 2.0
RISING_WAIT_HOURS_COARSE = 1.0


class Rung(StrEnum):
    NUDGED = "nudged"  # the senior was nudged (or could not be: no LINE, no phone)
    FAMILY_TOLD = "family_told"


@dataclass(frozen=True)
class Trigger:
    kind: IncidentKind
    profile: climate.Kind
    first_slot: int  # where today's window starts (local half-hour)
    check_hour: Callable[[Settings], float]
    check_hours: float  # how long after check_hour a trigger may still start
    extreme: Callable[[DayWeather, Settings], bool]


TRIGGERS: tuple[Trigger, ...] = (
    Trigger(IncidentKind.HEAT_RISK, "cooling", 20, lambda s: s.heat_check_hour, 2.0,
            lambda w, s: (w.t_max is not None and w.t_max >= s.heat_day_max_c) or w.heat_alert),
    Trigger(IncidentKind.COLD_RISK, "heating", 34, lambda s: s.cold_check_hour, 2.5,
            lambda w, s: w.t_min is not None and w.t_min <= s.cold_night_min_c),
)
BY_KIND = {tr.kind: tr for tr in TRIGGERS}


def _local(home: Home, now: datetime) -> datetime:
    return now.astimezone(home.tz)


def _hour(local: datetime) -> float:
    return local.hour + local.minute / 60


def quiet(settings: Settings, local: datetime) -> bool:
    a, b, h = settings.climate_quiet_start_hour, settings.climate_quiet_end_hour, local.hour
    return (h >= a or h < b) if a > b else a <= h < b


def _latest(today: np.ndarray) -> int:
    known = np.flatnonzero(np.isfinite(today))
    return int(known[-1]) + 1 if known.size else 0


def _eligible(session: Session) -> list[Home]:
    return list(session.scalars(select(Home).where(
        Home.status == HomeStatus.ACTIVE, Home.climate_watch_enabled.is_(True), Home.ended_at.is_(None))
        .order_by(Home.id)))


def _had_ladder_today(session: Session, home: Home, day_start: datetime) -> bool:
    return session.scalar(select(Incident.id).where(
        Incident.home_id == home.id, Incident.kind.in_(list(CLIMATE_KINDS)),
        (Incident.detected_at >= day_start) | Incident.closed_at.is_(None)).limit(1)) is not None


# ---- messages ---------------------------------------------------------------------------
def _resident_lang(home: Home) -> str:
    return normalize_language(home.resident.language if home.resident else "ja")


def nudge_resident(session: Session, home: Home, incident: Incident, settings: Settings) -> str | None:
    """LINE if the senior is on LINE, else a short one-way call; returns the channel used."""
    resident = home.resident
    if resident is None or resident.consent_withdrawn_at is not None:
        return None
    lang = _resident_lang(home)
    name = names.honorific(resident.display_name, lang)
    key = f"climate:{home.id}:{incident.evidence['day']}:nudge"
    if resident.line_user_id:
        text = t(f"climate.nudge.{incident.kind.value}", lang, name=name)
        enqueue(session, channel=Channel.LINE, recipient=resident.line_user_id, key=key, home_id=home.id,
                incident_id=incident.id, payload={"messages": [{"type": "text", "text": text}]})
        return Channel.LINE.value
    if resident.phone:
        from twilio.twiml.voice_response import VoiceResponse

        vr = VoiceResponse()
        say = t(f"climate.voice.{incident.kind.value}", lang, name=name)
        for _ in range(2):
            vr.say(say, language=messages.LANG_TWILIO.get(lang, "ja-JP"))
            vr.pause(length=1)
        enqueue(session, channel=Channel.VOICE, recipient=resident.phone, key=key, home_id=home.id,
                incident_id=incident.id, payload={"twiml": str(vr), "ring_seconds": 30})
        return Channel.VOICE.value
    return None


def family_routes(session: Session, home: Home) -> list[tuple[HomeWatcher, Watcher, Channel, str]]:
    """Family watchers who keep heat/cold messages on, with the channel each is reached on."""
    out = []
    rows = session.execute(select(HomeWatcher, Watcher).join(Watcher, Watcher.id == HomeWatcher.watcher_id).where(
        HomeWatcher.home_id == home.id, HomeWatcher.notify_climate.is_(True),
        HomeWatcher.role == WatcherRole.FAMILY, Watcher.deleted_at.is_(None)).order_by(HomeWatcher.escalation_order))
    for link, watcher in rows:
        if watcher.line_user_id and watcher.following and Channel.LINE.value in (link.channels or []):
            out.append((link, watcher, Channel.LINE, watcher.line_user_id))
        elif watcher.email:
            out.append((link, watcher, Channel.EMAIL, watcher.email))
    return out


def tell_family(session: Session, home: Home, incident: Incident, text_key: str, event: str, **params: Any) -> int:
    """One message to each family watcher who keeps these on; returns how many."""
    subject_key = f"climate.family_subject.{incident.kind.value}"
    sent = 0
    for link, watcher, channel, recipient in family_routes(session, home):
        lang = normalize_language(watcher.language)
        name = names.resident_name(home, lang, link.relation_label)
        text = t(text_key, lang, name=name, **{k: v(lang) if callable(v) else v for k, v in params.items()})
        enqueue(session, channel=channel, recipient=recipient, home_id=home.id, incident_id=incident.id,
                key=f"climate:{home.id}:{incident.evidence.get('day', '-')}:{event}:{watcher.id}",
                payload=messages.text_payload(channel.value, text, t(subject_key, lang, name=name)))
        sent += 1
    return sent


def _degrees(value: float | None) -> Callable[[str], str]:
    return lambda lang: t("climate.degrees", lang, value=value) if value is not None else "—"


def _clock(home: Home, iso: str | None) -> Callable[[str], str]:
    def fmt(lang: str) -> str:
        return _local(home, datetime.fromisoformat(iso)).strftime("%H:%M") if iso else "—"
    return fmt


# ---- opening ----------------------------------------------------------------------------
def open_ladder(session: Session, home: Home, trigger: Trigger, weather: DayWeather, verdict: climate.Verdict,
                now: datetime, settings: Settings) -> Incident:
    """Open today's ladder and nudge the senior, in the caller's transaction."""
    day = _local(home, now).date()
    incident = Incident(
        home_id=home.id, kind=trigger.kind, state=IncidentState.OPEN, window_start=now, detected_at=now,
        next_due_at=None, policy_snapshot=None,
        evidence={"day": day.isoformat(), "t_max": weather.t_max, "t_min": weather.t_min,
                  "wbgt_max": weather.wbgt_max, "heat_alert": weather.heat_alert, "rung": Rung.NUDGED.value,
                  "window_from": f"{trigger.first_slot // 2:02d}:{30 * (trigger.first_slot % 2):02d}",
                  "excess_kwh": round(verdict.excess, 3), "expected_kwh": round(verdict.expected, 3),
                  "family_due_at": (now + timedelta(minutes=settings.heat_family_after_minutes)).isoformat()},
    )
    session.add(incident)
    session.flush()
    channel = nudge_resident(session, home, incident, settings)
    incident.evidence = {**incident.evidence, "nudged_at": now.isoformat() if channel else None,
                         "nudge_channel": channel}
    incident.state = IncidentState.ESCALATING
    audit.record(session, "climate", "incident_opened", home_id=home.id, incident_id=incident.id,
                 kind=trigger.kind.value)
    return incident


def never_seen_notice(session: Session, home: Home, trigger: Trigger) -> int:
    """Once ever per home and kind: we have never seen this home cool (heat) — kindly, with advice."""
    sent = 0
    for link, watcher, channel, recipient in family_routes(session, home):
        lang = normalize_language(watcher.language)
        name = names.resident_name(home, lang, link.relation_label)
        text = t(f"climate.never_seen.{trigger.kind.value}", lang, name=name)
        row = enqueue(session, channel=channel, recipient=recipient, home_id=home.id,
                      key=f"climate:{home.id}:never_seen:{trigger.kind.value}:{watcher.id}",
                      payload=messages.text_payload(channel.value, text,
                                                    t(f"climate.family_subject.{trigger.kind.value}", lang,
                                                      name=name)))
        sent += int(row.attempts == 0 and row.sent_at is None)
    return sent


# ---- the rungs ----------------------------------------------------------------------------
def _appeared(today: np.ndarray, trigger: Trigger, profile: climate.ClimateProfile | None) -> bool:
    last = _latest(today)
    first = max(trigger.first_slot, last - RECENT_SLOTS)
    return last > first and climate.check(profile, today, first, last, params()).on


def advance(session: Session, incident: Incident, today: np.ndarray, now: datetime, settings: Settings) -> str:
    """One step of an open ladder; returns what happened (for counts and the demo)."""
    home = session.get(Home, incident.home_id)
    assert home is not None
    trigger = BY_KIND[incident.kind]
    ev = incident.evidence
    if not home.climate_watch_enabled or pauses.active(session, home.id, now) or home.status != HomeStatus.ACTIVE:
        close(session, incident, CloseReason.PAUSED, "climate")
        return "paused"
    if _appeared(today, trigger, profile_of(session, home.id, trigger.profile)):
        if ev.get("rung") == Rung.FAMILY_TOLD.value:
            tell_family(session, home, incident, f"climate.seen_notice.{incident.kind.value}", "seen")
        incident.evidence = {**ev, "seen_at": now.isoformat()}
        close(session, incident, CloseReason.COOLING_SEEN, "climate")
        return "seen"
    if now >= incident.detected_at + timedelta(hours=LADDER_HOURS):
        close(session, incident, CloseReason.EXHAUSTED, "climate")
        return "ended"
    due = datetime.fromisoformat(ev["family_due_at"])
    if ev.get("rung") == Rung.NUDGED.value and now >= due and not quiet(settings, _local(home, now)):
        told = tell_family(session, home, incident, f"climate.family.{incident.kind.value}", "family",
                           t_max=_degrees(ev.get("t_max")), t_min=_degrees(ev.get("t_min")),
                           since=lambda lang: ev.get("window_from", "—"),
                           nudged_at=_clock(home, ev.get("nudged_at") or incident.detected_at.isoformat()))
        incident.evidence = {**ev, "rung": Rung.FAMILY_TOLD.value, "family_at": now.isoformat(), "family_told": told}
        audit.record(session, "climate", "family_told", home_id=home.id, incident_id=incident.id, count=told)
        return "family"
    return "waiting"


# ---- the cycle step ---------------------------------------------------------------------------
def run_climate(session: Session, now: datetime) -> dict[str, int]:
    """Each meter cycle: advance open ladders, then start today's where the weather calls for it."""
    settings = get_settings()
    counts = {"nudged": 0, "family": 0, "seen": 0, "notices": 0}
    open_rows = list(session.scalars(select(Incident).where(
        Incident.kind.in_(list(CLIMATE_KINDS)), Incident.closed_at.is_(None)).order_by(Incident.id)))
    for incident in open_rows:
        home = session.get(Home, incident.home_id)
        assert home is not None
        day = date.fromisoformat(incident.evidence["day"])
        outcome = advance(session, incident, days_grid(session, [home.id], day, day)[0, 0], now, settings)
        counts[outcome] = counts.get(outcome, 0) + 1
    candidates: list[tuple[Home, Trigger, DayWeather]] = []
    for home in _eligible(session):
        local = _local(home, now)
        weather = day_weather(session, office_of(home), local.date(), now, settings)
        if weather is None:
            continue  # no forecast, or a late one: never a heat message
        for trigger in TRIGGERS:
            start = trigger.check_hour(settings)
            if trigger.extreme(weather, settings) and start <= _hour(local) < start + trigger.check_hours:
                candidates.append((home, trigger, weather))
    if not candidates:
        return counts
    homes = list(dict.fromkeys(h.id for h, _, _ in candidates))
    today = _local(candidates[0][0], now).date()
    grid = days_grid(session, homes, today, today)[:, 0]
    row_of = {hid: i for i, hid in enumerate(homes)}
    for home, trigger, weather in candidates:
        local = _local(home, now)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if _had_ladder_today(session, home, day_start) or pauses.active(session, home.id, now):
            continue
        profile = profile_of(session, home.id, trigger.profile)
        decision, verdict = judge(trigger, profile, grid[row_of[home.id]], weather, _hour(local), settings)
        if decision == "never_seen":
            counts["notices"] += never_seen_notice(session, home, trigger)
        elif decision == "nudge" and verdict is not None:
            open_ladder(session, home, trigger, weather, verdict, now, settings)
            counts["nudged"] += 1
    return counts


def judge(trigger: Trigger, profile: climate.ClimateProfile | None, readings: np.ndarray,
          weather: DayWeather | None, hour: float, settings: Settings) -> tuple[str | None, climate.Verdict | None]:
    """The pure decision for one home now: ``nudge``, ``never_seen`` (tell once) or None.

    Shared by :func:`run_climate` and benchmarks/heat_eval.py, so what is measured is what runs.
    """
    start = trigger.check_hour(settings)
    if weather is None or not trigger.extreme(weather, settings) or not start <= hour < start + trigger.check_hours:
        return None, None
    if profile is not None and profile.seen is False:
        return "never_seen", None
    if trigger.kind is IncidentKind.COLD_RISK and (profile is None or not profile.seen):
        return None, None  # cold: only homes that usually heat with electricity
    last = _latest(readings)
    if last - trigger.first_slot < MIN_SLOTS:
        return None, None
    # When this home usually starts is unknown (too few hot days yet): as if late.
    usual = profile.usual_start(climate.COOL_WINDOW if trigger.profile == "cooling" else climate.HEAT_WINDOW) \
        if profile is not None and profile.seen else climate.SLOTS
    if last < usual + MIN_SLOTS and hour < start + LAST_CALL_HOURS:
        return None, None  # this home usually starts later: wait for its readings, not past the last call
    verdict = climate.check(profile, readings, trigger.first_slot, last, params())
    coarse = profile is not None and profile.step >= 0.05
    if verdict.rising and hour < start + (RISING_WAIT_HOURS_COARSE if coarse else RISING_WAIT_HOURS):
        return None, verdict  # it may just have been switched on: one more half-hour tells
    return ("nudge" if verdict.home and not verdict.on else None), verdict
