"""Twilio callbacks arrive late, twice and out of order; states never move backwards."""

from __future__ import annotations

import contextlib
import random

from sqlalchemy import select

from bot.dev.twilio_emulator import deliver
from core.db import session_scope
from core.enums import AttemptState
from core.escalation import dispatcher, engine
from core.models import EscalationAttempt
from tests.core.escalation.conftest import load, open_emergency


def _attempt() -> EscalationAttempt:
    with session_scope() as s:
        attempt = s.scalars(select(EscalationAttempt).order_by(EscalationAttempt.id)).first()
        s.expunge(attempt)
        return attempt


def _start(make_home, make_watcher) -> int:
    home = make_home()
    make_watcher(home)
    incident_id = open_emergency(home)
    engine.tick()
    dispatcher.dispatch_due()
    return incident_id


def test_late_ringing_after_completed_does_not_reopen_the_attempt(make_home, make_watcher, clock, fake_twilio, web):
    _start(make_home, make_watcher)
    callbacks = fake_twilio.callbacks(fake_twilio.calls[0].sid, "no_answer")
    final = callbacks[-1]
    assert deliver(*final) == 204
    assert _attempt().state is AttemptState.NO_ANSWER
    for cb in callbacks[:-1]:  # initiated and ringing, arriving late
        assert deliver(*cb) == 204
    assert _attempt().state is AttemptState.NO_ANSWER


def test_duplicates_and_shuffled_order_end_in_the_same_place(make_home, make_watcher, clock, fake_twilio, web):
    incident_id = _start(make_home, make_watcher)
    callbacks = fake_twilio.callbacks(fake_twilio.calls[0].sid, "machine") * 2
    random.Random(5).shuffle(callbacks)
    assert {deliver(*cb) for cb in callbacks} == {204}
    attempt = _attempt()
    assert attempt.state is AttemptState.NO_ANSWER and attempt.detail["answered_by"] == "machine_end_beep"
    assert load(incident_id).closed_at is None  # voicemail never cancels


def test_a_callback_before_the_dispatcher_recorded_the_sid_is_kept(make_home, make_watcher, clock, fake_twilio, web):
    """Twilio may call back before our own commit: the SID is taken from the callback,
    and a retry of the send then knows the call exists and does not call twice."""
    from core.escalation import faults

    home = make_home()
    make_watcher(home)
    open_emergency(home)
    engine.tick()
    faults.arm("dispatch.after_send")
    with contextlib.suppress(faults.SimulatedCrash):
        dispatcher.dispatch_due()
    sid = fake_twilio.calls[0].sid
    deliver(*fake_twilio.callbacks(sid, "no_answer")[0])  # "initiated" arrives while we were "dead"
    assert _attempt().provider_id == sid
    clock.advance(dispatcher.LEASE * 2)
    dispatcher.dispatch_due()
    assert len(fake_twilio.calls) == 1


def test_late_human_answer_after_the_family_was_alerted_still_tells_them(
        make_home, make_watcher, clock, fake_twilio, fake_line, web):
    home = make_home()
    watcher = make_watcher(home)
    incident_id = open_emergency(home)
    for _ in range(4):
        engine.tick()
        dispatcher.dispatch_due()
        clock.advance(minutes=10)
    assert len(fake_line.state.messages_to(watcher.line_user_id)) == 1
    amd = next(cb for cb in fake_twilio.callbacks(fake_twilio.calls[0].sid, "human") if "AnsweredBy" in cb[1])
    assert deliver(*amd) == 204
    dispatcher.dispatch_due()
    assert load(incident_id).close_reason.value == "resident_ok"
    assert "ご本人からお返事がありました" in repr(fake_line.state.messages_to(watcher.line_user_id)[-1])
