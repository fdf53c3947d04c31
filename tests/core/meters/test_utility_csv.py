"""The utility 30-minute CSV as downloaded: Shift_JIS (or UTF-8), END-of-slot headers, JST."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.meters.ingest import ingest
from core.meters.sources import ReadingIn, RowError, detect_format, file_source
from core.models import MeterReading
from tests.core.meters.conftest import SUPPLY_POINT, add_home, utc, utility_csv

DAY = [round(0.1 + 0.01 * i, 3) for i in range(48)]


@pytest.mark.parametrize(("encoding", "bom"), [("cp932", False), ("utf-8", False), ("utf-8", True)])
def test_reads_each_encoding_with_end_of_slot_headers_in_tokyo_time(
    encoding: str, bom: bool, write_file: Callable
) -> None:
    path = write_file("30min.csv", utility_csv([(SUPPLY_POINT, date(2026, 5, 10), DAY)], encoding=encoding, bom=bom))
    assert detect_format(path) == "utility-csv"
    items = list(file_source(path).items())
    assert all(isinstance(i, ReadingIn) for i in items)
    assert len(items) == 48
    first, last = items[0], items[-1]
    # "0:30" is the slot 0:00-0:30 JST on 5/10, i.e. 15:00 UTC on 5/9; "24:00" is 23:30-24:00 JST.
    assert (first.meter_id, first.interval_start, first.kwh) == (SUPPLY_POINT, utc(2026, 5, 9, 15, 0), 0.1)
    assert (last.interval_start, last.kwh) == (utc(2026, 5, 10, 14, 30), 0.57)


def test_shift_jis_really_is_shift_jis(write_file: Callable) -> None:
    data = utility_csv([(SUPPLY_POINT, date(2026, 5, 10), DAY)])
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "供給地点特定番号".encode("cp932") in data


def test_missing_half_hours_stay_missing_and_days_import(
    session: Session, clock: ManualClock, write_file: Callable
) -> None:
    home = add_home(session, "U1", supply_point_number=SUPPLY_POINT)
    gappy = [None if 10 <= i < 14 else v for i, v in enumerate(DAY)]
    path = write_file(
        "30min.csv", utility_csv([(SUPPLY_POINT, date(2026, 5, 10), DAY), (SUPPLY_POINT, date(2026, 5, 11), gappy)])
    )
    result = ingest(session, file_source(path))
    assert (result.inserted, result.missing, result.rejected) == (92, 4, 0)
    starts = set(session.scalars(select(MeterReading.interval_start).where(MeterReading.home_id == home.id)))
    assert utc(2026, 5, 10, 20, 0) not in starts  # 5/11 05:00 JST was "---"
    assert utc(2026, 5, 10, 19, 30) in starts
    again = ingest(session, file_source(path))
    assert (again.inserted, again.revised, again.unchanged) == (0, 0, 92)


def test_bad_rows_are_named_by_line(session: Session, clock: ManualClock, write_file: Callable) -> None:
    add_home(session, "U1", supply_point_number=SUPPLY_POINT)
    bad_value = ["0.1"] * 47 + ["abc"]
    path = write_file(
        "30min.csv",
        utility_csv(
            [(SUPPLY_POINT, date(2026, 5, 10), DAY)],
            extra_rows=[
                "030011112222333344445,見守 花子,2026/05/11,1.0," + ",".join(["0.1"] * 48),  # 21 digits: line 6
                f"{SUPPLY_POINT},見守 花子,2026/13/01,1.0," + ",".join(["0.1"] * 48),  # line 7
                f"{SUPPLY_POINT},見守 花子,2026/05/12,1.0," + ",".join(bad_value),  # line 8
                f"{SUPPLY_POINT},見守 花子,2026/05/13,1.0,0.1,0.2",  # line 9: cut off
                f"{SUPPLY_POINT},見守 花子,2026/05/14,1.0," + ",".join(["-0.1"] + ["0.1"] * 47),  # line 10
            ],
        ),
    )
    result = ingest(session, file_source(path))
    reasons = {e.line: e.reason for e in result.errors}
    assert sorted(reasons) == [6, 7, 8, 9, 10]
    assert "supply point" in reasons[6]
    assert "malformed date" in reasons[7]
    assert "24:00" in reasons[8] and "abc" in reasons[8]
    assert "cut off" in reasons[9]
    assert "negative" in reasons[10]
    assert result.inserted == 48 + 47 + 47  # 5/10, the good part of 5/12 and of 5/14


def test_a_file_without_the_header_is_refused(write_file: Callable) -> None:
    path = write_file("x.csv", "日付,値\n2026/05/10,1\n".encode("cp932"))
    items = list(file_source(path, "utility-csv").items())
    assert items == [RowError(0, "no header row with 供給地点特定番号 and 年月日")]
