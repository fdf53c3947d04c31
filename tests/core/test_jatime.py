"""Times and dates as people type them, read by the one parser every flow uses."""

from __future__ import annotations

from datetime import date, time

import pytest

from core import jatime, validate
from core.errors import ValidationError

TODAY = date(2026, 11, 30)  # a Monday


@pytest.mark.parametrize(("typed", "value"), [
    ("6時半", time(6, 30)), ("午前6時30分", time(6, 30)), ("６：３０", time(6, 30)), ("7時", time(7, 0)),
    ("06:30", time(6, 30)), ("夜9時", time(21, 0)), ("午後10時", time(22, 0)), ("夜10時半", time(22, 30)),
    ("午後0時", time(12, 0)), ("正午", time(12, 0)), ("6時30", time(6, 30)), ("0630", time(6, 30)),
    ("23:59", time(23, 59)), ("0時", time(0, 0)),
])
def test_times_as_typed(typed: str, value: time) -> None:
    assert jatime.parse_time(typed) == value
    assert validate.local_time(typed) == value  # the flows' entry point reads the same


@pytest.mark.parametrize("typed", ["25:00", "12:60", "7", "noon", "-1:00", "", "あした", "6時と7時", "時"])
def test_not_times_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as err:
        jatime.parse_time(typed)
    assert err.value.code == "time.invalid"


@pytest.mark.parametrize(("typed", "value"), [
    ("今日", TODAY), ("明日", date(2026, 12, 1)), ("あした", date(2026, 12, 1)), ("明後日", date(2026, 12, 2)),
    ("来週の水曜日", date(2026, 12, 9)), ("今週の金曜日", date(2026, 12, 4)), ("水曜日", date(2026, 12, 2)),
    ("月曜", TODAY), ("再来週の月曜", date(2026, 12, 14)), ("12/3", date(2026, 12, 3)),
    ("12月3日", date(2026, 12, 3)), ("１２／２４", date(2026, 12, 24)), ("11/1", date(2027, 11, 1)),
    ("3日後", date(2026, 12, 3)), ("5日", date(2026, 12, 5)), ("2026-12-24", date(2026, 12, 24)),
])
def test_dates_as_typed_relative_to_the_homes_today(typed: str, value: date) -> None:
    assert jatime.parse_date(typed, TODAY) == value


@pytest.mark.parametrize("typed", ["", "x", "2026-02-30", "2/30", "来週", "明日の12/3と4"])
def test_not_dates_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as err:
        jatime.parse_date(typed, TODAY)
    assert err.value.code == "date.invalid"
