"""How incidents end, and who hears about it: notices, usage seen, safe / false alarm,
and the dispatch partner (駆けつけ) by webhook and email."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

from sqlalchemy import select

from core import clock as core_clock
from core.db import session_scope
from core.enums import CloseReason, IncidentKind, OutboxState
from core.incidents import close, close_for_usage, open_incident
from core.models import Home, Incident, OutboxMessage
from tests.core.escalation.conftest import add_building, load, open_emergency, run


def test_a_notice_goes_once_to_those_who_opted_in_and_closes(make_home, make_watcher, clock, fake_line) -> None:
    home = make_home()
    wants = make_watcher(home, notify_over_usage=True)
    does_not = make_watcher(home, notify_over_usage=False)
    with session_scope() as s:
        incident = open_incident(s, s.get(Home, home.id), IncidentKind.OVER_USAGE, window_start=clock.now(),
                                 evidence={"percent": 180})
        incident_id = incident.id
    run()
    run()
    assert len(fake_line.state.messages_to(wants.line_user_id)) == 1
    assert "多く" in fake_line.state.messages_to(wants.line_user_id)[0]["text"]
    assert fake_line.state.messages_to(does_not.line_user_id) == []
    assert load(incident_id).close_reason is CloseReason.NOTICE


def test_usage_seen_tells_whoever_was_alerted_and_stops_the_rest(make_home, make_watcher, clock, fake_line) -> None:
    home = make_home(consent=False)
    first = make_watcher(home, order=1)
    second = make_watcher(home, order=2)
    incident_id = open_emergency(home)
    run()
    with session_scope() as s:
        assert [i.id for i in close_for_usage(s, home.id, clock.now())] == [incident_id]
    clock.advance(hours=1)
    run()
    assert "電気の使用が確認" in repr(fake_line.state.messages_to(first.line_user_id)[-1])
    assert fake_line.state.messages_to(second.line_user_id) == []  # never alerted, never bothered
    assert load(incident_id).close_reason is CloseReason.USAGE_SEEN


def test_a_watcher_closes_as_false_alarm_and_it_is_kept(make_home, make_watcher, clock, fake_line) -> None:
    home = make_home(consent=False)
    first = make_watcher(home, order=1)
    second = make_watcher(home, order=2)
    incident_id = open_emergency(home)
    run()
    clock.advance(minutes=15)
    run()
    with session_scope() as s:
        assert close(s, s.get(Incident, incident_id), CloseReason.FALSE_ALARM, f"line:{second.id}", who="次男",
                     watcher_id=second.id)
    run()
    assert "次男さんから" in repr(fake_line.state.messages_to(first.line_user_id)[-1])
    assert len(fake_line.state.messages_to(second.line_user_id)) == 1
    assert load(incident_id).close_reason is CloseReason.FALSE_ALARM


class _Partner(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Partner.received.append((self.headers["Idempotency-Key"], json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_dispatch_partner_gets_the_address_by_webhook_and_email(
        make_home, make_watcher, clock, fake_line, smtp_inbox) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Partner)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/dispatch"
    home = make_home(consent=False, address="東京都港区1-2-3", escalation_policy={"steps": [
        {"kind": "alert_family", "wait_minutes": 5},
        {"kind": "alert_dispatch", "email": "desk@partner.example", "webhook_url": url}]})
    add_building(home, "Cgroup-x")
    make_watcher(home)
    incident_id = open_emergency(home)
    try:
        run()
        assert _Partner.received == []
        clock.advance(minutes=5)
        run()
        with session_scope() as s:  # the family finds her safe: the partner hears it ended, once
            assert close(s, s.get(Incident, incident_id), CloseReason.SAFE, "line:1", who="長男")
        run()
        run()
    finally:
        server.shutdown()
    assert [b.get("event") for _k, b in _Partner.received] == [None, "close_safe"]
    assert "長男さん" in smtp_inbox.messages[-1].get_body(("plain",)).get_content()
    key, body = _Partner.received[0]
    assert body["home"]["address"] == "東京都港区1-2-3" and body["incident"]["id"] == incident_id and key
    assert "東京都港区1-2-3" in smtp_inbox.messages[0].get_body(("plain",)).get_content()
    with session_scope() as s:
        assert {r.state for r in s.scalars(select(OutboxMessage))} == {OutboxState.SENT}
    assert core_clock.now() == clock.now()


def test_an_acknowledgement_cancels_alerts_not_yet_sent(make_home, make_watcher, clock, fake_line) -> None:
    from core.escalation import dispatcher, engine
    from core.incidents import acknowledge

    home = make_home(consent=False)
    first = make_watcher(home, order=1)
    incident_id = open_emergency(home)
    engine.tick()  # the alert is written to the outbox but not yet sent
    with session_scope() as s:
        assert acknowledge(s, s.get(Incident, incident_id), "長女", "line")
    dispatcher.dispatch_due()
    clock.advance(hours=3)
    run()
    assert fake_line.state.messages_to(first.line_user_id) == []
    with session_scope() as s:
        assert {r.state for r in s.scalars(select(OutboxMessage))} == {OutboxState.CANCELLED}


def test_without_smtp_dev_mail_lands_on_the_dev_mail_page(make_home, make_watcher, clock, fake_line, web) -> None:
    import requests

    home = make_home(consent=False)
    make_watcher(home, email="dev@example.com", channels=["email"])
    open_emergency(home)
    run()
    page = requests.get(f"{web}/dev/mail", timeout=10)
    assert page.status_code == 200 and "dev@example.com" in page.text and "/ack/" in page.text
