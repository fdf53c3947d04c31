"""The resident's answer: SMS safety-check link (GET shows, only POST confirms; used,
expired or tampered links are refused politely and change nothing) and LINE "OK"
(what every kind of LINE reply means: test_answers.py and tests/bot/test_alert_journeys.py)."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from core.db import session_scope
from core.enums import ContactMethod, IncidentState
from core.escalation.answers import confirm_resident_by_line
from core.models import CheckinToken
from tests.core.escalation.conftest import load, open_emergency, run


def _link(fake_twilio) -> str:
    body = fake_twilio.messages[-1].body
    match = re.search(r"https?://\S+/checkin/\S+", body)
    assert match, body
    return match.group(0)


@pytest.fixture
def sms_home(make_home, make_watcher):
    home = make_home(contact=ContactMethod.SMS, phone="+819033334444")
    make_watcher(home)
    return home


def test_opening_the_link_does_not_confirm_only_pressing_does(sms_home, clock, fake_twilio, fake_line, web) -> None:
    incident_id = open_emergency(sms_home)
    run()
    assert fake_twilio.messages[0].to == "+819033334444"
    link = _link(fake_twilio)
    with session_scope() as s:  # the database never holds the link itself
        assert link.rsplit("/", 1)[1] not in repr(s.scalars(select(CheckinToken.token_hash)).all())

    page = requests.get(link, timeout=10)  # a link scanner, a preview, or the resident
    assert page.status_code == 200 and "大丈夫です" in page.text and 'method="post"' in page.text
    requests.get(link, timeout=10)
    assert load(incident_id).closed_at is None

    done = requests.post(link, timeout=10)
    assert done.status_code == 200 and "ありがとうございます" in done.text
    incident = load(incident_id)
    assert incident.state is IncidentState.CLOSED and incident.close_reason.value == "resident_ok"

    again = requests.post(link, timeout=10)  # single use
    assert again.status_code == 410 and "有効期限" in again.text


def test_an_expired_or_tampered_link_is_refused_and_changes_nothing(sms_home, clock, fake_twilio, web) -> None:
    incident_id = open_emergency(sms_home)
    run()
    link = _link(fake_twilio)
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert requests.post(tampered, timeout=10).status_code == 410
    clock.advance(minutes=31)
    expired = requests.post(link, timeout=10)
    assert expired.status_code == 410 and "申し訳ありません" in expired.text
    with session_scope() as s:
        token = s.scalars(select(CheckinToken)).one()
        assert token.used_at is None and token.opened_at is None
    assert load(incident_id).closed_at is None


def test_no_answer_within_the_time_alerts_the_family(make_home, make_watcher, clock, fake_twilio, fake_line, web):
    home = make_home(contact=ContactMethod.SMS)
    watcher = make_watcher(home)
    open_emergency(home)
    run()
    clock.advance(minutes=29)
    run()
    assert fake_line.state.messages_to(watcher.line_user_id) == []
    clock.advance(minutes=1)
    run()
    assert "SMS" in repr(fake_line.state.messages_to(watcher.line_user_id))


def test_line_checkin_ok_closes_it(make_home, make_watcher, clock, fake_line, db) -> None:
    home = make_home(contact=ContactMethod.LINE)
    with session_scope() as s:
        from core.models import Resident

        resident = s.scalar(select(Resident).where(Resident.home_id == home.id))
        resident.line_user_id = "Uresident0001"
    watcher = make_watcher(home)
    incident_id = open_emergency(home)
    run()
    checkin = fake_line.state.messages_to("Uresident0001")
    assert checkin[0]["quickReply"]["items"][0]["action"]["text"] == "OK"
    with session_scope() as s:
        assert confirm_resident_by_line(s, "Usomeone-else", "OK") is None
    assert load(incident_id).closed_at is None
    with session_scope() as s:
        incident = confirm_resident_by_line(s, "Uresident0001", "ＯＫ")
        assert incident is not None and incident.id == incident_id
    assert load(incident_id).close_reason.value == "resident_ok"
    clock.advance(hours=2)
    run()
    assert fake_line.state.messages_to(watcher.line_user_id) == []
