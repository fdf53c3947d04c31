"""Jobs that end things by the clock: pauses and check-in links."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from core.db import session_scope
from core.enums import HomeStatus, IncidentKind, PauseReason
from core.expiry import expire_pauses, purge_expired_links
from core.models import CheckinToken, ConversationState, Home, Incident, OutboxMessage, Pause
from core.texts import t


def add_pause(home_id: int, starts, ends, reason=PauseReason.TRIP) -> int:
    with session_scope() as s:
        pause = Pause(home_id=home_id, starts_at=starts, ends_at=ends, reason=reason)
        s.add(pause)
        s.flush()
        return pause.id


def status_of(home_id: int) -> HomeStatus:
    with session_scope() as s:
        return s.get(Home, home_id).status


def test_a_trip_ending_resumes_watching_and_tells_the_family_once(db, clock, make_home, make_watcher) -> None:
    home = make_home(status=HomeStatus.PAUSED)
    son = make_watcher(home, relation_label="お父さん")
    english = make_watcher(home, language="en", relation_label="Dad")
    now = clock.now()
    add_pause(home.id, now - timedelta(days=3), now - timedelta(minutes=10))

    with session_scope() as s:
        assert expire_pauses(s, now) == 1
    with session_scope() as s:
        assert expire_pauses(s, now) == 0  # nothing more the second time
        sent = {m.recipient: m.payload["messages"][0]["text"] for m in s.scalars(select(OutboxMessage))}
    assert status_of(home.id) == HomeStatus.ACTIVE
    assert sent == {
        son.line_user_id: t("ops.watching_resumed", "ja", who="お父さん"),
        english.line_user_id: t("ops.watching_resumed", "en", who="Dad"),
    }


def test_sleeping_in_ends_quietly(db, clock, make_home, make_watcher) -> None:
    home = make_home(status=HomeStatus.PAUSED)
    make_watcher(home)
    now = clock.now()
    add_pause(home.id, now - timedelta(hours=8), now - timedelta(minutes=1), PauseReason.SLEEP_IN)
    with session_scope() as s:
        expire_pauses(s, now)
        assert s.scalars(select(OutboxMessage)).all() == []
    assert status_of(home.id) == HomeStatus.ACTIVE


def test_a_pause_that_begins_pauses_the_home(db, clock, make_home) -> None:
    home = make_home()
    now = clock.now()
    add_pause(home.id, now + timedelta(hours=1), now + timedelta(days=2))
    with session_scope() as s:
        assert expire_pauses(s, now) == 0
    clock.advance(hours=1)
    with session_scope() as s:
        assert expire_pauses(s, clock.now()) == 1
    assert status_of(home.id) == HomeStatus.PAUSED


def test_a_home_paused_without_pause_rows_is_left_alone(db, clock, make_home) -> None:
    home = make_home(status=HomeStatus.PAUSED)
    with session_scope() as s:
        assert expire_pauses(s, clock.now()) == 0
    assert status_of(home.id) == HomeStatus.PAUSED


def test_expired_links_go_after_a_week_and_idle_chats_at_once(db, clock, make_home) -> None:
    home = make_home()
    now = clock.now()
    with session_scope() as s:
        incident = Incident(home_id=home.id, kind=IncidentKind.NO_WAKE, window_start=now, detected_at=now)
        s.add(incident)
        s.flush()
        for name, expires in (("old", now - timedelta(days=8)), ("recent", now - timedelta(days=1)),
                              ("live", now + timedelta(minutes=30))):
            s.add(CheckinToken(token_hash=hashlib.sha256(name.encode()).hexdigest(), incident_id=incident.id,
                               expires_at=expires))
        s.add(ConversationState(chat_id="Uidle", flow="register", step="name", expires_at=now - timedelta(minutes=1)))
        s.add(ConversationState(chat_id="Ubusy", flow="register", step="name", expires_at=now + timedelta(minutes=9)))
    with session_scope() as s:
        counts = purge_expired_links(s, now)
        left = {h for h in s.scalars(select(CheckinToken.token_hash))}
        chats = set(s.scalars(select(ConversationState.chat_id)))
    assert counts == {"checkin_tokens": 1, "invites": 0, "conversations": 1}
    assert hashlib.sha256(b"old").hexdigest() not in left and len(left) == 2
    assert chats == {"Ubusy"}


def test_a_trip_ending_at_midnight_is_told_in_the_morning(db, clock, make_home, make_watcher) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    tokyo = ZoneInfo("Asia/Tokyo")
    home = make_home(status=HomeStatus.PAUSED)
    make_watcher(home)
    midnight = datetime(2026, 6, 5, 0, 0, tzinfo=tokyo)
    clock.set(midnight + timedelta(minutes=1))
    add_pause(home.id, midnight - timedelta(days=4), midnight)
    with session_scope() as s:
        expire_pauses(s, clock.now())
        (notice,) = s.scalars(select(OutboxMessage)).all()
    assert notice.next_attempt_at == datetime(2026, 6, 5, 8, 0, tzinfo=tokyo).astimezone(UTC)
