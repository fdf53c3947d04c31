"""Small validators for what people type into the bot: names, phones, times, dates.

Each returns the cleaned value or raises :class:`core.errors.ValidationError` with a code
whose sentence lives in the text catalog (``bot.error.<code>``), so flows can ask again.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time

from core import jatime, phones
from core.errors import ValidationError

MAX_NAME = 50
MAX_FREE_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_SEPARATORS = re.compile(r"[\s\-‐−–—ー]")
CUSTOMER_NUMBER_DIGITS = (6, 20)
EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}")


def clean_text(text: str | None, *, max_len: int = MAX_FREE_TEXT, code: str = "text") -> str:
    """NFKC-normalised, control characters removed, not empty, not too long."""
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFKC", text or "")).strip()
    if not cleaned:
        raise ValidationError(f"{code}.empty")
    if len(cleaned) > max_len:
        raise ValidationError(f"{code}.too_long", max=max_len)
    return cleaned


def name(text: str | None) -> str:
    """A display name such as お父さん; stored and always shown as plain text."""
    return clean_text(text, max_len=MAX_NAME, code="name")


def phone_e164(text: str | None) -> str:
    """A Japanese phone number as typed (090-1234-5678, ０９０…, +81…) → ``+819012345678``
    (libphonenumber decides what is a real number: see :mod:`core.phones`)."""
    return phones.parse(text).e164


def customer_number(text: str | None) -> str:
    """お客さま番号 as printed on the 検針票: digits (hyphens and spaces allowed), 6–20 of them.

    Anything else — a question typed into the wrong box, a name, a supply point number — is
    refused with a code whose sentence says where the number is printed.
    """
    cleaned = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "")).strip()
    if not cleaned:
        raise ValidationError("customer_number.empty")
    if not cleaned.isascii() or not cleaned.isdigit():
        raise ValidationError("customer_number.not_digits")
    if len(cleaned) == 22:
        raise ValidationError("customer_number.is_supply_point")
    if not CUSTOMER_NUMBER_DIGITS[0] <= len(cleaned) <= CUSTOMER_NUMBER_DIGITS[1]:
        raise ValidationError("customer_number.length", min=CUSTOMER_NUMBER_DIGITS[0], max=CUSTOMER_NUMBER_DIGITS[1])
    return cleaned


def postal_code(text: str | None) -> str:
    """〒 as typed (100-0001, １０００００１) → ``1000001``."""
    cleaned = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "")).replace("〒", "").strip()
    if not re.fullmatch(r"\d{7}", cleaned):
        raise ValidationError("postal.invalid")
    return cleaned


def email(text: str | None) -> str:
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not EMAIL.fullmatch(value):
        raise ValidationError("email.invalid")
    return value


def local_time(text: str | None) -> time:
    """A time as picked (``07:30``) or typed (6時半, 午前6時30分, ６：３０): see :mod:`core.jatime`."""
    return jatime.parse_time(text)


def local_date(text: str | None, today: date | None = None) -> date:
    """A date as picked (``2026-06-10``) or typed (明日, 来週の水曜日, 12/3), relative to ``today``."""
    if today is None:
        from core import clock

        today = clock.now().date()
    return jatime.parse_date(text, today)
