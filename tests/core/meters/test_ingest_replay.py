"""Replay CSV through ingestion: every reading once, revisions, gaps, and every bad row named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.enums import HomeStatus, ReadingQuality
from core.meters.ingest import ingest
from core.meters.sources import detect_format, file_source
from core.models import AuditLog, Home, MeterReading
from tests.core.meters.conftest import add_home, replay_csv, utc

GOOD = [
    ("MAC-A", "2026-05-01T09:00:00+09:00", "0.219"),
    ("MAC-A", "2026-05-01T09:30:00+09:00", "0.241"),
    ("MAC-A", "2026-05-01T10:00:00+09:00", ""),  # missing: nothing stored
    ("MAC-A", "2026-05-01T10:30:00+09:00", "0"),  # a real zero stays a zero
]


def readings(session: Session, home: Home) -> dict:
    rows = session.execute(
        select(MeterReading.interval_start, MeterReading.kwh, MeterReading.quality).where(
            MeterReading.home_id == home.id
        )
    )
    return {start: (kwh, quality) for start, kwh, quality in rows}


def test_same_file_twice_changes_nothing(session: Session, clock: ManualClock, write_file: Callable) -> None:
    home = add_home(session, "MAC-A")
    path = write_file("a.csv", replay_csv(GOOD))
    first = ingest(session, file_source(path))
    assert (first.inserted, first.revised, first.unchanged, first.missing, first.rejected) == (3, 0, 0, 1, 0)
    stored = readings(session, home)
    assert stored == {
        utc(2026, 5, 1, 0, 0): (0.219, ReadingQuality.MEASURED),
        utc(2026, 5, 1, 0, 30): (0.241, ReadingQuality.MEASURED),
        utc(2026, 5, 1, 1, 30): (0.0, ReadingQuality.MEASURED),
    }  # the gap at 10:00 JST is an absent row, never a zero
    second = ingest(session, file_source(path))
    assert (second.inserted, second.revised, second.unchanged, second.changed) == (0, 0, 3, 0)
    assert readings(session, home) == stored


def test_a_different_value_is_a_revision(session: Session, clock: ManualClock, write_file: Callable) -> None:
    home = add_home(session, "MAC-A")
    ingest(session, file_source(write_file("soku.csv", replay_csv(GOOD[:2]))))  # 速報値
    fixed = [GOOD[0], ("MAC-A", "2026-05-01T09:30:00+09:00", "0.250")]  # 確定値
    result = ingest(session, file_source(write_file("kaku.csv", replay_csv(fixed))))
    assert (result.inserted, result.revised, result.unchanged) == (0, 1, 1)
    stored = readings(session, home)
    assert stored[utc(2026, 5, 1, 0, 30)] == (0.25, ReadingQuality.REVISED)
    assert stored[utc(2026, 5, 1, 0, 0)] == (0.219, ReadingQuality.MEASURED)


def test_late_and_out_of_order_rows_fill_the_gap(session: Session, clock: ManualClock, write_file: Callable) -> None:
    home = add_home(session, "MAC-A")
    ingest(session, file_source(write_file("a.csv", replay_csv([GOOD[3], GOOD[0]]))))
    late = [("MAC-A", "2026-05-01T10:00:00+09:00", "0.3"), ("MAC-A", "2026-04-30T23:00:00+00:00", "0.1")]
    result = ingest(session, file_source(write_file("late.csv", replay_csv(late))))
    assert result.inserted == 2
    assert len(readings(session, home)) == 4
    session.refresh(home)
    assert home.last_reading_at == utc(2026, 5, 1, 1, 30)  # the newest half-hour, not the last row


def test_every_bad_row_is_listed_and_good_rows_still_import(
    session: Session, clock: ManualClock, write_file: Callable
) -> None:
    home = add_home(session, "MAC-A")
    rows = [
        GOOD[0],
        ("MAC-A", "2026-05-01 25:00", "0.2"),  # line 3
        ("MAC-A", "2026-05-01T11:00:00+09:00", "-0.1"),  # line 4
        ("MAC-A", "2026-05-01T11:30:00+09:00", "75"),  # line 5
        ("MAC-Z", "2026-05-01T12:00:00+09:00", "0.2"),  # line 6
        ("MAC-A", "2026-05-01T12:10:00+09:00", "0.2"),  # line 7
        ("MAC-A", "2026-05-01T12:00:00", "0.2"),  # line 8: no offset
        ("MAC-A", "2026-05-01T12:30:00+09:00", "abc"),  # line 9
        ("MAC-A", "2026-06-01T09:00:00+09:00", "0.2"),  # line 10: ends after now (09:00 JST)
        GOOD[1],
    ]
    result = ingest(session, file_source(write_file("bad.csv", replay_csv(rows))))
    reasons = {e.line: e.reason for e in result.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "malformed time" in reasons[3]
    assert "negative" in reasons[4]
    assert "impossible" in reasons[5]
    assert "unknown meter 'MAC-Z'" in reasons[6]
    assert "not the start of a half-hour" in reasons[7]
    assert "malformed time" in reasons[8]
    assert "malformed kwh" in reasons[9]
    assert "not ended" in reasons[10]
    assert result.inserted == 2
    assert len(readings(session, home)) == 2
    assert str(result.errors[0]).startswith("line 3: ")


def test_unknown_meters_become_homes_when_asked(session: Session, clock: ManualClock, write_file: Callable) -> None:
    rows = [("MAC-NEW", "2026-05-01T09:00:00+09:00", "0.2"), ("0300111122223333444455", GOOD[0][1], "0.1")]
    result = ingest(session, file_source(write_file("new.csv", replay_csv(rows))), create_homes=True)
    assert (result.inserted, result.homes_created, result.rejected) == (2, 2, 0)
    homes = {h.meter_id: h for h in session.scalars(select(Home))}
    assert homes["MAC-NEW"].status == HomeStatus.AWAITING_HISTORY
    assert homes["0300111122223333444455"].supply_point_number == "0300111122223333444455"
    assert homes["0300111122223333444455"].area == "東京"


def test_gzip_is_read_by_its_magic_and_a_truncated_one_keeps_its_good_rows(
    session: Session, clock: ManualClock, write_file: Callable, tmp_path: Path
) -> None:
    home = add_home(session, "MAC-A")
    times = [f"2026-05-0{1 + i // 48}T{(i % 48) // 2:02d}:{(i % 2) * 30:02d}:00+09:00" for i in range(96)]
    rows = [("MAC-A", at, "0.123") for at in times]
    whole = write_file("plain-name.csv", replay_csv(rows), gz=True)
    assert detect_format(whole) == "replay"
    data = whole.read_bytes()
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = ingest(session, file_source(cut))
    assert result.rejected >= 1
    assert any("truncated" in e.reason for e in result.errors)
    assert 0 < result.inserted < 96
    assert len(readings(session, home)) == result.inserted


def test_a_cut_off_last_row_is_rejected(session: Session, clock: ManualClock, write_file: Callable) -> None:
    add_home(session, "MAC-A")
    text = replay_csv(GOOD[:2]) + "MAC-A,2026-05-01T11:00"
    result = ingest(session, file_source(write_file("cut.csv", text)))
    assert result.inserted == 2
    assert [(e.line, "cut off" in e.reason) for e in result.errors] == [(4, True)]


def test_data_arriving_ends_a_data_gap(session: Session, clock: ManualClock, write_file: Callable) -> None:
    home = add_home(session, "MAC-A", data_gap_since=utc(2026, 5, 1, 0, 0), last_reading_at=utc(2026, 4, 30, 23, 30))
    ingest(session, file_source(write_file("a.csv", replay_csv(GOOD[:1]))))
    session.refresh(home)
    assert home.data_gap_since is None
    assert home.last_reading_at == utc(2026, 5, 1, 0, 0)
    actions = session.scalars(select(AuditLog.action).where(AuditLog.home_id == home.id)).all()
    assert "meters.data_gap_ended" in actions


def test_bulk_rows_match_rows_written_by_the_orm(session: Session, clock: ManualClock, write_file: Callable) -> None:
    home = add_home(session, "MAC-A")
    session.add(MeterReading(home_id=home.id, interval_start=utc(2026, 5, 1, 0, 0), kwh=0.219))
    session.flush()
    result = ingest(session, file_source(write_file("a.csv", replay_csv(GOOD[:2]))))
    assert (result.inserted, result.unchanged) == (1, 1)
    later = select(MeterReading.kwh).where(MeterReading.interval_start >= utc(2026, 5, 1, 0, 30))
    assert session.scalars(later).all() == [0.241]


def test_values_no_meter_can_give_are_refused(session: Session, clock: ManualClock) -> None:
    from core.meters.sources import ReadingIn

    add_home(session, "MAC-A")
    start = utc(2026, 5, 1, 0, 0)
    items = [ReadingIn("MAC-A", start, float("nan"), ReadingQuality.MEASURED, 1)]
    items.append(ReadingIn("MAC-A", start, float("inf"), ReadingQuality.MEASURED, 2))
    items.append(ReadingIn("MAC-A", start, 50.0, ReadingQuality.MEASURED, 3))  # the limit itself is possible
    result = ingest(session, items)
    assert [(e.line, e.reason.split(" ")[0]) for e in result.errors] == [(1, "kwh"), (2, "impossible")]
    assert result.inserted == 1
