"""Times and dates as people type them in Japanese: the one parser every flow uses.

``6時半``, ``午前6時30分``, ``６：３０``, ``夜9時``, ``7時`` → a time; ``明日``, ``来週の水曜日``,
``12/3``, ``12月3日``, ``3日後`` → a date, relative to the home's today. LINE's pickers
send ``07:30`` and ``2026-12-03``, which are read the same way.

The reading of Japanese temporal expressions is ja-timex's (it knows 午前/午後, 半, kanji
and full-width digits, 来週, weekdays); this module only turns its TIMEX values into a
``time`` or a ``date`` and refuses what is impossible or half-understood (``25:00``,
``6時30`` read as 6時 with digits left over) with the catalog's error codes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time, timedelta
from functools import cache

from core.errors import ValidationError

_TIME = re.compile(r"T(\d{2}|XX)-(\d{2}|XX)-(\d{2}|XX)")
_DATE = re.compile(r"(\d{4}|XXXX)-(\d{2}|XX)-(\d{2}|XX)")
_WEEKDAY = re.compile(r"XXXX-WXX-([1-7])")
_PERIOD = re.compile(r"P(\d+)([DW])")
_AFTERNOON = ("午後", "夜", "夕方", "pm", "PM")
_KANA_WORDS = {"正午": "12時", "あさって": "明後日", "あした": "明日", "あす": "明日", "きょう": "今日",
               "らいしゅう": "来週"}


@cache
def _parser():  # type: ignore[no-untyped-def]
    from ja_timex import TimexParser  # imported on first use: ~0.2 s

    return TimexParser()


def _normalise(text: str | None) -> str:
    s = unicodedata.normalize("NFKC", text or "").strip()
    for spoken, written in _KANA_WORDS.items():
        s = s.replace(spoken, written)
    s = re.sub(r"時(\d{1,2})$", r"時\1分", s)  # "6時30" → "6時30分"
    s = re.sub(r"^(\d{1,2})(\d{2})$", r"\1:\2", s)  # "0630" → "06:30"
    return s


def _leftover_has_digits(text: str, raws: list[str]) -> bool:
    rest = text
    for raw in raws:
        rest = rest.replace(raw, "", 1)
    return any(c.isdigit() for c in rest)


def parse_time(text: str | None) -> time:
    """A time of day as typed or picked; ``time.invalid`` if it is not one."""
    s = _normalise(text)
    if not s or s.startswith(("-", "−")):
        raise ValidationError("time.invalid")
    found = [t for t in _parser().parse(s) if t.type == "TIME"]
    if len(found) != 1 or _leftover_has_digits(s, [found[0].raw_text]):
        raise ValidationError("time.invalid")
    match = _TIME.fullmatch(found[0].value)
    if not match or match[1] == "XX":
        raise ValidationError("time.invalid")
    hour = int(match[1])
    minute = 0 if match[2] == "XX" else int(match[2])
    if hour == 0 and any(w in s for w in _AFTERNOON) and "0時" in s:
        hour = 12  # 午後0時 is noon
    if hour > 23 or minute > 59:
        raise ValidationError("time.invalid")
    return time(hour, minute)


def parse_date(text: str | None, today: date) -> date:
    """A day as typed or picked, relative to ``today`` (the home's); ``date.invalid`` if not one.

    A month/day without a year is the next such day (12/3 typed in December after the 3rd is
    next year's); a weekday alone is the next one (today included).
    """
    s = _normalise(text)
    if not s:
        raise ValidationError("date.invalid")
    try:
        return date.fromisoformat(s)
    except ValueError:
        pass
    found = [t for t in _parser().parse(s) if t.type in {"DATE", "DURATION"}]
    if not found or _leftover_has_digits(s, [t.raw_text for t in found]):
        raise ValidationError("date.invalid")
    try:
        return _resolve(found, today)
    except ValueError:
        raise ValidationError("date.invalid") from None


def _resolve(found: list, today: date) -> date:  # type: ignore[type-arg]
    weeks_ahead: int | None = None
    days_ahead: int | None = None
    for timex in found:
        if timex.type != "DURATION":
            continue
        period = _PERIOD.fullmatch(timex.value)
        if period is None or timex.mod not in {"AFTER", "NOW"}:
            raise ValueError(timex.value)
        if period[2] == "W":
            weeks_ahead = int(period[1])
        else:
            days_ahead = int(period[1])
    dates = [t for t in found if t.type == "DATE"]
    if not dates:
        if days_ahead is not None and weeks_ahead is None:
            return today + timedelta(days=days_ahead)
        raise ValueError("no day named")
    value = dates[-1].value
    weekday = _WEEKDAY.fullmatch(value)
    if weekday:
        iso = int(weekday[1])  # 1 = Monday
        if weeks_ahead is None:
            return today + timedelta(days=(iso - today.isoweekday()) % 7)
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
        return monday + timedelta(days=iso - 1)
    match = _DATE.fullmatch(value)
    if not match or match[3] == "XX":
        raise ValueError(value)
    day = int(match[3])
    if match[1] != "XXXX":
        return date(int(match[1]), int(match[2]), day)
    if match[2] != "XX":
        month = int(match[2])
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    candidate = date(today.year, today.month, day) if day <= 28 or _valid(today.year, today.month, day) else None
    if candidate is not None and candidate >= today:
        return candidate
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return date(year, month, day)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
