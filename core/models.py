"""The domain as SQLAlchemy 2.0 typed models. All datetimes are aware UTC (see core.db).

A home is one meter (``meter_id``: the 22-digit 供給地点特定番号 for Japanese homes,
or the source's own id for replayed data). Watchers are linked to homes with a role
and an escalation order. Incidents carry a snapshot of the escalation policy taken
when they open; attempts and outbox rows are the durable steps that follow.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base
from core.enums import (
    AttemptState,
    Channel,
    CloseReason,
    ContactMethod,
    HomeStatus,
    IncidentKind,
    IncidentState,
    OutboxState,
    PauseReason,
    ReadingQuality,
    WatcherRole,
    WebhookState,
)


def _now() -> datetime:
    return clock.now()


def _enum(cls: type) -> Enum:
    """Enums stored as short strings (no native DB type), so migrations stay simple."""
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Building(Base):
    __tablename__ = "building"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(400))
    line_group_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="ja", server_default="ja")  # the group's messages
    group_linked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=_now)

    homes: Mapped[list[Home]] = relationship(back_populates="building")


class Home(Base):
    __tablename__ = "home"

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[str] = mapped_column(String(64), unique=True)
    supply_point_number: Mapped[str | None] = mapped_column(String(22), unique=True)
    customer_number: Mapped[str | None] = mapped_column(String(64))
    contract_holder: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(400))
    plan: Mapped[str | None] = mapped_column(String(100))
    area: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    status: Mapped[HomeStatus] = mapped_column(_enum(HomeStatus), default=HomeStatus.AWAITING_HISTORY)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id", ondelete="SET NULL"))
    unit_label: Mapped[str | None] = mapped_column(String(64))

    wake_grace_minutes: Mapped[int] = mapped_column(Integer, default=90)
    over_usage_percent: Mapped[int] = mapped_column(Integer, default=50)
    night_watch_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    climate_watch_enabled: Mapped[bool] = mapped_column(Boolean, default=True)  # heat/cold nudges (core.climate)
    daily_report_time: Mapped[time] = mapped_column(Time, default=time(8, 0))
    escalation_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    watchability: Mapped[float | None] = mapped_column(Float)
    watchability_checked_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None]
    last_reading_at: Mapped[datetime | None]
    data_gap_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=_now)
    ended_at: Mapped[datetime | None]

    building: Mapped[Building | None] = relationship(back_populates="homes")
    resident: Mapped[Resident | None] = relationship(back_populates="home", uselist=False)
    watcher_links: Mapped[list[HomeWatcher]] = relationship(back_populates="home")
    schedule: Mapped[Schedule | None] = relationship(back_populates="home", uselist=False)

    @property
    def tz(self) -> ZoneInfo:
        """The home's time zone: the one place that falls back to the service's default."""
        from core.settings import get_settings

        return ZoneInfo(self.timezone or get_settings().mimamori_timezone)


class Resident(Base):
    """The senior who lives in the home."""

    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    line_user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    preferred_contact: Mapped[ContactMethod] = mapped_column(_enum(ContactMethod), default=ContactMethod.VOICE)
    language: Mapped[str] = mapped_column(String(8), default="ja")
    consent_given_at: Mapped[datetime | None]
    consent_method: Mapped[str | None] = mapped_column(String(64))
    consent_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("watcher.id", ondelete="SET NULL"))
    consent_withdrawn_at: Mapped[datetime | None]

    home: Mapped[Home] = relationship(back_populates="resident")


class Watcher(Base):
    """Someone who is told: a LINE user, or an email-only contact."""

    __tablename__ = "watcher"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8), default="ja")
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    line_quota_exhausted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=_now)
    deleted_at: Mapped[datetime | None]

    home_links: Mapped[list[HomeWatcher]] = relationship(back_populates="watcher")


class HomeWatcher(Base):
    """The link between a watcher and a home: role, order in escalation, channels."""

    __tablename__ = "home_watcher"
    __table_args__ = (UniqueConstraint("home_id", "watcher_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), index=True)
    watcher_id: Mapped[int] = mapped_column(ForeignKey("watcher.id", ondelete="CASCADE"), index=True)
    role: Mapped[WatcherRole] = mapped_column(_enum(WatcherRole), default=WatcherRole.FAMILY)
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_order: Mapped[int] = mapped_column(Integer, default=1)
    relation_label: Mapped[str | None] = mapped_column(String(50))  # how they call the resident: お父さん
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: [Channel.LINE.value])
    # Pushes cost money (DESIGN "Messages cost money"): the weekly digest and the monthly report
    # by default; the daily report only for those who ask (今日の様子 answers a tap for free).
    notify_daily: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_weekly: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_monthly: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_usage: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_over_usage: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_climate: Mapped[bool] = mapped_column(Boolean, default=True)  # heat_risk / cold_risk messages
    created_at: Mapped[datetime] = mapped_column(default=_now)

    home: Mapped[Home] = relationship(back_populates="watcher_links")
    watcher: Mapped[Watcher] = relationship(back_populates="home_links")


class Invite(Base):
    """A single-use, expiring code to join a home (watchers) or link a building's group."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16), default="watcher")  # watcher | resident | building
    home_id: Mapped[int | None] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id", ondelete="CASCADE"))
    role: Mapped[WatcherRole] = mapped_column(_enum(WatcherRole), default=WatcherRole.FAMILY)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("watcher.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str | None] = mapped_column(String(64))


class MeterReading(Base):
    """One half-hour of energy use. A gap is an absent row, never a zero.

    ``home_id`` has no FOREIGN KEY on purpose: PostgreSQL checks one row at a time, and that
    check was two thirds of a bulk import (1M rows: 19.8 s with it, 6.1 s without).
    Ingestion only writes home ids it resolved in the same transaction; whoever deletes a
    home deletes its readings (``core.meters.ingest.delete_readings``).
    """

    __tablename__ = "meter_reading"

    home_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interval_start: Mapped[datetime] = mapped_column(primary_key=True)
    kwh: Mapped[float] = mapped_column(Float)
    quality: Mapped[ReadingQuality] = mapped_column(_enum(ReadingQuality), default=ReadingQuality.MEASURED)
    received_at: Mapped[datetime] = mapped_column(default=_now)


class Schedule(Base):
    """The wake and sleep times the family set (local wall-clock times)."""

    __tablename__ = "schedule"

    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), primary_key=True)
    wake_time: Mapped[time | None] = mapped_column(Time)
    sleep_time: Mapped[time | None] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(default=_now)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("watcher.id", ondelete="SET NULL"))

    home: Mapped[Home] = relationship(back_populates="schedule")


