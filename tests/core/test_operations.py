"""``mimamori status``: what the operator reads in the morning."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner

from core.db import session_scope
from core.enums import Channel, HomeStatus, IncidentKind, OutboxState
from core.models import Incident
from core.outbox import enqueue
from mimamori.cli.main import cli


def seed(clock, make_home):
    now = clock.now()
    fine = make_home(resident_name="元気な人", last_reading_at=now - timedelta(hours=1))
    silent = make_home(last_reading_at=now - timedelta(hours=9))
    make_home(status=HomeStatus.PAUSED, last_reading_at=now - timedelta(hours=1))
    with session_scope() as s:
        incident = Incident(home_id=fine.id, kind=IncidentKind.NO_WAKE, window_start=now, detected_at=now)
        s.add(incident)
        s.flush()
        stuck = enqueue(s, channel=Channel.SMS, recipient="+819099998888", payload={"body": "大丈夫ですか"},
                        key="stuck", home_id=fine.id, incident_id=incident.id)
        stuck.created_at = stuck.next_attempt_at = now - timedelta(minutes=40)
        stuck.attempts, stuck.last_error = 3, "HTTP 503 from provider"
        failed = enqueue(s, channel=Channel.LINE, recipient="Ufailed", payload={"messages": []}, key="failed",
                         home_id=silent.id)
        failed.state = OutboxState.FAILED
        incident_id, stuck_id = incident.id, stuck.id
    return fine, silent, incident_id, stuck_id


def test_status_shows_what_needs_attention(db, clock, make_home) -> None:
    fine, silent, incident_id, stuck_id = seed(clock, make_home)
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "active 2, paused 1" in out
    assert "Data gaps: 1 home(s)" in out and f"home {silent.id:<6} meter {silent.meter_id}" in out
    assert "Stuck messages (pending over 15 min): 1" in out
    assert f"#{stuck_id:<6} sms" in out and "attempts 3" in out and "HTTP 503" in out
    assert "Failed deliveries: line 1" in out
    assert "Open incidents: no_wake 1" in out and f"#{incident_id:<6} home {fine.id}" in out
    # Ids, never the people: no names, phone numbers, LINE ids or message texts.
    for secret in ("元気な人", "+819099998888", "Ufailed", "大丈夫ですか"):
        assert secret not in out


def test_status_as_json_and_as_a_check(db, clock, make_home) -> None:
    _, silent, _, stuck_id = seed(clock, make_home)
    data = json.loads(CliRunner().invoke(cli, ["status", "--json"]).output)
    assert data["homes_by_status"] == {"active": 2, "paused": 1}
    assert [m["id"] for m in data["stuck_messages"]] == [stuck_id]
    assert data["outbox_failed"] == {"line": 1}
    assert data["open_incidents"] == [{"kind": "no_wake", "state": "open", "count": 1}]
    assert [h["home_id"] for h in data["gap_homes"]] == [silent.id]
    assert CliRunner().invoke(cli, ["status", "--check"]).exit_code == 1
    # A longer patience makes the 40-minute-old message no longer stuck.
    patient = json.loads(CliRunner().invoke(cli, ["status", "--json", "--stuck-minutes", "60"]).output)
    assert patient["outbox_stuck"] == 0


def test_a_healthy_service_passes_the_check(db, clock, make_home) -> None:
    make_home(last_reading_at=clock.now() - timedelta(minutes=70))
    result = CliRunner().invoke(cli, ["status", "--check"])
    assert result.exit_code == 0, result.output


def test_status_shows_areas_whose_forecast_is_missing(db, clock, make_home) -> None:
    make_home(address="大阪府大阪市北区")
    data = json.loads(CliRunner().invoke(cli, ["status", "--json"]).output)
    assert data["weather_gaps"] == [{"office": "270000", "homes": 1, "reason": "missing", "issued_at": None}]
    assert "office 270000  missing" in CliRunner().invoke(cli, ["status"]).output
