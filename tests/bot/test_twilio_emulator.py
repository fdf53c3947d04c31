"""The local Twilio API behaves like Twilio for the client: it checks credentials,
answers Calls/Messages create and list, and, when scripted, calls the app back by itself
with signed callbacks."""

from __future__ import annotations

import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from core.escalation.channels.twilio import RedirectingHttpClient, make_client
from tests.core.escalation.conftest import load, open_emergency, run


def test_scripted_outcomes_call_the_app_back_by_themselves(make_home, clock, fake_twilio, fake_line, web) -> None:
    fake_twilio.auto = True
    fake_twilio.script("machine", "human")
    home = make_home()
    incident_id = open_emergency(home)
    run()
    deadline = time.monotonic() + 20
    while len(fake_twilio.calls) < 2 or load(incident_id).closed_at is None:
        assert time.monotonic() < deadline, "the scripted callbacks never closed the incident"
        if len(fake_twilio.calls) == 1 and "completed" in str(_events()):
            clock.advance(minutes=10)
            run()
        time.sleep(0.1)
    assert load(incident_id).close_reason.value == "resident_ok"  # the machine did not; the person did


def _events() -> list:
    from sqlalchemy import select

    from core.db import session_scope
    from core.models import EscalationAttempt

    with session_scope() as s:
        return [a.detail.get("events") for a in s.scalars(select(EscalationAttempt))]


def test_the_client_is_refused_with_wrong_credentials(settings, fake_twilio) -> None:
    client = Client("AC" + "1" * 32, "wrong", http_client=RedirectingHttpClient(fake_twilio_url(settings), 5))
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to="+819000000000", from_="+815000000000", body="hi")
    assert err.value.status == 401
    sms = make_client(settings).messages.create(to="+819000000000", from_=settings.twilio_from, body="hi")
    assert sms.sid.startswith("SM") and fake_twilio.messages[0].body == "hi"
    found = make_client(settings).messages.list(to="+819000000000", limit=5)
    assert [m.sid for m in found] == [sms.sid]


def fake_twilio_url(settings) -> str:
    return settings.twilio_api_url
