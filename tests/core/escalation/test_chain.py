"""The whole chain through real protocols with a controlled clock: three unanswered calls
(twilio client → fake Twilio → signed callbacks into the app), the family alerted one by
one in LINE (line-bot-sdk → fake LINE), the landlord group alerted, and one
acknowledgement stopping everyone while the others are told who took it."""

from __future__ import annotations

from sqlalchemy import select

from core.db import session_scope
from core.enums import AttemptState, IncidentState
from core.incidents import acknowledge
from core.models import AuditLog, EscalationAttempt, Incident
from tests.core.escalation.conftest import add_building, load, open_emergency, run


def _texts(messages: list[dict]) -> str:
    return repr(messages)


def test_unanswered_calls_family_then_landlord_then_one_ack_stops_everyone(
    make_home, make_watcher, clock, fake_line, fake_twilio, web
) -> None:
    home = make_home(resident_name="山田花子", phone="+819011112222")
    add_building(home, "Cgroup-midori")
    first = make_watcher(home, order=1, relation_label="お母さん")
    second = make_watcher(home, order=2)
    incident_id = open_emergency(home)

    # Three calls, ten minutes apart, none answered.
    for n in range(3):
        run()
        assert len(fake_twilio.calls) == n + 1
        assert all(code == 204 for code in fake_twilio.play(fake_twilio.calls[-1].sid, "no_answer"))
        assert fake_line.state.calls == []  # nobody in the family is disturbed yet
        clock.advance(minutes=10)
    call = fake_twilio.calls[0]
    assert call.to == "+819011112222"
    assert 'language="ja-JP"' in call.twiml and 'numDigits="1"' in call.twiml and "山田花子さん" in call.twiml

    # The family, in order: first now, the second after the wait.
    run()
    to_first = fake_line.state.messages_to(first.line_user_id)
    assert len(to_first) == 1 and to_first[0]["type"] == "flex"
    flex = _texts(to_first)
    assert f"action=ack&incident={incident_id}" in flex
    assert "tel:+819011112222" in flex and "/graphs/" in flex
    assert "お母さん" in flex and "3回" in flex  # who, and that the calls were tried
    assert fake_line.state.messages_to(second.line_user_id) == []
    clock.advance(minutes=15)
    run()
    to_second = _texts(fake_line.state.messages_to(second.line_user_id))
    assert first.display_name in to_second  # the alert says who else was told

    # Nobody took it: the landlord group.
    assert fake_line.state.messages_to("Cgroup-midori") == []
    clock.advance(minutes=15)
    run()
    group = _texts(fake_line.state.messages_to("Cgroup-midori"))
    assert "確認に行きます" in group and f"action=ack&incident={incident_id}" in group

    # One member of the group is going: everyone else is told, and nothing more is sent.
    with session_scope() as s:
        incident = s.get(Incident, incident_id)
        assert acknowledge(s, incident, "管理人の田中", "line_group")
        assert not acknowledge(s, incident, "someone else", "line")  # the second tap changes nothing
    run()
    assert "管理人の田中さんが対応" in _texts(fake_line.state.messages_to(first.line_user_id))
    assert "管理人の田中さんが対応" in _texts(fake_line.state.messages_to(second.line_user_id))
    before = len(fake_line.state.calls)
    clock.advance(hours=6)
    run()
    assert len(fake_line.state.calls) == before and len(fake_twilio.calls) == 3

    incident = load(incident_id)
    assert incident.state is IncidentState.ACKNOWLEDGED and incident.next_due_at is None
    with session_scope() as s:
        calls = s.scalars(select(EscalationAttempt).where(EscalationAttempt.step_kind == "contact_resident")).all()
        assert [a.state for a in calls] == [AttemptState.NO_ANSWER] * 3
        assert all(a.provider_id and a.provider_id.startswith("CA") for a in calls)
        steps = s.scalars(select(AuditLog.detail).where(AuditLog.action == "step_run")).all()
        assert [d["step"] for d in steps][:4] == ["contact_resident"] * 4


def test_a_person_answering_the_call_ends_it_before_the_family_hears(
    make_home, make_watcher, clock, fake_line, fake_twilio, web
) -> None:
    home = make_home()
    watcher = make_watcher(home)
    incident_id = open_emergency(home)
    run()
    fake_twilio.play(fake_twilio.calls[0].sid, "human")
    clock.advance(hours=3)
    run()
    assert load(incident_id).state is IncidentState.CLOSED
    assert load(incident_id).close_reason.value == "resident_ok"
    assert fake_line.state.messages_to(watcher.line_user_id) == []
    assert len(fake_twilio.calls) == 1


def test_voicemail_does_not_count_as_an_answer(make_home, make_watcher, clock, fake_line, fake_twilio, web) -> None:
    home = make_home()
    watcher = make_watcher(home)
    incident_id = open_emergency(home)
    for _ in range(3):
        run()
        fake_twilio.play(fake_twilio.calls[-1].sid, "machine")
        assert load(incident_id).closed_at is None
        clock.advance(minutes=10)
    run()
    assert len(fake_line.state.messages_to(watcher.line_user_id)) == 1
    with session_scope() as s:
        details = s.scalars(select(EscalationAttempt.detail).where(EscalationAttempt.step_kind == "contact_resident"))
        assert {d["answered_by"] for d in details} == {"machine_end_beep"}


def test_pressing_1_confirms_and_the_caller_hears_thanks(make_home, clock, fake_twilio, web, fake_line) -> None:
    home = make_home()
    incident_id = open_emergency(home)
    run()
    callbacks = fake_twilio.callbacks(fake_twilio.calls[0].sid, "human_press_1")
    gather = [cb for cb in callbacks if "Digits" in cb[1]]
    import requests

    resp = requests.post(gather[0][0], data=gather[0][1], headers=gather[0][2], timeout=10)
    assert resp.status_code == 200 and "<Say" in resp.text and "ありがとうございます" in resp.text
    assert load(incident_id).close_reason.value == "resident_ok"
