"""The vocabulary of the domain. Stored as short strings; compared as StrEnums."""

from __future__ import annotations

from enum import StrEnum


class HomeStatus(StrEnum):
    AWAITING_HISTORY = "awaiting_history"  # fewer than 56 good days of readings
    AWAITING_CONSENT = "awaiting_consent"  # enough data, the resident has not agreed yet
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class ContactMethod(StrEnum):
    VOICE = "voice"
    SMS = "sms"
    LINE = "line"


class WatcherRole(StrEnum):
    FAMILY = "family"
    LANDLORD = "landlord"
    MANAGER = "manager"


class ReadingQuality(StrEnum):
    MEASURED = "measured"  # 速報値
    REVISED = "revised"  # 確定値 replacing an earlier value
    ESTIMATED = "estimated"


class PauseReason(StrEnum):
    TRIP = "trip"
    LATE_NIGHT = "late_night"  # 今夜は夜更かし
    SLEEP_IN = "sleep_in"  # 明日は朝寝坊
    MANUAL = "manual"


class IncidentKind(StrEnum):
    NO_WAKE = "no_wake"
    INACTIVITY = "inactivity"
    FLAT_USAGE = "flat_usage"
    NIGHT_ACTIVITY = "night_activity"
    USAGE_RESUMED = "usage_resumed"
    OVER_USAGE = "over_usage"
    DATA_GAP = "data_gap"
    HEAT_RISK = "heat_risk"  # a hot day and no cooling seen: a gentle ladder, never an emergency
    COLD_RISK = "cold_risk"  # a cold night and the home's usual heating not seen


EMERGENCY_KINDS = frozenset({IncidentKind.NO_WAKE, IncidentKind.INACTIVITY, IncidentKind.FLAT_USAGE})
# Driven by core.climate.ladder (its own step table), not by the escalation engine.
CLIMATE_KINDS = frozenset({IncidentKind.HEAT_RISK, IncidentKind.COLD_RISK})


class IncidentState(StrEnum):
    """Only ever moves forward: OPEN -> ESCALATING -> ACKNOWLEDGED -> CLOSED."""

    OPEN = "open"
    ESCALATING = "escalating"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class CloseReason(StrEnum):
    RESIDENT_OK = "resident_ok"
    ACKNOWLEDGED = "acknowledged"
    USAGE_SEEN = "usage_seen"
    SAFE = "safe"
    FALSE_ALARM = "false_alarm"
    EXHAUSTED = "exhausted"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    NOTICE = "notice"  # informational kinds close as soon as they are told
    CONTRACT_ENDED = "contract_ended"  # the home's contract ended (core.retention)
    COOLING_SEEN = "cooling_seen"  # heat_risk / cold_risk: the home's own cooling or heating appeared
    PAUSED = "paused"  # monitoring was paused while a climate ladder ran


class AttemptState(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"  # a person answered / confirmed / acknowledged
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after retries; shown to the operator
    CANCELLED = "cancelled"


class Channel(StrEnum):
    LINE = "line"
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"
    WEBHOOK = "webhook"


class WebhookState(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    SKIPPED = "skipped"  # signed, but not an event line-bot-sdk can read: stored, never acted on
