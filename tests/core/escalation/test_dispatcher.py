"""Delivery: LINE rate limits are retried with backoff; the monthly quota switches the
watcher to email/SMS and warns the operator; email goes over real SMTP with a stable
Message-ID and an acknowledge link that works once."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from bot.dev.line_emulator import QUOTA_EXHAUSTED
from core.db import session_scope
from core.enums import Channel, IncidentState, OutboxState
from core.escalation import dispatcher
from core.models import AuditLog, OutboxMessage, Watcher
from tests.core.escalation.conftest import load, open_emergency, run


def _family_alert_row() -> OutboxMessage:
    with session_scope() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.LINE)
                        .order_by(OutboxMessage.id)).first()
        s.expunge(row)
        return row


def _no_resident_contact(make_home):
    return make_home(consent=False)  # no consent: the family is alerted straight away


def test_line_429_is_retried_with_backoff_and_sent_once(make_home, make_watcher, clock, fake_line) -> None:
    home = _no_resident_contact(make_home)
    watcher = make_watcher(home)
    open_emergency(home)
    fake_line.state.fail_next(429, 429)
    run()
    row = _family_alert_row()
    assert row.state is OutboxState.PENDING and row.attempts == 1 and "429" in row.last_error
    assert dispatcher.dispatch_due() == 0  # not before the backoff
    clock.advance(seconds=30)
    assert dispatcher.dispatch_due() == 0  # second 429: waits longer
    assert _family_alert_row().next_attempt_at - clock.now() >= dispatcher.timedelta(seconds=60)
    clock.advance(seconds=61)
    assert dispatcher.dispatch_due() == 1
    row = _family_alert_row()
    assert row.state is OutboxState.SENT and row.provider_id  # x-line-request-id recorded
    assert len(fake_line.state.messages_to(watcher.line_user_id)) == 1


def test_monthly_quota_switches_the_watcher_to_email_and_warns_the_operator(
        make_home, make_watcher, clock, fake_line, smtp_inbox, caplog) -> None:
    home = _no_resident_contact(make_home)
    watcher = make_watcher(home, email="hanako@example.com")
    open_emergency(home)
    fake_line.state.fail_next(QUOTA_EXHAUSTED)
    run()
    assert fake_line.state.messages_to(watcher.line_user_id) == []
    assert len(smtp_inbox.messages) == 1
    mail = smtp_inbox.messages[0]
    assert mail["To"] == "hanako@example.com" and "/ack/" in mail.get_body(("plain",)).get_content()
    with session_scope() as s:
        assert s.get(Watcher, watcher.id).line_quota_exhausted_at == clock.now()
        assert s.scalar(select(AuditLog).where(AuditLog.action == "line_quota_exhausted")) is not None
    assert "quota" in caplog.text
    # Later messages this month go by email from the start.
    from core.incidents import close_for_usage

    with session_scope() as s:
        close_for_usage(s, home.id, clock.now())
    run()
    assert len(smtp_inbox.messages) == 2 and fake_line.state.calls == []


def test_email_alert_over_smtp_with_a_stable_message_id_and_a_working_ack_link(
        make_home, make_watcher, clock, fake_line, smtp_inbox, web, settings) -> None:
    home = _no_resident_contact(make_home)
    by_mail = make_watcher(home, order=1, email="taro@example.com", channels=["email"])
    by_line = make_watcher(home, order=2)
    incident_id = open_emergency(home)
    run()
    clock.advance(minutes=15)
    run()
    assert len(smtp_inbox.messages) == 1
    mail = smtp_inbox.messages[0]
    assert mail["Message-ID"].startswith("<") and "みまもり" in mail["Subject"]
    ack = re.search(r"http://\S+/ack/\S+", mail.get_body(("plain",)).get_content()).group(0)

    # Resending the same outbox row would carry the same Message-ID (mail systems fold them).
    from core.escalation.channels.email import message_id

    with session_scope() as s:
        key = s.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.channel == Channel.EMAIL)).one()
    assert mail["Message-ID"] == message_id(key, settings)

    assert "対応します" in requests.get(ack, timeout=10).text
    assert load(incident_id).acknowledged_at is None  # opening is not acknowledging
    assert "ありがとうございます" in requests.post(ack, timeout=10).text
    incident = load(incident_id)
    assert incident.state is IncidentState.ACKNOWLEDGED and incident.ack_source == "email_link"
    run()
    told = repr(fake_line.state.messages_to(by_line.line_user_id)[-1])
    assert by_mail.display_name in told and "対応" in told
    assert len(smtp_inbox.messages) == 1  # the one who acknowledged is not told about themself
    assert "すでに" in requests.post(ack, timeout=10).text
    assert requests.post(ack[:-4] + "xxxx", timeout=10).status_code == 410
