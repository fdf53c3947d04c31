"""The core services the bot's flows use, without LINE: validation and limits."""

from __future__ import annotations

from datetime import date, time

import pytest

from core import pauses, validate
from core.errors import ValidationError
from core.models import Home


@pytest.mark.parametrize(("typed", "e164"), [
    ("090-1234-5678", "+819012345678"), ("０９０１２３４５６７８", "+819012345678"),
    ("+81 90 1234 5678", "+819012345678"), ("03-1234-5678", "+81312345678"),
])
def test_japanese_phones_become_e164(typed: str, e164: str) -> None:
    assert validate.phone_e164(typed) == e164


@pytest.mark.parametrize("typed", ["12345", "abc", "0120-123-456", "00012345678", "", "090-1234-56789"])
def test_things_that_are_not_phones_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate.phone_e164(typed)
    assert err.value.code == "phone.invalid"


@pytest.mark.parametrize(("typed", "value"), [
    ("7:30", time(7, 30)), ("０７：００", time(7, 0)), ("23:59", time(23, 59)),
])
def test_times(typed: str, value: time) -> None:
    assert validate.local_time(typed) == value


@pytest.mark.parametrize("typed", ["25:00", "12:60", "7", "noon", "-1:00"])
def test_impossible_times_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError):
        validate.local_time(typed)


def test_names_lose_control_characters_and_keep_markup_as_text() -> None:
    assert validate.name("お父\u200bさん\x00") == "お父さん"
    assert validate.name('<script>{"type":"flex"}') == '<script>{"type":"flex"}'
    with pytest.raises(ValidationError):
        validate.name("あ" * 51)


@pytest.mark.parametrize(("first", "last", "code"), [
    (date(2026, 5, 31), date(2026, 6, 2), "pause.in_past"),
    (date(2026, 6, 10), date(2026, 6, 9), "pause.end_before_start"),
    (date(2026, 6, 10), date(2026, 9, 10), "pause.too_long"),
    (date(2028, 1, 1), date(2028, 1, 2), "pause.too_far"),
])
def test_absurd_trips_are_refused(clock, first: date, last: date, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        pauses.check_trip(Home(timezone="Asia/Tokyo"), first, last)
    assert err.value.code == code
