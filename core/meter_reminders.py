"""A home registered without its meter numbers is reminded about once, a day later.

Once means once: the reminder's idempotency key names the home, so neither a second run nor
a restarted clock sends it again, and the audit row says when it went. It is a push (the
family did not ask), so it goes only to the watcher who registered the home.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, links, outbox
from core.enums import Channel, HomeStatus
from core.models import Home, HomeWatcher, OutboxMessage
from core.names import resident_name
from core.texts import t

AFTER = timedelta(days=1)


def key(home_id: int) -> str:
    return f"meter_reminder:{home_id}"


def remind_missing_meters(session: Session, now: datetime) -> int:
    """Remind the owner of each home waiting a day or more for its meter numbers; returns how many."""
    waiting = session.scalars(
        select(Home).where(Home.status == HomeStatus.AWAITING_METER, Home.created_at <= now - AFTER).order_by(Home.id)
    ).all()
    sent = 0
    for home in waiting:
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key(home.id))):
            continue
        owner = session.scalar(select(HomeWatcher).where(HomeWatcher.home_id == home.id, HomeWatcher.is_owner))
        watcher = owner.watcher if owner else None
        if watcher is None or not watcher.line_user_id or not watcher.following:
            continue
        name = resident_name(home, watcher.language, owner.relation_label if owner else None)
        url = links.home_form_url(h=home.id, w=watcher.id)
        text = t("bot.meter.reminder", watcher.language, name=name, url=url)
        outbox.enqueue(session, channel=Channel.LINE, recipient=watcher.line_user_id,
                       payload={"messages": [{"type": "text", "text": text}]}, key=key(home.id), home_id=home.id)
        audit.record(session, "system:meter_reminder", "meter_reminder_sent", home_id=home.id)
        sent += 1
    return sent
