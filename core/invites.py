"""Invite codes: join a home as a watcher, link a resident's LINE, or link a building's group.

Codes are short enough to type (8 characters from an unambiguous alphabet), stored only
as a hash, single-use and expiring. Wrong guesses are counted per chat; after
``MAX_FAILURES`` in ``FAILURE_WINDOW`` the chat is refused for a while, which makes
guessing a code hopeless (32^8 codes, 5 tries per quarter hour).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.enums import WatcherRole
from core.errors import ValidationError
from core.models import AuditLog, Building, HomeWatcher, Invite, Watcher

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
DEFAULT_TTL = timedelta(hours=72)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
PURPOSE_WATCHER = "watcher"
PURPOSE_RESIDENT = "resident"
PURPOSE_BUILDING = "building"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize(code: str) -> str:
    return unicodedata.normalize("NFKC", code or "").replace("-", "").replace(" ", "").upper()


def create(
    session: Session,
    *,
    purpose: str,
    home_id: int | None = None,
    building_id: int | None = None,
    role: WatcherRole = WatcherRole.FAMILY,
    created_by: int | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    """A new code (returned once, in clear; only its hash is stored)."""
    if (home_id is None) == (building_id is None):
        raise ValueError("an invite is for one home or one building")
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        Invite(
            code_hash=_hash(code),
            purpose=purpose,
            home_id=home_id,
            building_id=building_id,
            role=role,
            created_by=created_by,
            expires_at=clock.now() + ttl,
        )
    )
    session.flush()
    audit.record(session, f"watcher:{created_by or '-'}", "invite_created", home_id=home_id, purpose=purpose)
    return code


def _check_rate(session: Session, chat_key: str) -> None:
    since = clock.now() - FAILURE_WINDOW
    failures = session.scalar(
        select(func.count(AuditLog.id)).where(
            AuditLog.actor == chat_key, AuditLog.action == "invite_failed", AuditLog.at >= since
        )
    )
    if (failures or 0) >= MAX_FAILURES:
        raise ValidationError("invite.rate_limited")


@dataclass(frozen=True)
class Redeemed:
    invite: Invite
    purpose: str


def redeem(session: Session, code: str, chat_key: str, *, purpose: str) -> Redeemed:
    """Use a code once. Wrong, used or expired codes raise ``invite.invalid`` (and count).

    ``chat_key`` names who tries (``line:<userId>`` or ``group:<groupId>``) for rate limiting.
    The caller commits the failure count even though the redemption failed: see
    :func:`record_failure`.
    """
    _check_rate(session, chat_key)
    cleaned = normalize(code)
    invite = None
    if len(cleaned) == CODE_LENGTH and set(cleaned) <= set(ALPHABET):
        invite = session.scalar(select(Invite).where(Invite.code_hash == _hash(cleaned)).with_for_update())
    now = clock.now()
    if invite is None or invite.used_at is not None or invite.expires_at <= now or invite.purpose != purpose:
        raise ValidationError("invite.invalid")
    invite.used_at = now
    invite.used_by = chat_key
    audit.record(session, chat_key, "invite_used", home_id=invite.home_id, invite_id=invite.id)
    return Redeemed(invite, invite.purpose)


def record_failure(session: Session, chat_key: str) -> None:
    audit.record(session, chat_key, "invite_failed")


def join_home(session: Session, code: str, watcher: Watcher) -> HomeWatcher:
    """A watcher joins the home the code was made for, last in the escalation order."""
    used = redeem(session, code, f"line:{watcher.line_user_id}", purpose=PURPOSE_WATCHER)
    return add_watcher(session, used.invite, watcher)


def add_watcher(session: Session, invite: Invite, watcher: Watcher) -> HomeWatcher:
    home_id = invite.home_id
    existing = session.scalar(
        select(HomeWatcher).where(HomeWatcher.home_id == home_id, HomeWatcher.watcher_id == watcher.id)
    )
    if existing is not None:
        return existing
    last = session.scalar(select(func.max(HomeWatcher.escalation_order)).where(HomeWatcher.home_id == home_id))
    link = HomeWatcher(home_id=home_id, watcher_id=watcher.id, role=invite.role, escalation_order=(last or 0) + 1)
    session.add(link)
    session.flush()
    audit.record(session, f"watcher:{watcher.id}", "watcher_joined", home_id=home_id)
    return link


def link_group(session: Session, code: str, group_id: str) -> Building:
    """A landlord group becomes the building's group (one group per building)."""
    used = redeem(session, code, f"group:{group_id}", purpose=PURPOSE_BUILDING)
    building = session.get(Building, used.invite.building_id)
    assert building is not None
    other = session.scalar(select(Building).where(Building.line_group_id == group_id, Building.id != building.id))
    if other is not None:
        other.line_group_id = None
    building.line_group_id = group_id
    building.group_linked_at = clock.now()
    audit.record(session, f"group:{group_id}", "building_group_linked", building_id=building.id)
    return building


def unlink_group(session: Session, group_id: str) -> Building | None:
    building = session.scalar(select(Building).where(Building.line_group_id == group_id))
    if building is not None:
        building.line_group_id = None
        building.group_linked_at = None
        audit.record(session, f"group:{group_id}", "building_group_unlinked", building_id=building.id)
    return building
