"""The resident's "I'm fine": SMS safety-check links and LINE "OK" replies.

SMS links carry a token derived at send time from a random nonce and the server key
(HMAC), so the database holds only its SHA-256 and a database copy alone cannot confirm.
Tokens expire and work once. Opening the link changes nothing but ``opened_at``: link
scanners and chat previews open links too, so only the page's POST confirms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.enums import EMERGENCY_KINDS, AttemptState
from core.errors import AccessDenied
from core.escalation.attempts import advance
from core.models import CheckinToken, EscalationAttempt, Incident, Resident
from core.settings import Settings, get_settings

OK_WORDS = frozenset({
    "ok", "okay", "おk", "オーケー", "おーけー", "大丈夫", "だいじょうぶ", "だいじょぶ", "ダイジョウブ",
    "はい", "はーい", "元気", "げんき", "げんきです", "平気", "へいき", "無事", "ぶじ", "問題ない", "問題なし",
    "yes", "fine", "im fine", "i'm fine", "👍", "⭕", "○", "〇",
})
_TRAILING = ("ですよ", "です", "だよ", "だ", "よ", "ね", "でーす")
_STRIP = re.compile(r"[\s、。，．,.!！?？~〜ー…☺️😊🙂]+$")


def is_ok_reply(text: str | None) -> bool:
    """True for "OK", "ok", "ＯＫ", "大丈夫", "はい", "元気" and their everyday variants."""
    if not text:
        return False
    word = unicodedata.normalize("NFKC", text).strip().lower()
    word = _STRIP.sub("", word)
    if word in OK_WORDS:
        return True
    return any(word.endswith(tail) and _STRIP.sub("", word[:-len(tail)]) in OK_WORDS for tail in _TRAILING)


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


def confirm_resident_by_line(session: Session, line_user_id: str, text: str) -> Incident | None:
    """The bot got ``text`` from ``line_user_id``: if it is an OK from a resident with an
    open emergency, close it as "resident OK" and return it; otherwise None (not ours)."""
    from core.incidents import confirm_resident

    if not is_ok_reply(text):
        return None
    resident = session.scalar(select(Resident).where(Resident.line_user_id == line_user_id))
    if resident is None:
        return None
    incident = session.scalar(
        select(Incident).where(Incident.home_id == resident.home_id, Incident.closed_at.is_(None),
                               Incident.kind.in_(EMERGENCY_KINDS)).order_by(Incident.id)
    )
    if incident is None:
        return None
    for attempt in incident.attempts:
        if attempt.step_kind == "contact_resident" and attempt.channel.value == "line":
            advance(attempt, AttemptState.SUCCEEDED, confirmed_by="line")
    if not confirm_resident(session, incident, "resident_line"):
        return None
    audit.record(session, "resident_line", "resident_confirmed", home_id=incident.home_id, incident_id=incident.id)
    return incident


__all__ = ["confirm_resident_by_line", "confirm_token", "is_ok_reply", "open_token"]
