"""Fault injection: kill the escalation at every step boundary — in the engine before and
after its commit, in the dispatcher before the send, after the send before the commit,
and after the commit — at every occurrence, then restart it (later, as a real restart
would be). Every message must be delivered exactly once and no step skipped: the audit
trail of steps equals the run without faults. Runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.enums import OutboxState
from core.escalation import dispatcher, engine, faults
from core.incidents import acknowledge
from core.models import AuditLog, Incident, OutboxMessage
from tests.conftest import _wipe
from tests.core.escalation.conftest import add_building, open_emergency
from tests.factories import make_home, make_watcher

RESTART_AFTER = dispatcher.LEASE + timedelta(seconds=1)


def _drive(clock) -> None:
    """Run the engine and dispatcher until quiet; a crash means "restart a little later"."""
    for _ in range(200):
        try:
            stepped = engine.tick()
            sent = dispatcher.dispatch_due()
        except faults.SimulatedCrash:
            clock.advance(RESTART_AFTER)
            continue
        if not stepped and not sent:
            return
    raise AssertionError("escalation did not settle")


def _scenario(clock) -> dict:
    home = make_home(resident_name="佐藤", phone="+819055556666")
    add_building(home, "Cgroup-fault")
    first = make_watcher(home, order=1)
    second = make_watcher(home, order=2)
    incident_id = open_emergency(home)
    _drive(clock)
    for wait in (10, 10, 10, 15, 15):  # two more calls, the family one by one, the landlord group
        clock.advance(minutes=wait)
        _drive(clock)
    with session_scope() as s:
        assert acknowledge(s, s.get(Incident, incident_id), "長男", "line", watcher_id=first.id)
    _drive(clock)
    clock.advance(hours=2)
    _drive(clock)
    return {"first": first.line_user_id, "second": second.line_user_id, "group": "Cgroup-fault"}


def _observed(fake_line, fake_twilio, who: dict) -> dict:
    with session_scope() as s:
        steps = [(d["step"], d["result"]) for d in
                 s.scalars(select(AuditLog.detail).where(AuditLog.action == "step_run").order_by(AuditLog.id))]
        states = Counter(r.state for r in s.scalars(select(OutboxMessage)))
    keys = [c.retry_key for c in fake_line.state.calls]
    assert len(keys) == len(set(keys))
    return {
        "calls": [c.to for c in fake_twilio.calls],
        "line": {name: len(fake_line.state.messages_to(chat)) for name, chat in who.items()},
        "steps": steps,
        "outbox": states,
    }


def _reset(db, fake_line, fake_twilio) -> None:
    _wipe(db)
    fake_line.state.reset()
    fake_twilio.calls.clear()
    fake_twilio.messages.clear()


def _baseline(db, clock, fake_line, fake_twilio) -> tuple[dict, Counter]:
    start = clock.now()
    faults.count(True)
    who = _scenario(clock)
    reached = Counter(faults.reached)
    faults.disarm()
    expected = _observed(fake_line, fake_twilio, who)
    assert expected["calls"] == ["+819055556666"] * 3
    assert expected["line"] == {"first": 1, "second": 2, "group": 2}  # alert (+ "長男さんが対応") each
    assert set(expected["outbox"]) == {OutboxState.SENT}
    _reset(db, fake_line, fake_twilio)
    clock.set(start)
    return expected, reached


def _crash_everywhere(point: str, db, clock, fake_line, fake_twilio) -> None:
    expected, reached = _baseline(db, clock, fake_line, fake_twilio)
    assert reached[point] > 0
    start = clock.now()
    for occurrence in range(reached[point]):
        faults.arm(point, skip=occurrence)
        who = _scenario(clock)
        faults.disarm()
        got = _observed(fake_line, fake_twilio, who)
        assert got == expected, f"crash at {point} #{occurrence}"
        _reset(db, fake_line, fake_twilio)
        clock.set(start)


@pytest.fixture
def chain(db, clock, fake_line, fake_twilio):
    return db, clock, fake_line, fake_twilio


def test_fault_engine_crash_before_commit(chain) -> None:
    _crash_everywhere("engine.before_commit", *chain)


def test_fault_engine_crash_after_commit(chain) -> None:
    _crash_everywhere("engine.after_commit", *chain)


def test_fault_dispatch_crash_before_send(chain) -> None:
    _crash_everywhere("dispatch.before_send", *chain)


def test_fault_dispatch_crash_after_send_before_commit(chain) -> None:
    _crash_everywhere("dispatch.after_send", *chain)


def test_fault_dispatch_crash_after_commit(chain) -> None:
    _crash_everywhere("dispatch.after_commit", *chain)


def test_fault_a_retried_second_call_is_not_mistaken_for_the_first(db, clock, fake_line, fake_twilio) -> None:
    """Twilio filters calls by day: the lookup before a retry must not take the first
    attempt's call (same number, same day) for the second's."""
    home = make_home()
    make_watcher(home)
    open_emergency(home)
    _drive(clock)
    clock.advance(minutes=10)
    engine.tick()
    faults.arm("dispatch.before_send")
    with pytest.raises(faults.SimulatedCrash):
        dispatcher.dispatch_due()
    clock.advance(RESTART_AFTER)
    dispatcher.dispatch_due()
    assert len(fake_twilio.calls) == 2