class Pause(Base):
    """Monitoring off from ``starts_at`` to ``ends_at`` (trip, late night, sleeping in)."""

    __tablename__ = "pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[PauseReason] = mapped_column(_enum(PauseReason))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("watcher.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    cancelled_at: Mapped[datetime | None]


class HomeBaseline(Base):
    """What a home's normal day looks like, learned from its last 8 weeks (refreshed daily)."""

    __tablename__ = "home_baseline"

    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime]
    days_used: Mapped[int] = mapped_column(Integer)
    # core.detection.baseline_pack: packed float32 arrays (~8.4 kB), read back in bulk in seconds
    packed: Mapped[bytes] = mapped_column(LargeBinary)


class DetectionChunk(Base):
    """One slice of a meter cycle's detection (homes ``lo_home_id..hi_home_id``), for any worker.

    The clock writes a cycle's chunks; a worker claims one with ``FOR UPDATE SKIP LOCKED``
    and evaluates it in the same transaction that sets ``done_at`` (core.detection.chunks),
    so a chunk's incidents and its "done" commit together, once; a killed worker's
    transaction rolls back and another worker takes the chunk.
    """

    __tablename__ = "detection_chunk"
    __table_args__ = (
        Index("ix_detection_chunk_todo", "cycle_at", "lo_home_id",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
    )

    cycle_at: Mapped[datetime] = mapped_column(primary_key=True)  # the cycle's "now"
    lo_home_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hi_home_id: Mapped[int] = mapped_column(Integer)
    homes: Mapped[int] = mapped_column(Integer)  # eligible homes when the cycle was enqueued
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(128))
    evaluated: Mapped[int | None] = mapped_column(Integer)  # homes evaluated when it ran
    opened: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float | None] = mapped_column(Float)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # raised errors (a killed worker leaves none)
    last_error: Mapped[str | None] = mapped_column(Text)


