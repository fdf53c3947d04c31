"""The one-line reading of a day, rule by rule, from arrays (no database)."""

from __future__ import annotations

from datetime import date, time

import numpy as np
import pytest

from core.reports.reading import read_day
from core.reports.usage import DayUsage, UsualRange
from tests.core.reports.helpers import active_day, late_night_day, quiet_day

DAY = date(2026, 6, 2)


def usual_of(days: list[np.ndarray]) -> UsualRange:
    rows = np.array(days)
    totals = rows.sum(axis=1)
    return UsualRange(
        low=np.percentile(rows, 10, axis=0), median=np.percentile(rows, 50, axis=0),
        high=np.percentile(rows, 90, axis=0), days_used=len(days), base_load=float(np.percentile(rows, 5)),
        daily_low=float(np.percentile(totals, 10)), daily_median=float(np.median(totals)),
        daily_high=float(np.percentile(totals, 90)),
    )


USUAL = usual_of([active_day(0.9 + 0.05 * i) for i in range(5)])


def late_start_day() -> np.ndarray:
    slots = active_day()
    slots[14:18] = 0.05
    slots[22:26] = 0.35  # up at 11:00 instead of 07:00
    return slots


@pytest.mark.parametrize(
    ("slots", "usual", "key"),
    [
        (active_day(), USUAL, "reports.reading.usual"),
        (late_night_day(), USUAL, "reports.reading.late_night"),
        (late_start_day(), USUAL, "reports.reading.late_start"),
        (quiet_day(), USUAL, "reports.reading.quiet"),  # nothing all day is quiet, not a slow morning
        (active_day(1.6), USUAL, "reports.reading.busy"),
        (active_day(), None, "reports.reading.learning"),
        (np.full(48, np.nan), USUAL, "reports.reading.no_data"),
    ],
)
def test_each_kind_of_day_gets_its_line(slots: np.ndarray, usual: UsualRange | None, key: str) -> None:
    assert read_day(DayUsage(DAY, slots), usual, time(7, 0), time(22, 0)) == key


def test_a_quiet_afternoon_after_a_normal_morning_reads_quiet() -> None:
    slots = active_day()
    slots[23:] = 0.05
    assert read_day(DayUsage(DAY, slots), USUAL, time(7, 0), time(22, 0)) == "reports.reading.quiet"


def test_a_missing_morning_is_not_read_as_a_late_start() -> None:
    slots = late_start_day()
    slots[8:20] = np.nan  # 04:00-10:00 never arrived
    assert read_day(DayUsage(DAY, slots), USUAL, time(7, 0), time(22, 0)) == "reports.reading.usual"


def test_a_gap_is_not_read_as_a_quiet_day() -> None:
    slots = active_day()
    slots[36:45] = np.nan  # the evening did not arrive: the total is low only because of the gap
    assert read_day(DayUsage(DAY, slots), USUAL, time(7, 0), time(22, 0)) == "reports.reading.usual"
