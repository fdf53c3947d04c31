"""A retried call adopts only a call provably its own; the next call to a number waits until
the previous one is settled; a crashed worker's claims are free at once, a live one's never.

Through the real path: the engine writes the rows, the dispatcher sends them with the twilio
client to the local fake Twilio, callbacks come back signed to the web app.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from bot.dev.twilio_emulator import deliver
from core import claims
from core.db import make_engine, session_scope
from core.enums import Channel, OutboxState
from core.escalation import dispatcher, engine, faults, outbox_claims
from core.escalation.channels.base import retry_uuid
from core.models import OutboxMessage
from tests.core.escalation.conftest import open_emergency


def _voice_rows() -> list[OutboxMessage]:
    with session_scope() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.VOICE)
                              .order_by(OutboxMessage.id)))
        s.expunge_all()
        return rows


def _attempt_of(call) -> int:
    return int(parse_qs(urlparse(call.status_callback).query)["attempt"][0])


def _calls_per_row(fake_twilio) -> dict[int, int]:
    """How many calls Twilio placed for each voice row (the row named by its callback URL)."""
    by_attempt = {r.attempt_id: r.id for r in _voice_rows()}
    counts = dict.fromkeys(by_attempt.values(), 0)
    for call in fake_twilio.calls:
        counts[by_attempt[_attempt_of(call)]] += 1
    return counts


def _crash_at(point: str) -> None:
    faults.arm(point)
    with contextlib.suppress(faults.SimulatedCrash):
        dispatcher.dispatch_due()
    faults.disarm()


def test_a_crashed_first_call_is_placed_not_mistaken_for_the_second(make_home, make_watcher, clock, fake_twilio):
    """The issue's loss: call 1's worker dies before sending; call 2 falls due. Call 2 waits for
    call 1 to settle, call 1's retry finds nothing of its own and calls: one call each."""
    home = make_home()
    make_watcher(home)
    open_emergency(home)
    engine.tick()
    _crash_at("dispatch.before_send")  # call 1 now in doubt, nothing placed
    clock.advance(minutes=10)
    engine.tick()  # call 2's row
    assert len(_voice_rows()) == 2
    dispatcher.dispatch_due()
    assert _calls_per_row(fake_twilio) == {r.id: 1 for r in _voice_rows()}
    assert {r.state for r in _voice_rows()} == {OutboxState.SENT}
    assert len({r.provider_id for r in _voice_rows()}) == 2


def test_the_next_call_to_a_number_waits_while_the_previous_is_in_doubt(make_home, make_watcher, clock,
                                                                      fake_twilio):
    home = make_home()
    make_watcher(home)
    open_emergency(home)
    engine.tick()
    _crash_at("dispatch.after_send")  # call 1 placed, never recorded
    clock.advance(minutes=10)
    engine.tick()
    first, second = _voice_rows()
    with session_scope() as s:
        jobs = outbox_claims.claim(s, 10, claims.holder())
    try:
        assert [j.row_id for j in jobs] == [first.id]  # the second is not even offered
        assert jobs[0].message.maybe_sent_before
    finally:
        claims.holder().release(k for j in jobs for k in j.keys)  # as if that worker died
    clock.advance(dispatcher.LEASE)  # (SQLite also leases a claimed row)
    dispatcher.dispatch_due()
    assert _calls_per_row(fake_twilio) == {first.id: 1, second.id: 1}  # call 1 adopted, call 2 placed


def test_a_lookup_never_adopts_a_call_another_row_recorded(make_home, make_watcher, clock, fake_twilio):
    """Twilio's times are whole seconds, so a retry's window reaches a little before its first
    try: a call in that margin whose SID a settled row recorded is never taken for its own."""
    home = make_home()
    make_watcher(home)
    open_emergency(home)
    engine.tick()
    dispatcher.dispatch_due()  # call 1 placed and recorded
    clock.advance(minutes=10)
    engine.tick()
    first, second = _voice_rows()
    with session_scope() as s:  # call 2's first try "began" in call 1's second, then died unsent
        row = s.get(OutboxMessage, second.id)
        row.attempts, row.in_doubt_since = 1, fake_twilio.calls[0].created_at + timedelta(seconds=0.4)
    dispatcher.dispatch_due()
    assert _calls_per_row(fake_twilio) == {first.id: 1, second.id: 1}
    assert _voice_rows()[1].provider_id == fake_twilio.calls[1].sid