class Incident(Base):
    """Something "not like usual" at a home, and how far its escalation has gone."""

    __tablename__ = "incident"
    __table_args__ = (
        # One open incident per home and kind.
        Index(
            "uq_incident_open_home_kind",
            "home_id",
            "kind",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_incident_due", "state", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), index=True)
    kind: Mapped[IncidentKind] = mapped_column(_enum(IncidentKind))
    state: Mapped[IncidentState] = mapped_column(_enum(IncidentState), default=IncidentState.OPEN)
    window_start: Mapped[datetime]
    detected_at: Mapped[datetime]
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    confidence: Mapped[float | None] = mapped_column(Float)
    policy_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[datetime | None]
    fence: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    ack_source: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[CloseReason | None] = mapped_column(_enum(CloseReason))

    attempts: Mapped[list[EscalationAttempt]] = relationship(
        back_populates="incident", order_by="EscalationAttempt.id"
    )


class EscalationAttempt(Base):
    """One try to reach one person in one step of an incident's escalation."""

    __tablename__ = "escalation_attempt"
    __table_args__ = (Index("ix_escalation_attempt_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    step_index: Mapped[int] = mapped_column(Integer)
    step_kind: Mapped[str] = mapped_column(String(32))
    attempt_no: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    target: Mapped[str] = mapped_column(String(254))  # phone, LINE id or email, by channel
    watcher_id: Mapped[int | None] = mapped_column(ForeignKey("watcher.id", ondelete="SET NULL"))
    state: Mapped[AttemptState] = mapped_column(_enum(AttemptState), default=AttemptState.PENDING)
    due_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    incident: Mapped[Incident] = relationship(back_populates="attempts")


class OutboxMessage(Base):
    """A message to send, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    recipient: Mapped[str] = mapped_column(String(254))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(128))
    home_id: Mapped[int | None] = mapped_column(ForeignKey("home.id", ondelete="SET NULL"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="SET NULL"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_attempt.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    sent_at: Mapped[datetime | None]
    # When the earliest try that may have reached the provider began; None once settled.
    # A retry looks for its own delivery from here on (core/escalation/dispatcher.py).
    in_doubt_since: Mapped[datetime | None]


class CheckinToken(Base):
    """An unguessable, single-use, expiring safety-check link sent to the resident by SMS."""

    __tablename__ = "checkin_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_attempt.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]


class ConversationState(Base):
    """Where a LINE chat (user or group) is in a multi-step flow; expires if left idle."""

    __tablename__ = "conversation_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), unique=True)
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=_now)
    expires_at: Mapped[datetime]


class WebhookEvent(Base):
    """Each LINE webhook event once, by its webhookEventId; stored first, handled after."""

    __tablename__ = "webhook_event"
    __table_args__ = (Index("ix_webhook_event_pending", "state", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    source_key: Mapped[str] = mapped_column(String(64), index=True)  # user or group: keeps per-chat order
    event_type: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[WebhookState] = mapped_column(_enum(WebhookState), default=WebhookState.RECEIVED)
    received_at: Mapped[datetime] = mapped_column(default=_now)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class AuditLog(Base):
    """Every state transition and sensitive action: who, what, when (ids only, no personal data)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))
    home_id: Mapped[int | None] = mapped_column(Integer, index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MeterSourceCursor(Base):
    """Where a pulled meter source got to (the API's cursor), so a restart resumes there."""

    __tablename__ = "meter_source_cursor"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(512))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=_now)


class WeatherDay(Base):
    """One forecast area's forecast for one local day (core.weather): the cache the ladder reads.

    ``office`` is the JMA office code (``130000``); ``station`` the AMeDAS point whose
    temperatures were used (also the WBGT forecast point). A missing value is NULL, never
    a guess: a hot-day check without ``t_max`` and without ``wbgt_max`` does nothing.
    """

    __tablename__ = "weather_day"

    office: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    station: Mapped[str | None] = mapped_column(String(16))
    t_max: Mapped[float | None] = mapped_column(Float)
    t_min: Mapped[float | None] = mapped_column(Float)
    wbgt_max: Mapped[float | None] = mapped_column(Float)
    issued_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime] = mapped_column(default=_now)


class HomeClimate(Base):
    """What this home's cooling and heating look like (core.detection.climate), learned nightly."""

    __tablename__ = "home_climate"

    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class JobState(Base):
    """The last run of each scheduled job (and cycle step): liveness, catch-up and counters.

    One row per job name, updated after every run: the scheduler reads ``last_ok_at`` to
    catch a missed run up once after downtime; ``/metrics`` and ``mimamori status`` read the
    monotonic totals (``total_count`` of the meter pull is "readings ingested").
    """

    __tablename__ = "job_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    runs: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(BigInteger, default=0)
    total_count: Mapped[int] = mapped_column(BigInteger, default=0)
