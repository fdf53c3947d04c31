"""The demo home: a senior living alone, her family on LINE, her landlord's LINE group.

Used twice: ``mimamori demo`` plays a morning where she does not get up, through the real
jobs (meter cycle, escalation tick, outbox dispatch) on a ManualClock; and ``mimamori
serve`` in dev seeds the same home on an empty database so /dev/chat has something to
show. Nothing here prints: the story is *read back* from what the service recorded
(incident, attempt and outbox rows), so it can only tell what the code really did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.detection.evidence import describe
from core.enums import Channel, ContactMethod, HomeStatus, OutboxState, WatcherRole
from core.meters import simulator
from core.meters.ingest import ingest
from core.meters.pull import available_until
from core.models import Building, EscalationAttempt, Home, HomeWatcher, Incident, OutboxMessage, Resident, Watcher
from core.readiness import refresh_home_statuses
from core.texts import t

DEMO_METER_ID = "demo-0000000001"
# LINE ids have the documented shapes (U/C + 32 hex), so the emulator and /dev/chat accept them.
DEMO_WATCHER_LINE_ID = "U" + "de" * 16
DEMO_SENIOR_LINE_ID = "U" + "5e" * 16
DEMO_GROUP_ID = "C" + "de" * 16
DEMO_RESIDENT_PHONE = "+819000000001"
DEMO_WATCHER_PHONE = "+819000000002"
HISTORY_DAYS = 57  # eight weeks, plus the day the learning window starts in
ACTOR = "demo"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Cast:
    """Ids of the demo's people and places (sessions come and go; ids stay)."""

    home_id: int
    watcher_id: int
    building_id: int


def create_home(session: Session, now: datetime, *, lang: str = "ja", watcher_line_id: str = DEMO_WATCHER_LINE_ID,
                group_id: str = DEMO_GROUP_ID, senior_line_id: str | None = None,
                channels: tuple[Channel, ...] = (Channel.LINE, Channel.SMS)) -> Cast:
    """The home with consent recorded, one family watcher on LINE (+SMS) and a landlord group."""
    building = Building(name=t("demo.building_name", lang), line_group_id=group_id, group_linked_at=now)
    session.add(building)
    session.flush()
    home = Home(meter_id=DEMO_METER_ID, timezone="Asia/Tokyo", status=HomeStatus.AWAITING_HISTORY,
                building_id=building.id, unit_label="101")
    session.add(home)
    session.flush()
    watcher = Watcher(line_user_id=watcher_line_id, phone=DEMO_WATCHER_PHONE, language=lang,
                      display_name=t("demo.watcher_name", lang), following=True)
    session.add(watcher)
    session.flush()
    session.add(Resident(home_id=home.id, display_name=t("demo.resident_name", lang), phone=DEMO_RESIDENT_PHONE,
                         line_user_id=senior_line_id, preferred_contact=ContactMethod.VOICE, language=lang,
                         consent_given_at=now, consent_method="written", consent_recorded_by=watcher.id))
    session.add(HomeWatcher(home_id=home.id, watcher_id=watcher.id, role=WatcherRole.FAMILY, is_owner=True,
                            escalation_order=1, relation_label=t("demo.relation", lang),
                            channels=[c.value for c in channels]))
    session.flush()
    audit.record(session, ACTOR, "demo.home_created", home_id=home.id)
    return Cast(home.id, watcher.id, building.id)


