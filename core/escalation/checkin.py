"""The resident's "I'm fine" by SMS safety-check link (LINE replies: core.escalation.answers).

SMS links carry a token derived at send time from a random nonce and the server key
(HMAC), so the database holds only its SHA-256 and a database copy alone cannot confirm.
Tokens expire and work once. Opening the link changes nothing but ``opened_at``: link
scanners and chat previews open links too, so only the page's POST confirms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.enums import AttemptState
from core.errors import AccessDenied
from core.escalation.attempts import advance
from core.models import CheckinToken, EscalationAttempt, Incident
from core.settings import Settings, get_settings


def derive_token(nonce: str, settings: Settings | None = None) -> str:
    key = (settings or get_settings()).secret_key.encode()
    digest = hmac.new(key, f"checkin:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def checkin_url(token: str, settings: Settings | None = None) -> str:
    return f"{(settings or get_settings()).base_url}/checkin/{token}"


def find_token(session: Session, token: str, *, lock: bool = False) -> CheckinToken:
    """The live token row, or AccessDenied (unknown, used, expired, or its incident is over)."""
    if not token or len(token) > 128:
        raise AccessDenied("checkin token invalid")
    stmt = select(CheckinToken).where(CheckinToken.token_hash == token_hash(token))
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None:
        raise AccessDenied("checkin token invalid")
    if row.used_at is not None:
        raise AccessDenied("checkin token used")
    if row.expires_at <= clock.now():
        raise AccessDenied("checkin token expired")
    incident = session.get(Incident, row.incident_id)
    if incident is None or incident.closed_at is not None:
        raise AccessDenied("incident over")
    return row


def open_token(session: Session, token: str) -> CheckinToken:
    """The page was opened (GET): note it, confirm nothing."""
    row = find_token(session, token)
    row.opened_at = row.opened_at or clock.now()
    return row


def confirm_token(session: Session, token: str) -> Incident:
    """The resident pressed 大丈夫です (POST): use the token and close the incident."""
    from core.incidents import confirm_resident

    row = find_token(session, token, lock=True)
    row.used_at = clock.now()
    incident = session.get(Incident, row.incident_id)
    assert incident is not None
    if row.attempt_id and (attempt := session.get(EscalationAttempt, row.attempt_id)):
        advance(attempt, AttemptState.SUCCEEDED, confirmed_by="sms_link")
    confirm_resident(session, incident, "sms_link")
    return incident


__all__ = ["confirm_token", "open_token"]
