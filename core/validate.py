"""Small validators for what people type into the bot: names, phones, times, dates.

Each returns the cleaned value or raises :class:`core.errors.ValidationError` with a code
whose sentence lives in the text catalog (``bot.error.<code>``), so flows can ask again.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time

from core.errors import ValidationError

MAX_NAME = 50
MAX_FREE_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_PHONE_DOMESTIC = re.compile(r"0\d{9,10}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
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
    """A Japanese phone number as typed (090-1234-5678, ０９０…, +81…) → ``+819012345678``."""
    raw = unicodedata.normalize("NFKC", text or "")
    digits = re.sub(r"[\s\-()‐ー]", "", raw)
    if digits.startswith("+81"):
        digits = "0" + digits[3:]
    if not digits.isascii() or not _PHONE_DOMESTIC.fullmatch(digits):
        raise ValidationError("phone.invalid")
    if digits.startswith(("0120", "0800", "0570", "0990")) or digits[1] == "0":
        raise ValidationError("phone.invalid")
    return "+81" + digits[1:]


def email(text: str | None) -> str:
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not EMAIL.fullmatch(value):
        raise ValidationError("email.invalid")
    return value


def local_time(text: str | None) -> time:
    """``"07:30"`` (as LINE's time picker sends it, or typed) → a time; 25:00 is refused."""
    match = _TIME.fullmatch(unicodedata.normalize("NFKC", text or "").strip())
    if not match:
        raise ValidationError("time.invalid")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValidationError("time.invalid")
    return time(hour, minute)


def local_date(text: str | None) -> date:
    """``"2026-06-10"`` (LINE's date picker) → a date; impossible dates are refused."""
    try:
        return date.fromisoformat(unicodedata.normalize("NFKC", text or "").strip())
    except ValueError:
        raise ValidationError("date.invalid") from None
