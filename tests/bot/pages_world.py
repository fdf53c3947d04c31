"""A small world for the page tests: two buildings, two homes, their watchers, alerts with history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from core import links
from core.db import session_scope
from core.enums import AttemptState, Channel, CloseReason, IncidentKind
from core.escalation.kinds import StepKind
from core.incidents import acknowledge, close, open_incident
from core.models import Building, EscalationAttempt, Home, Incident
from tests.core.reports.helpers import active_day, put_day
from tests.factories import make_home, make_watcher

YESTERDAY = date(2026, 5, 31)  # the clock fixture stands at 2026-06-01 09:00 JST


@dataclass
class World:
    home_a: int
    home_b: int
    watcher_a: int
    watcher_b: int
    building_a: int
    building_b: int
    incident_a: int
    incident_b: int

    def page(self, page: str, **claims: object) -> str:
        return f"/p/{page}/{links.sign('page:' + page, **claims)}"

    def graph(self, home: int, day: date = YESTERDAY, **claims: object) -> str:
        return f"/graphs/{links.sign('graph', h=home, d=day.isoformat(), **claims)}.png"


def _building(name: str, group: str) -> int:
    with session_scope() as s:
        b = Building(name=name, line_group_id=group)
        s.add(b)
        s.flush()
        return b.id


def _incident(home_id: int, watcher_id: int, acked_by: str) -> int:
    with session_scope() as s:
        home = s.get(Home, home_id)
        inc = open_incident(s, home, IncidentKind.INACTIVITY, window_start=datetime(2026, 5, 31, 20, 0, tzinfo=UTC),
                            evidence={})
        assert inc is not None
        start = datetime(2026, 5, 31, 22, 0, tzinfo=UTC)
        s.add_all([
            EscalationAttempt(incident_id=inc.id, step_index=0, step_kind=StepKind.CONTACT_RESIDENT, attempt_no=1,
                              channel=Channel.VOICE, target="+819012345678", state=AttemptState.NO_ANSWER,
                              due_at=start, started_at=start, finished_at=start + timedelta(minutes=1)),
            EscalationAttempt(incident_id=inc.id, step_index=1, step_kind=StepKind.ALERT_FAMILY, attempt_no=1,
                              channel=Channel.LINE, target="Uxxxx", watcher_id=watcher_id,
                              state=AttemptState.SUCCEEDED, due_at=start + timedelta(minutes=10),
                              started_at=start + timedelta(minutes=10)),
        ])
        s.flush()
    with session_scope() as s:
        inc = s.get(Incident, inc.id)
        acknowledge(s, inc, acked_by, "line", watcher_id=watcher_id)
        close(s, inc, CloseReason.SAFE, f"line:{watcher_id}")
        return inc.id


def build_world() -> World:
    building_a = _building("Aハイツ", "C" + "a" * 32)
    building_b = _building("Bコーポ", "C" + "b" * 32)
    home_a = make_home(resident_name="<script>alert(1)</script>", building_id=building_a, unit_label="101")
    home_b = make_home(resident_name="山田花子", building_id=building_b, unit_label="202")
    watcher_a = make_watcher(home_a, relation_label="お父さん", owner=True)
    watcher_b = make_watcher(home_b, language="en")
    for d in range(3):
        put_day(home_a.id, YESTERDAY - timedelta(days=d), active_day())
    incident_a = _incident(home_a.id, watcher_a.id, "<b>長男</b>")
    incident_b = _incident(home_b.id, watcher_b.id, "daughter")
    return World(home_a.id, home_b.id, watcher_a.id, watcher_b.id, building_a, building_b, incident_a, incident_b)
