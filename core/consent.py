"""The resident's consent: recorded (who, when, how) before watching starts; withdrawn at once.

Withdrawing stops watching immediately (the home leaves ACTIVE, open incidents close as
``consent_withdrawn``) and tells the other watchers through the outbox, in the same
transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import audit, clock, names, outbox
from core.enums import Channel, CloseReason, HomeStatus
from core.errors import ValidationError
from core.incidents import close, open_incidents_of
from core.models import Home, HomeWatcher, Watcher
from core.texts import t

METHODS = ("in_person", "phone", "written")


def method(value: str | None) -> str:
    if value not in METHODS:
        raise ValidationError("consent.method")
    return value


def record(session: Session, home: Home, by: Watcher, how: str) -> None:
    """The resident agreed: store who recorded it, when and how; the home may now be watched."""
    resident = home.resident
    if resident is None:
        raise ValidationError("consent.no_resident")
    resident.consent_given_at = clock.now()
    resident.consent_method = method(how)
    resident.consent_recorded_by = by.id
    resident.consent_withdrawn_at = None
    if home.status == HomeStatus.AWAITING_CONSENT:
        # Watching starts when detection has enough history (it moves the home to ACTIVE).
        home.status = HomeStatus.AWAITING_HISTORY
    audit.record(session, f"watcher:{by.id}", "consent_recorded", home_id=home.id, method=how)


def is_given(home: Home) -> bool:
    r = home.resident
    return bool(r and r.consent_given_at and not r.consent_withdrawn_at)


def withdraw(session: Session, home: Home, actor: str, *, by_watcher_id: int | None = None) -> None:
    """Stop watching now and tell every other watcher (outbox, same transaction)."""
    resident = home.resident
    if resident is None or resident.consent_withdrawn_at is not None:
        return
    now = clock.now()
    resident.consent_withdrawn_at = now
    if home.status != HomeStatus.AWAITING_METER:
        home.status = HomeStatus.AWAITING_CONSENT
    for incident in open_incidents_of(session, home.id):
        close(session, incident, CloseReason.CONSENT_WITHDRAWN, actor)
    links = session.query(HomeWatcher).filter(HomeWatcher.home_id == home.id).all()
    for link in links:
        w = link.watcher
        if w.id == by_watcher_id or not w.line_user_id or not w.following:
            continue
        text = t("bot.consent.withdrawn_notice", w.language, name=names.as_seen_by(home, link, w.language))
        outbox.enqueue(
            session,
            channel=Channel.LINE,
            recipient=w.line_user_id,
            payload={"messages": [{"type": "text", "text": text}]},
            key=f"consent_withdrawn:{home.id}:{int(now.timestamp())}:{w.id}",
            home_id=home.id,
        )
    audit.record(session, actor, "consent_withdrawn", home_id=home.id)
