"""Japanese phone numbers through libphonenumber (``phonenumbers``): what kind, and how shown.

Stored as E.164 (``+819012345678``), shown the way Japanese people write them
(``090-1234-5678``, ``06-1234-5678``). Only a mobile takes SMS: a fixed line (03-…, 06-…)
is refused for SMS when the number is given, not when the first SMS fails.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

from core.errors import ValidationError


@cache
def _kinds() -> dict[int, str]:
    from phonenumbers import PhoneNumberType

    return {
        PhoneNumberType.MOBILE: "mobile",
        PhoneNumberType.FIXED_LINE: "fixed",
        PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed",
        PhoneNumberType.VOIP: "ip",  # 050-…: calls work, SMS does not
    }


@dataclass(frozen=True)
class Phone:
    e164: str
    kind: str  # "mobile", "fixed" or "ip"

    @property
    def takes_sms(self) -> bool:
        return self.kind == "mobile"


def parse(text: str | None) -> Phone:
    """A phone the senior can be called on (mobile, fixed line or 050); ``phone.invalid`` else.

    Toll-free, premium and shared-cost numbers are refused: nobody answers them at home.
    (libphonenumber is imported on first use: it takes a while, and most processes never ask.)
    """
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat

    raw = unicodedata.normalize("NFKC", text or "").replace("ー", "-").strip()
    if not raw or len(raw) > 30:
        raise ValidationError("phone.invalid")
    try:
        number = phonenumbers.parse(raw, "JP")
    except NumberParseException:
        raise ValidationError("phone.invalid") from None
    if number.country_code != 81 or not phonenumbers.is_valid_number(number):
        raise ValidationError("phone.invalid")
    kind = _kinds().get(phonenumbers.number_type(number))
    if kind is None:
        raise ValidationError("phone.invalid")
    return Phone(phonenumbers.format_number(number, PhoneNumberFormat.E164), kind)


def for_sms(text: str | None) -> Phone:
    """A number SMS can reach: a mobile (``phone.not_mobile`` for a fixed line)."""
    phone = parse(text)
    if not phone.takes_sms:
        raise ValidationError("phone.not_mobile")
    return phone


def display(e164: str | None) -> str:
    """``+819012345678`` → ``090-1234-5678`` (as written in Japan); anything unreadable as is."""
    if not e164:
        return ""
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat

    try:
        number = phonenumbers.parse(e164, "JP")
    except NumberParseException:
        return e164
    if number.country_code != 81:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
