"""Green Button (ESPI) feeds: Wh × 10^powerOfTenMultiplier → kWh, UTC epochs, hostile XML."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.meters.ingest import ingest
from core.meters.sources import ReadingIn, RowError, detect_format, file_source
from core.models import MeterReading
from tests.core.meters.conftest import SUPPLY_POINT, add_home, green_button, utc

START = utc(2026, 5, 1, 15, 0)  # 5/2 00:00 JST
SLOTS = [(START + timedelta(minutes=30 * i), 219000 + 1000 * i) for i in range(6)]


def test_values_scale_by_power_of_ten_into_kwh(write_file: Callable) -> None:
    path = write_file("usage.xml", green_button(SUPPLY_POINT, SLOTS, power_of_ten=-3))
    assert detect_format(path) == "green-button"
    items = list(file_source(path).items())
    assert [type(i) for i in items] == [ReadingIn] * 6
    assert [(i.meter_id, i.interval_start, i.kwh) for i in items[:2]] == [
        (SUPPLY_POINT, START, 0.219),  # 219000 × 10^-3 Wh = 219 Wh
        (SUPPLY_POINT, START + timedelta(minutes=30), 0.22),
    ]
    assert items[0].line > 0


def test_imports_once_by_supply_point(session: Session, clock: ManualClock, write_file: Callable) -> None:
    home = add_home(session, "GB", supply_point_number=SUPPLY_POINT)
    slots = [(at, value // 1000) for at, value in SLOTS]  # plain Wh, multiplier 0
    path = write_file("usage.xml", green_button(SUPPLY_POINT, slots), gz=True)
    assert ingest(session, file_source(path)).inserted == 6
    assert ingest(session, file_source(path)).unchanged == 6
    kwh = session.scalars(select(MeterReading.kwh).where(MeterReading.home_id == home.id)).all()
    assert sorted(kwh) == [0.219, 0.22, 0.221, 0.222, 0.223, 0.224]


def test_wrong_unit_and_wrong_duration_are_refused(write_file: Callable) -> None:
    kw = list(file_source(write_file("kw.xml", green_button(SUPPLY_POINT, SLOTS, uom=38))).items())
    assert len(kw) == 1 and isinstance(kw[0], RowError) and "uom 38" in kw[0].reason
    hourly = list(file_source(write_file("h.xml", green_button(SUPPLY_POINT, SLOTS, duration=3600))).items())
    assert all(isinstance(i, RowError) and "1800" in i.reason for i in hourly)


def test_a_cut_off_feed_keeps_the_readings_before_the_cut(write_file: Callable) -> None:
    text = green_button(SUPPLY_POINT, SLOTS)
    cut = text[: text.index(str(int(SLOTS[4][0].timestamp())))]
    items = list(file_source(write_file("cut.xml", cut)).items())
    readings = [i for i in items if isinstance(i, ReadingIn)]
    errors = [i for i in items if isinstance(i, RowError)]
    assert len(readings) == 4
    assert len(errors) == 1 and "cut off" in errors[0].reason and errors[0].line > readings[-1].line


def test_entity_expansion_is_refused(write_file: Callable) -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
        "<feed><title>&lol2;</title></feed>"
    )
    items = list(file_source(write_file("bomb.xml", bomb)).items())
    assert len(items) == 1 and isinstance(items[0], RowError) and "refused" in items[0].reason
