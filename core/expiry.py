"""Things that end by the clock: pauses, check-in links, invites, idle conversations.

The scheduler calls these every few minutes. Each is idempotent (running twice changes
nothing more) and returns how many rows it touched, for the job's log line.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from core import audit
from core.enums import Channel, HomeStatus, PauseReason
from core.models import CheckinToken, ConversationState, Home, HomeWatcher, Invite, Pause, Resident, Watcher
from core.outbox import enqueue
from core.texts import t

# Pauses whose end is worth a message: a trip or an operator pause, not "sleeping in".
NOTIFY_RESUME = frozenset({PauseReason.TRIP, PauseReason.MANUAL})
# Expired links stay a week so the page can say "this link has expired" instead of "unknown".
EXPIRED_LINK_KEEP = timedelta(days=7)
# A just-ended pause is told about; one that ended long ago (clock was down for days) is not.
RESUME_NOTICE_WITHIN = timedelta(days=1)
# Notices that can wait are not pushed at night.
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)


def _pause_in_force(now: datetime):  # type: ignore[no-untyped-def]
    return exists().where(
        Pause.home_id == Home.id, Pause.cancelled_at.is_(None), Pause.starts_at <= now, Pause.ends_at > now
    )


def expire_pauses(session: Session, now: datetime) -> int:
    """Home status follows its pauses: PAUSED while one is in force, ACTIVE again after.

    Only homes that have pause rows are touched (a home paused some other way stays).
    Watchers hear "watching resumed" when a trip ends.
    """
    in_force = _pause_in_force(now)
    has_pause = exists().where(Pause.home_id == Home.id)
    changed = 0
    for home in session.scalars(select(Home).where(Home.status == HomeStatus.ACTIVE, in_force)):
        home.status = HomeStatus.PAUSED
        audit.record(session, "scheduler", "pause_started", home_id=home.id)
        changed += 1
    for home in session.scalars(select(Home).where(Home.status == HomeStatus.PAUSED, ~in_force, has_pause)):
        home.status = HomeStatus.ACTIVE
        ended = session.scalars(
            select(Pause)
            .where(Pause.home_id == home.id, Pause.cancelled_at.is_(None), Pause.ends_at <= now)
            .order_by(Pause.ends_at.desc())
            .limit(1)
        ).first()
        audit.record(session, "scheduler", "pause_ended", home_id=home.id, pause_id=ended.id if ended else None)
        if ended is not None and ended.reason in NOTIFY_RESUME and now - ended.ends_at <= RESUME_NOTICE_WITHIN:
            tell_watchers(session, home, "ops.watching_resumed", key=f"pause_end:{ended.id}",
                          not_before=polite_time(now, home.tz))
        changed += 1
    return changed


def purge_expired_links(session: Session, now: datetime) -> dict[str, int]:
    """Delete check-in links and invites a week past expiry, and conversations left idle."""
    cutoff = now - EXPIRED_LINK_KEEP
    tokens = session.execute(delete(CheckinToken).where(CheckinToken.expires_at < cutoff)).rowcount
    invites = session.execute(delete(Invite).where(Invite.expires_at < cutoff)).rowcount
    chats = session.execute(delete(ConversationState).where(ConversationState.expires_at < now)).rowcount
    return {"checkin_tokens": tokens or 0, "invites": invites or 0, "conversations": chats or 0}


def polite_time(now: datetime, tz: ZoneInfo) -> datetime:
    """``now``, or 08:00 local if ``now`` is at night: a trip ends at midnight, the family sleeps."""
    local = now.astimezone(tz)
    if local.time() >= QUIET_FROM or local.time() < QUIET_UNTIL:
        day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
        return datetime.combine(day, QUIET_UNTIL, tzinfo=tz).astimezone(UTC)
    return now


def tell_watchers(session: Session, home: Home, text_key: str, *, key: str, not_before: datetime | None = None) -> int:
    """Enqueue one short notice to each of the home's watchers (LINE if followed, else email)."""
    rows = session.execute(
        select(Watcher, HomeWatcher.relation_label)
        .join(HomeWatcher, HomeWatcher.watcher_id == Watcher.id)
        .where(HomeWatcher.home_id == home.id, Watcher.deleted_at.is_(None))
    ).all()
    resident_name = session.scalar(select(Resident.display_name).where(Resident.home_id == home.id))
    sent = 0
    for watcher, label in rows:
        lang = watcher.language
        who = label or (t("ops.resident_san", lang, name=resident_name) if resident_name else t("ops.someone", lang))
        text = t(text_key, lang, who=who)
        if watcher.line_user_id and watcher.following:
            enqueue(session, channel=Channel.LINE, recipient=watcher.line_user_id,
                    payload={"messages": [{"type": "text", "text": text}]}, key=f"{key}:{watcher.id}",
                    home_id=home.id, not_before=not_before)
        elif watcher.email:
            enqueue(session, channel=Channel.EMAIL, recipient=watcher.email,
                    payload={"subject": t("common.service_name", lang), "text": text, "html": None},
                    key=f"{key}:{watcher.id}", home_id=home.id, not_before=not_before)
        else:
            continue
        sent += 1
    return sent

