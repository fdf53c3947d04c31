"""A one-line reading of a day ("いつも通りの一日でした"), chosen by a declared table of rules.

Each rule looks at the day, the day's usual range and the set wake/sleep times and
says whether it applies; the first that applies gives the text key. Rules never
treat a missing half-hour as quiet: they look only at what arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

import numpy as np

from core.reports.usage import DayUsage, UsualRange, activity_threshold

DEFAULT_WAKE = time(7, 0)
DEFAULT_SLEEP = time(23, 0)
LATE_NIGHT_SLOTS = 2  # an hour of activity after the sleep time (+1 h) is "until late"
LATE_START_SLOTS = 4  # first activity two hours after the usual start is "a slow morning"
QUIET_FACTOR = 0.8  # total under 80% of the usual low end
BUSY_FACTOR = 1.2  # total over 120% of the usual high end


@dataclass(frozen=True)
class DayContext:
    usage: DayUsage
    usual: UsualRange | None
    wake: time
    sleep: time

    @property
    def threshold(self) -> float:
        return activity_threshold(self.usual, self.usage.slots)

    def active(self) -> np.ndarray:
        """True where a half-hour arrived and shows someone doing something."""
        slots = self.usage.slots
        return np.where(np.isnan(slots), False, slots > self.threshold)


def _slot(at: time) -> int:
    return at.hour * 2 + at.minute // 30


def _no_data(ctx: DayContext) -> bool:
    return ctx.usage.present == 0


def _learning(ctx: DayContext) -> bool:
    return ctx.usual is None


def _late_night(ctx: DayContext) -> bool:
    start = _slot(ctx.sleep) + 2
    if start >= 48 or _slot(ctx.sleep) < 12:  # a sleep time after midnight: the night is tomorrow's
        return False
    late = ctx.active()[start:]
    usual_late = ctx.usual.median[start:] > ctx.threshold if ctx.usual is not None else np.zeros_like(late)
    return int(np.count_nonzero(late & ~usual_late)) >= LATE_NIGHT_SLOTS


def _late_start(ctx: DayContext) -> bool:
    active = ctx.active()
    morning_from = 8  # 04:00: earlier activity belongs to the night before
    expected = _slot(ctx.wake)
    usual = ctx.usual
    if usual is not None:
        usual_active = np.nonzero(usual.median[morning_from:] > ctx.threshold)[0]
        if usual_active.size:
            expected = max(expected, int(usual_active[0]) + morning_from)
    first = np.nonzero(active[morning_from:])[0]
    # The morning must have arrived to say it started late.
    arrived = ~np.isnan(ctx.usage.slots[morning_from : expected + LATE_START_SLOTS + 1])
    if not arrived.all():
        return False
    # No activity at all is not "a slow morning": the quiet rule speaks for that day.
    return bool(first.size) and int(first[0]) + morning_from >= expected + LATE_START_SLOTS


def _quiet(ctx: DayContext) -> bool:
    usual, kwh = ctx.usual, ctx.usage.kwh
    return usual is not None and ctx.usage.complete and kwh is not None and kwh < usual.daily_low * QUIET_FACTOR


def _busy(ctx: DayContext) -> bool:
    usual, kwh = ctx.usual, ctx.usage.kwh
    # Even a partial day can be known to be busy: what arrived is already a lower bound.
    return usual is not None and kwh is not None and kwh > usual.daily_high * BUSY_FACTOR


@dataclass(frozen=True)
class ReadingRule:
    key: str
    applies: Callable[[DayContext], bool]


RULES: tuple[ReadingRule, ...] = (
    ReadingRule("reports.reading.no_data", _no_data),
    ReadingRule("reports.reading.late_night", _late_night),
    ReadingRule("reports.reading.learning", _learning),
    ReadingRule("reports.reading.late_start", _late_start),
    ReadingRule("reports.reading.quiet", _quiet),
    ReadingRule("reports.reading.busy", _busy),
    ReadingRule("reports.reading.usual", lambda _ctx: True),
)


def read_day(
    usage: DayUsage, usual: UsualRange | None, wake: time | None = None, sleep: time | None = None
) -> str:
    """The text key of the first rule that applies to the day."""
    ctx = DayContext(usage, usual, wake or DEFAULT_WAKE, sleep or DEFAULT_SLEEP)
    return next(rule.key for rule in RULES if rule.applies(ctx))