def test_a_callback_with_its_token_binds_the_call_and_a_wrong_token_is_ignored(make_home, make_watcher, clock,
                                                                               fake_twilio, web):
    home = make_home()
    make_watcher(home)
    open_emergency(home)
    engine.tick()
    _crash_at("dispatch.after_send")
    (row,) = _voice_rows()
    call = fake_twilio.calls[0]
    assert parse_qs(urlparse(call.status_callback).query)["o"] == [retry_uuid(row.idempotency_key)]
    url, form, _headers = fake_twilio.callbacks(call.sid, "no_answer")[0]
    forged = url.replace("o=", "o=0")
    from twilio.request_validator import RequestValidator

    signed = {"X-Twilio-Signature": RequestValidator(fake_twilio.auth_token).compute_signature(forged, form)}
    assert deliver(forged, form, signed) == 204
    assert _voice_rows()[0].provider_id is None  # another message's token: not this row's call
    assert deliver(*fake_twilio.callbacks(call.sid, "no_answer")[0]) == 204
    assert _voice_rows()[0].provider_id == call.sid
    fake_twilio.fail_next(500, 500, 500)  # a lookup would fail: the bound SID needs none
    clock.advance(dispatcher.LEASE)
    dispatcher.dispatch_due()
    (row,) = _voice_rows()
    assert row.state is OutboxState.SENT and row.provider_id == call.sid and len(fake_twilio.calls) == 1


def _other_worker(database_url: str) -> claims.ClaimHolder:
    return claims.ClaimHolder(make_engine(database_url, poolclass=NullPool))


def _claimed_by_another_worker(database_url, make_home, make_watcher,
                               homes: int = 1) -> tuple[claims.ClaimHolder, list]:
    """Each senior's first call, claimed by another worker process (its own database session)."""
    from core.db import is_postgres

    if not is_postgres(claims.holder().engine):
        pytest.skip("claims that end with the session are PostgreSQL's (SQLite runs one process)")
    for i in range(homes):
        home = make_home(phone=f"+8190123456{78 + i}")
        make_watcher(home)
        open_emergency(home)
    engine.tick()
    other = _other_worker(database_url)
    with session_scope() as s:
        return other, outbox_claims.claim(s, 10, other)


def test_a_killed_workers_rows_are_taken_at_once_and_a_live_ones_never(database_url, make_home, make_watcher,
                                                                      clock, fake_twilio, fake_line):
    other, jobs = _claimed_by_another_worker(database_url, make_home, make_watcher)
    assert len(jobs) == 1
    clock.advance(hours=1)  # however slow the other worker is, its claim holds
    assert dispatcher.dispatch_due() == 0 and not fake_twilio.calls
    other.close()  # the other worker dies: its session ends
    other.engine.dispose()
    assert dispatcher.dispatch_due() == 1  # at once, no lease to wait out
    assert len(fake_twilio.calls) == 1


def test_a_call_still_in_flight_when_its_worker_died_is_waited_for_then_adopted(database_url, make_home,
                                                                               make_watcher, clock, fake_twilio):
    """The provider may create a dead worker's call after the worker is gone: its retry waits
    IN_FLIGHT (well inside the 15 s take-over), then finds that call and adopts it."""
    from core.settings import get_settings

    other, jobs = _claimed_by_another_worker(database_url, make_home, make_watcher)
    settings = get_settings()
    dispatcher._send(jobs[0], dispatcher.channels_for(settings), settings, postgres=True)  # reaches Twilio...
    other.close()  # ...and its worker dies before recording it
    other.engine.dispose()
    assert dispatcher.dispatch_due() == 0  # a try that may still be in flight is not retried at once
    clock.advance(seconds=outbox_claims.IN_FLIGHT.total_seconds())
    assert dispatcher.dispatch_due() == 1
    assert len(fake_twilio.calls) == 1  # the retry adopted the call it found: nobody is called twice
    assert outbox_claims.IN_FLIGHT.total_seconds() < 15


def test_a_killed_workers_calls_not_yet_begun_go_out_at_once_and_only_the_one_in_flight_waits(
        database_url, make_home, make_watcher, clock, fake_twilio):
    """A worker dies while placing the first of its batch: the second, never begun, is not in
    doubt and is placed at once with no lookup; only the first waits IN_FLIGHT, then is adopted."""
    from core.settings import get_settings

    other, jobs = _claimed_by_another_worker(database_url, make_home, make_watcher, homes=2)
    assert len(jobs) == 2
    settings = get_settings()
    dispatcher._send(jobs[0], dispatcher.channels_for(settings), settings, postgres=True)
    other.close()
    other.engine.dispose()
    begun, not_begun = (next(r for r in _voice_rows() if r.id == j.row_id) for j in jobs)
    assert begun.in_doubt_since is not None and not_begun.in_doubt_since is None
    assert dispatcher.dispatch_due() == 1  # the call never begun, at once
    assert len(fake_twilio.calls) == 2
    clock.advance(seconds=outbox_claims.IN_FLIGHT.total_seconds())
    assert dispatcher.dispatch_due() == 1  # the one in flight: found and adopted
    assert len(fake_twilio.calls) == 2
    assert {r.state for r in _voice_rows()} == {OutboxState.SENT}
    assert len({r.provider_id for r in _voice_rows()}) == 2

