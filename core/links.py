"""Signed, expiring links: graph images, watcher pages, email acknowledgements.

A link carries what it was issued for (purpose and ids) signed with the secret key;
it opens only that, and only until it expires. Tampered or expired links are refused
by :func:`verify` with :class:`core.errors.AccessDenied`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from core import clock
from core.errors import AccessDenied
from core.settings import Settings, get_settings

GRAPH_TTL = 7 * 24 * 3600
PAGE_TTL = 24 * 3600


class _ClockSigner(TimestampSigner):
    """itsdangerous asks time.time(); ask core.clock instead so tests can travel in time."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(settings: Settings | None = None) -> URLSafeTimedSerializer:
    settings = settings or get_settings()
    return URLSafeTimedSerializer(settings.secret_key, salt="mimamori-links", signer=_ClockSigner)


def sign(purpose: str, settings: Settings | None = None, **claims: Any) -> str:
    """A token saying "this is a ``purpose`` link for ``claims``"."""
    return _serializer(settings).dumps({"p": purpose, **claims})


def verify(token: str, purpose: str, max_age: int, settings: Settings | None = None) -> dict[str, Any]:
    """The claims of a valid ``purpose`` token no older than ``max_age`` seconds."""
    ser = _serializer(settings)
    try:
        claims = ser.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise AccessDenied("link expired") from exc
    except BadSignature as exc:
        raise AccessDenied("link invalid") from exc
    if not isinstance(claims, dict) or claims.get("p") != purpose:
        raise AccessDenied("link is for something else")
    return {k: v for k, v in claims.items() if k != "p"}


def graph_urls(home_id: int, day: date, settings: Settings | None = None) -> tuple[str, str]:
    """(original, preview) URLs of a home's usage graph for ``day``, for LINE image messages."""
    settings = settings or get_settings()
    token = sign("graph", settings, h=home_id, d=day.isoformat())
    base = f"{settings.base_url}/graphs/{token}"
    return f"{base}.png", f"{base}.png?size=preview"


def page_url(path: str, settings: Settings | None = None, **claims: Any) -> str:
    """A signed link to a watcher page (e.g. ``page_url("incident", h=1, i=5, w=3)``)."""
    settings = settings or get_settings()
    return f"{settings.base_url}/p/{path}/{sign('page:' + path, settings, **claims)}"


HOME_FORM = "form:home"
HOME_FORM_DRAFT_TTL = 7 * 24 * 3600  # a registration draft is kept this long
HOME_FORM_EDIT_TTL = 7 * 24 * 3600  # the one meter reminder carries such a link: it must outlive a weekend


def home_form_url(settings: Settings | None = None, **claims: Any) -> str:
    """The home-details form (LIFF) for a registration draft (``c=chat``) or a home (``h=, w=``):
    through LIFF when an app is configured, else served directly (and in /dev/chat's panel)."""
    settings = settings or get_settings()
    token = sign(HOME_FORM, settings, **claims)
    if settings.liff_id:
        return f"https://liff.line.me/{settings.liff_id}?t={token}"
    return f"{settings.base_url}/liff/home?t={token}"


def qr_url(target: str, settings: Settings | None = None) -> str:
    """A PNG QR code of ``target`` served by this service (signed: not an open QR maker)."""
    settings = settings or get_settings()
    return f"{settings.base_url}/liff/qr/{sign('qr', settings, u=target)}.png"
