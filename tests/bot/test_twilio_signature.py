"""Twilio callbacks must be signed by Twilio for our URL: a forged one gets 403 and
changes nothing (a forged "human answered" must never cancel an alert)."""

from __future__ import annotations

import requests
from sqlalchemy import select

from core.db import session_scope
from core.enums import AttemptState
from core.escalation import dispatcher, engine
from core.models import AuditLog, EscalationAttempt
from tests.core.escalation.conftest import load, open_emergency


def _state(attempt_id: int) -> AttemptState:
    with session_scope() as s:
        return s.get(EscalationAttempt, attempt_id).state


def test_forged_signature_is_refused_and_changes_nothing(make_home, clock, fake_twilio, web, fake_line) -> None:
    home = make_home()
    incident_id = open_emergency(home)
    engine.tick()
    dispatcher.dispatch_due()
    human = next(cb for cb in fake_twilio.callbacks(fake_twilio.calls[0].sid, "human") if "AnsweredBy" in cb[1])
    url, form, headers = human
    with session_scope() as s:
        attempt_id = s.scalar(select(EscalationAttempt.id))
        audits = s.query(AuditLog).count()
    before = _state(attempt_id)

    forged = requests.post(url, data=form, headers={"X-Twilio-Signature": "AAAAforged="}, timeout=10)
    unsigned = requests.post(url, data=form, timeout=10)
    tampered = requests.post(url, data={**form, "AnsweredBy": "human", "CallSid": "CAother"}, headers=headers,
                             timeout=10)
    other_attempt = requests.post(url.replace("attempt=", "attempt=9"), data=form, headers=headers, timeout=10)
    assert [r.status_code for r in (forged, unsigned, tampered, other_attempt)] == [403, 403, 403, 403]
    assert _state(attempt_id) == before and load(incident_id).closed_at is None
    with session_scope() as s:
        assert s.query(AuditLog).count() == audits

    assert requests.post(url, data=form, headers=headers, timeout=10).status_code == 204  # the real one
    assert load(incident_id).close_reason.value == "resident_ok"
