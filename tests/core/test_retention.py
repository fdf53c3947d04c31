"""Leaving: a watcher's data goes at once; an ended home's data goes after the retention period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.db import Base, session_scope
from core.enums import AttemptState, Channel, CloseReason, HomeStatus, IncidentKind, OutboxState, WebhookState
from core.errors import NotFound
from core.models import (
    AuditLog,
    ConversationState,
    EscalationAttempt,
    Home,
    HomeWatcher,
    Incident,
    MeterReading,
    OutboxMessage,
    Watcher,
    WebhookEvent,
)
from core.outbox import enqueue
from core.retention import clean_up, delete_watcher, end_home
from mimamori.cli.main import cli

RESIDENT = "山田太郎"
RESIDENT_PHONE = "+819011112222"
ADDRESS = "東京都千代田区千代田1-1"
HOLDER = "山田一郎"
CUSTOMER = "C-998877"


def everything_stored() -> str:
    """Every row of every table as text: personal data must not be anywhere in it."""
    with session_scope() as s:
        return "\n".join(
            repr(tuple(row)) for table in Base.metadata.sorted_tables for row in s.execute(table.select())
        )


@pytest.fixture
def family(db, clock, make_home, make_watcher):
    """A watched home with readings, an open incident mid-escalation, two watchers and their traces."""
    home = make_home(resident_name=RESIDENT, phone=RESIDENT_PHONE, address=ADDRESS, contract_holder=HOLDER,
                     customer_number=CUSTOMER)
    leaver = make_watcher(home, email="hanako@example.jp", relation_label="母")
    stayer = make_watcher(home)
    now = clock.now()
    with session_scope() as s:
        w = s.get(Watcher, leaver.id)
        w.phone, w.display_name = "+818033334444", "山田花子"
        for i in range(48):
            s.add(MeterReading(home_id=home.id, interval_start=now - timedelta(minutes=30 * (i + 1)), kwh=0.1))
        incident = Incident(home_id=home.id, kind=IncidentKind.NO_WAKE, window_start=now, detected_at=now,
                            acknowledged_by="山田花子")
        s.add(incident)
        s.flush()
        s.add(EscalationAttempt(incident_id=incident.id, step_index=1, step_kind="family", channel=Channel.LINE,
                                target=leaver.line_user_id, watcher_id=leaver.id, due_at=now))
        s.add(EscalationAttempt(incident_id=incident.id, step_index=0, step_kind="resident", channel=Channel.VOICE,
                                target=RESIDENT_PHONE, due_at=now, state=AttemptState.NO_ANSWER))
        enqueue(s, channel=Channel.LINE, recipient=leaver.line_user_id, key="alert:leaver", home_id=home.id,
                incident_id=incident.id, payload={"messages": [{"type": "text", "text": "お父さんの様子が…"}]})
        told = enqueue(s, channel=Channel.LINE, recipient=stayer.line_user_id, key="ack:stayer", home_id=home.id,
                       payload={"messages": [{"type": "text", "text": "山田花子さんが対応しています"}]})
        told.state = OutboxState.SENT
        s.add(ConversationState(chat_id=leaver.line_user_id, flow="pause", step="until", data={"x": 1},
                                expires_at=now + timedelta(minutes=10)))
        s.add(WebhookEvent(webhook_event_id="ev1", source_key=leaver.line_user_id, event_type="message",
                           body={"source": {"userId": leaver.line_user_id}, "message": {"text": "退会"}}))
        incident_id = incident.id
    with session_scope() as s:
        leaver_row, stayer_row = s.get(Watcher, leaver.id), s.get(Watcher, stayer.id)
    return {"home": home, "leaver": leaver_row, "stayer": stayer_row, "incident_id": incident_id}


# ---- a watcher leaves -------------------------------------------------------------------
def test_a_leaving_watcher_leaves_no_personal_data(family) -> None:
    leaver = family["leaver"]
    with session_scope() as s:
        counts = delete_watcher(s, leaver.id, actor=f"line:{leaver.id}")
    assert counts["homes"] == 1
    stored = everything_stored()
    for secret in (leaver.line_user_id, leaver.email, leaver.phone, "山田花子"):
        assert secret not in stored
    with session_scope() as s:
        w = s.get(Watcher, leaver.id)
        assert w.deleted_at is not None and not w.following
        assert s.scalars(select(HomeWatcher.watcher_id)).all() == [family["stayer"].id]
        assert s.scalars(select(ConversationState)).all() == []
        alert = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "alert:leaver"))
        assert alert.state == OutboxState.CANCELLED  # never sent to someone who left
        attempt = s.scalar(select(EscalationAttempt).where(EscalationAttempt.watcher_id == leaver.id))
        assert attempt.state == AttemptState.CANCELLED
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "watcher_deleted"))
        assert audit.detail["watcher_id"] == leaver.id
    # The family member who stays keeps everything.
    assert family["stayer"].line_user_id in stored


def test_deleting_twice_or_an_unknown_watcher(family) -> None:
    with session_scope() as s:
        delete_watcher(s, family["leaver"].id, actor="operator")
    with session_scope() as s:
        assert delete_watcher(s, family["leaver"].id, actor="operator") == {}
    before = everything_stored()
    with pytest.raises(NotFound), session_scope() as s:
        delete_watcher(s, 999_999, actor="operator")
    assert everything_stored() == before


# ---- a contract ends ------------------------------------------------------------------------
def test_ending_a_contract_stops_watching_at_once(family) -> None:
    home = family["home"]
    with session_scope() as s:
        assert end_home(s, s.get(Home, home.id), actor="operator")
    with session_scope() as s:
        assert not end_home(s, s.get(Home, home.id), actor="operator")
        row = s.get(Home, home.id)
        assert row.status == HomeStatus.ENDED and row.ended_at is not None
        incident = s.get(Incident, family["incident_id"])
        assert incident.close_reason == CloseReason.CONTRACT_ENDED
        alert = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "alert:leaver"))
        assert alert.state == OutboxState.CANCELLED
        notices = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("home_ended:%"))).all()
        assert {m.recipient for m in notices} == {family["leaver"].line_user_id, family["stayer"].line_user_id}
        assert all(m.state == OutboxState.PENDING for m in notices)
        assert s.get(Home, home.id).resident.display_name == RESIDENT  # kept until the retention period


def test_an_ended_home_is_erased_after_the_retention_period_keeping_counts(family, clock, make_home, settings) -> None:
    home = family["home"]
    other = make_home(resident_name="佐藤", phone="+819055556666")
    with session_scope() as s:
        end_home(s, s.get(Home, home.id), actor="operator")
    clock.advance(days=settings.retention_days - 1)
    with session_scope() as s:
        assert clean_up(s, clock.now())["homes_erased"] == 0
    clock.advance(days=2)
    with session_scope() as s:
        assert clean_up(s, clock.now())["homes_erased"] == 1
    stored = everything_stored()
    for secret in (RESIDENT, RESIDENT_PHONE, ADDRESS, HOLDER, CUSTOMER, home.meter_id):
        assert secret not in stored
    with session_scope() as s:
        assert s.get(Home, home.id) is None
        assert s.scalar(select(MeterReading).where(MeterReading.home_id == home.id)) is None
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "home_erased"))
        assert audit.home_id == home.id
        assert audit.detail["readings"] == 48 and audit.detail["incidents"] == {"no_wake": 1}
        assert audit.detail["watchers"] == 2
        assert s.get(Home, other.id).resident.display_name == "佐藤"
    # Watchers keep their own accounts; only their link to the ended home is gone.
    assert family["stayer"].line_user_id in stored


def test_old_delivered_messages_and_webhook_events_are_dropped(db, clock, settings) -> None:
    now = clock.now()
    with session_scope() as s:
        states = (("sent", OutboxState.SENT), ("failed", OutboxState.FAILED), ("pending", OutboxState.PENDING))
        for key, state in states:
            m = enqueue(s, channel=Channel.SMS, recipient="+819000000000", payload={"body": "x"}, key=key)
            m.state = state
        s.add(WebhookEvent(webhook_event_id="old", source_key="U1", event_type="message", body={},
                           state=WebhookState.PROCESSED))
    clock.advance(days=settings.retention_days + 1)
    with session_scope() as s:
        fresh = enqueue(s, channel=Channel.SMS, recipient="+819000000000", payload={"body": "y"}, key="fresh")
        fresh.state = OutboxState.SENT
    with session_scope() as s:
        counts = clean_up(s, clock.now())
        keys = set(s.scalars(select(OutboxMessage.idempotency_key)))
        events = s.scalars(select(WebhookEvent)).all()
    assert counts["messages"] == 2 and counts["webhook_events"] == 1
    assert keys == {"pending", "fresh"} and events == []
    assert now < clock.now()


# ---- operator commands ------------------------------------------------------------------------
def test_operator_ends_a_home_by_meter_id(family, settings) -> None:
    home = family["home"]
    result = CliRunner().invoke(cli, ["homes", "end", home.meter_id, "--yes"])
    assert result.exit_code == 0, result.output
    assert f"home {home.id}: ended" in result.output and f"RETENTION_DAYS={settings.retention_days}" in result.output
    again = CliRunner().invoke(cli, ["homes", "end", home.meter_id, "--yes"])
    assert "already ended" in again.output


def test_operator_can_erase_at_once_and_is_told_about_unknown_ids(family) -> None:
    home = family["home"]
    result = CliRunner().invoke(cli, ["homes", "end", home.meter_id, "--erase-now", "--yes"])
    assert result.exit_code == 0, result.output
    assert "48 readings deleted" in result.output
    assert RESIDENT not in everything_stored()
    missing = CliRunner().invoke(cli, ["homes", "end", "0300000000000000000000", "--yes"])
    assert missing.exit_code == 1 and "no home with meter id" in missing.output


def test_operator_deletes_a_watcher(family) -> None:
    leaver = family["leaver"]
    declined = CliRunner().invoke(cli, ["watchers", "delete", str(leaver.id)], input="n\n")
    assert declined.exit_code == 1
    assert leaver.line_user_id in everything_stored()
    result = CliRunner().invoke(cli, ["watchers", "delete", str(leaver.id), "--yes"])
    assert result.exit_code == 0, result.output
    assert leaver.line_user_id not in everything_stored()
    missing = CliRunner().invoke(cli, ["watchers", "delete", "999999", "--yes"])
    assert missing.exit_code == 1 and "no watcher with id 999999" in missing.output