def load_history(session: Session, cast: Cast, now: datetime, *, days: int = HISTORY_DAYS,
                 progress: Progress | None = None) -> int:
    """Simulate and ingest ``days`` of readings a week at a time (the real ingest), then let
    readiness and the baseline learner see them; returns readings stored."""
    home = session.get(Home, cast.home_id)
    assert home is not None
    end = available_until(now)
    start = end - timedelta(days=days)
    chunks = max(1, (days + 6) // 7)
    stored = 0
    for k in range(chunks):
        a = start + timedelta(days=7 * k)
        b = min(end, a + timedelta(days=7))
        result = ingest(session, simulator.readings(home.meter_id, a, b), now=now)
        stored += result.inserted + result.revised
        if progress:
            progress(k + 1, chunks + 1)
    session.flush()
    refresh_home_statuses(session, now)
    learn_baselines(session, now)
    if progress:
        progress(chunks + 1, chunks + 1)
    return stored


def learn_baselines(session: Session, now: datetime) -> int:
    """Detection's own baseline learner (imported here: numpy and the detectors load only when used)."""
    from core.detection.live import refresh_baselines

    return int(refresh_baselines(session, now, force=True))


def seed_dev_home(session: Session, now: datetime, *, watcher_line_id: str = DEMO_WATCHER_LINE_ID,
                  group_id: str = DEMO_GROUP_ID, senior_line_id: str | None = DEMO_SENIOR_LINE_ID) -> Cast | None:
    """On an empty dev database: the demo home with 8 weeks of history, ACTIVE, and
    the last week's digest (the default report) queued for its watcher (the dispatcher sends it).
    Returns None (and changes nothing) when the database already has homes."""
    if session.scalar(select(func.count(Home.id))):
        return None
    cast = create_home(session, now, watcher_line_id=watcher_line_id, group_id=group_id,
                       senior_line_id=senior_line_id, channels=(Channel.LINE,))
    home = session.get(Home, cast.home_id)
    assert home is not None
    home.address = "東京都杉並区阿佐谷南1-1-1"  # a forecast area: `make run` pulls the saved weather for it
    load_history(session, cast, now)
    from core.reports.weekly import DIGEST_WEEKDAY, send_weekly

    today = now.astimezone(home.tz).date()
    digest_day = today - timedelta(days=(today.weekday() - DIGEST_WEEKDAY) % 7)
    send_weekly(session, home, digest_day - timedelta(days=7), digest_day)
    audit.record(session, ACTOR, "demo.dev_home_seeded", home_id=home.id)
    return cast


# ---- the story, read back from the database ----------------------------------------
@dataclass
class StoryEvent:
    """One line of the story; ``key`` makes each event print once as the clock moves."""

    at: datetime
    kind: str
    channel: str | None
    to: str | None
    incident: int
    detail: dict[str, Any] = field(default_factory=dict)
    key: str = ""

    def as_json(self, tz: str = "Asia/Tokyo") -> dict[str, Any]:
        """The fixed ``mimamori demo --json`` shape (extra keys after the five fixed ones)."""
        at = self.at.astimezone(ZoneInfo(tz)).isoformat()
        return {"at": at, "kind": self.kind, "channel": self.channel, "to": self.to, "incident": self.incident,
                **self.detail}


def _evidence_words(incident: Incident, home: Home, lang: str) -> str:
    """The detector's own sentence, as the family's alert carries it (same schema, same words)."""
    return describe(incident.kind, incident.evidence or {}, lang, tz=home.tz)


def _graph_url(payload: dict[str, Any]) -> str | None:
    """The graph link a LINE alert carries (a uri action ending in .png)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            uri = node.get("uri") or node.get("originalContentUrl")
            if isinstance(uri, str) and "/graphs/" in uri:
                found.append(uri)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload)
    return found[0] if found else None


def story(session: Session, incident_id: int, lang: str = "ja") -> list[StoryEvent]:
    """Everything that has happened to the incident so far, in time order."""
    incident = session.get(Incident, incident_id)
    assert incident is not None
    home = session.get(Home, incident.home_id)
    assert home is not None
    events = [StoryEvent(incident.detected_at, "incident_opened", None, None, incident.id,
                         {"incident_kind": incident.kind.value, "evidence": _evidence_words(incident, home, lang),
                          "confidence": round(incident.confidence, 3) if incident.confidence is not None else None},
                         "opened")]
    rows = session.execute(
        select(EscalationAttempt, OutboxMessage)
        .join(OutboxMessage, OutboxMessage.attempt_id == EscalationAttempt.id)
        .where(EscalationAttempt.incident_id == incident.id, OutboxMessage.state == OutboxState.SENT)
        .order_by(OutboxMessage.sent_at, OutboxMessage.id)
    ).all()
    for attempt, row in rows:
        kind = {"contact_resident": "resident_contact", "alert_family": "watcher_alerted",
                "alert_landlord_group": "group_alerted"}.get(attempt.step_kind, attempt.step_kind)
        detail: dict[str, Any] = {"step": attempt.step_kind, "attempt": attempt.attempt_no,
                                  "outcome": attempt.state.value}
        if attempt.step_kind == "contact_resident":
            to = t("demo.to_resident", lang, name=home.resident.display_name if home.resident else "")
            detail["answered_by"] = (attempt.detail or {}).get("answered_by")
        elif attempt.watcher_id is not None:
            watcher = session.get(Watcher, attempt.watcher_id)
            to = t("demo.to_watcher", lang, name=watcher.display_name if watcher else "")
        else:
            building = home.building
            to = t("demo.to_group", lang, name=building.name if building else "")
        if graph := _graph_url(row.payload):
            detail["graph_url"] = graph
        events.append(StoryEvent(row.sent_at or attempt.due_at, kind, row.channel.value, to, incident.id, detail,
                                 f"sent:{row.id}"))
    if incident.acknowledged_at is not None:
        events.append(StoryEvent(incident.acknowledged_at, "acknowledged", incident.ack_source,
                                 incident.acknowledged_by, incident.id, {}, "ack"))
    if incident.closed_at is not None:
        reason = incident.close_reason.value if incident.close_reason else None
        events.append(StoryEvent(incident.closed_at, "incident_closed", None, None, incident.id,
                                 {"reason": reason}, "closed"))
    events.sort(key=lambda e: (e.at, e.key != "opened"))
    return events


def voice_settled(session: Session, incident_id: int) -> bool:
    """True once every call that went out has its outcome (Twilio's callbacks arrived)."""
    rows = session.execute(
        select(EscalationAttempt.state).join(OutboxMessage, OutboxMessage.attempt_id == EscalationAttempt.id)
        .where(EscalationAttempt.incident_id == incident_id, EscalationAttempt.channel == Channel.VOICE,
               OutboxMessage.state == OutboxState.SENT)
    ).scalars().all()
    return all(state.value not in ("pending", "in_progress") for state in rows)


def local_day(home: Home, when: datetime) -> date:
    return when.astimezone(home.tz).date()


# ---- the morning ----------------------------------------------------------------------
class Hands:
    """What people do in the story. The default acts through core.incidents directly;
    ``mimamori demo`` replaces it with taps sent through the bot's real webhook."""

    def acknowledge(self, incident_id: int, watcher_id: int) -> None:
        from core.db import session_scope
        from core.incidents import acknowledge

        with session_scope() as session:
            incident, watcher = session.get(Incident, incident_id), session.get(Watcher, watcher_id)
            assert incident is not None and watcher is not None
            acknowledge(session, incident, watcher.display_name or "", "line", watcher_id=watcher.id)

    def close_safe(self, incident_id: int, watcher_id: int) -> None:
        from core.db import session_scope
        from core.enums import CloseReason
        from core.incidents import close

        with session_scope() as session:
            incident, watcher = session.get(Incident, incident_id), session.get(Watcher, watcher_id)
            assert incident is not None and watcher is not None
            close(session, incident, CloseReason.SAFE, f"line:{watcher.id}", who=watcher.display_name,
                  watcher_id=watcher.id)

    def settle(self, incident_id: int) -> None:
        """Wait for asynchronous outcomes (Twilio's callbacks) before the story is read."""


@dataclass(frozen=True)
class Script:
    """When the family reacts, relative to what the service did (not fixed clock times)."""

    step: timedelta = timedelta(minutes=5)
    ack_after_group_alert: timedelta = timedelta(minutes=10)
    ack_after_family_alert: timedelta = timedelta(minutes=30)  # a policy without a landlord group
    close_after_ack: timedelta = timedelta(minutes=40)
    give_up_after: timedelta = timedelta(hours=14)


def demo_morning(now: datetime, tz: str = "Asia/Tokyo") -> tuple[datetime, datetime]:
    """(where the clock starts, when she stops moving): 03:05 local on ``now``'s next day,
    after a normal evening; the half-hour pull runs at :05 and :35."""
    local = now.astimezone(ZoneInfo(tz))
    night = datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(tz)) + timedelta(days=1)
    return night + timedelta(hours=3, minutes=5), night + timedelta(hours=1)


def _emergency_incident(session: Session, home_id: int) -> int | None:
    from core.enums import EMERGENCY_KINDS

    return session.scalar(select(Incident.id).where(Incident.home_id == home_id,
                                                    Incident.kind.in_(list(EMERGENCY_KINDS)))
                          .order_by(Incident.id).limit(1))


def play_morning(clock: Any, cast: Cast, *, lang: str = "ja", hands: Hands | None = None,
                 on_event: Callable[[StoryEvent], None] = lambda e: None,
                 script: Script = Script()) -> int | None:
    """Move ``clock`` in short steps running the real jobs (meter cycle at :05/:35,
    escalation tick, outbox dispatch) until the incident closes; returns its id (None if
    nothing was detected). Each new story event is handed to ``on_event`` as it happens."""
    from core.db import session_scope
    from core.jobs import WORKER_JOBS, run_cycle, run_job

    hands = hands or Hands()
    seen: set[str] = set()
    incident_id: int | None = None
    group_at = family_at = acked_at = None
    stop = clock.now() + script.give_up_after
    while clock.now() < stop:
        now = clock.now()
        if now.minute % 30 == 5:
            run_cycle(now)
        for spec in WORKER_JOBS:
            run_job(spec, now)
        if incident_id is None:
            with session_scope() as session:
                incident_id = _emergency_incident(session, cast.home_id)
        if incident_id is not None:
            hands.settle(incident_id)
            ack_due = [at for at in (group_at and group_at + script.ack_after_group_alert,
                                   family_at and family_at + script.ack_after_family_alert) if at]
            if acked_at is None and ack_due and now >= min(ack_due):
                hands.acknowledge(incident_id, cast.watcher_id)
                acked_at = now
            elif acked_at is not None and now >= acked_at + script.close_after_ack:
                hands.close_safe(incident_id, cast.watcher_id)
            with session_scope() as session:
                events = story(session, incident_id, lang)
            for event in events:
                if event.key not in seen:
                    seen.add(event.key)
                    on_event(event)
                if event.kind == "group_alerted" and group_at is None:
                    group_at = event.at
                if event.kind == "watcher_alerted" and family_at is None:
                    family_at = event.at
                if event.kind == "acknowledged" and acked_at is None:
                    acked_at = event.at
            if any(e.kind == "incident_closed" for e in events):
                return incident_id
        clock.advance(script.step)
    return incident_id
