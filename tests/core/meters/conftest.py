"""Real-shaped meter files made in the test: a utility 30-minute CSV (Shift_JIS), a Green
Button feed, replay CSVs; and a home helper for single-session tests."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core import clock as clock_module
from core.enums import HomeStatus
from core.models import Home, Resident

SUPPLY_POINT = "0300111122223333444455"  # Tokyo area
SLOT_HEADERS = [f"{m // 60}:{m % 60:02d}" for m in range(30, 1441, 30)]  # "0:30" … "24:00"


def add_home(session: Session, meter_id: str, *, consent: bool = True, **fields: Any) -> Home:
    home = Home(meter_id=meter_id, status=fields.pop("status", HomeStatus.AWAITING_HISTORY), **fields)
    session.add(home)
    session.flush()
    session.add(
        Resident(
            home_id=home.id,
            display_name="母",
            consent_given_at=clock_module.now() if consent else None,
        )
    )
    session.flush()
    return home


def utility_csv(
    days: Sequence[tuple[str, date, Sequence[float | None]]],
    *,
    encoding: str = "cp932",
    bom: bool = False,
    extra_rows: Sequence[str] = (),
) -> bytes:
    """A member-site download: a preamble, then one row per day per supply point with the
    daily total and 48 values under END-of-slot headers; missing values are "---"."""
    out = io.StringIO()
    out.write("ご契約名義,見守 花子 様\r\n")
    out.write("出力日時,2026/06/01 09:15\r\n")
    out.write("\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["供給地点特定番号", "お客さま名", "年月日", "日計(kWh)", *SLOT_HEADERS])
    for number, day, values in days:
        total = sum(v for v in values if v is not None)
        cells = ["---" if v is None else f"{v:.3f}" for v in values]
        writer.writerow([number, "見守 花子", day.strftime("%Y/%m/%d"), f"{total:.3f}", *cells])
    for raw in extra_rows:
        out.write(raw + "\r\n")
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def green_button(
    meter_id: str,
    readings: Sequence[tuple[datetime, int]],
    *,
    power_of_ten: int = 0,
    uom: int = 72,
    duration: int = 1800,
) -> str:
    """An ESPI Atom feed: UsagePoint (title = meter id), MeterReading, ReadingType, one
    IntervalBlock, LocalTimeParameters (JST)."""
    base = "https://retailer.example/espi/1_1/resource/Subscription/7"
    rows = "\n".join(
        f"""        <espi:IntervalReading>
          <espi:timePeriod><espi:duration>{duration}</espi:duration><espi:start>{int(at.timestamp())}</espi:start></espi:timePeriod>
          <espi:value>{value}</espi:value>
        </espi:IntervalReading>"""
        for at, value in readings
    )
    first = int(readings[0][0].timestamp()) if readings else 0
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:espi="http://naesb.org/espi">
  <id>urn:uuid:5762c9e8-4e65-3b0c-83b3-7874683f3dbe</id>
  <title>Green Button Usage Feed</title>
  <updated>2026-06-01T00:00:00Z</updated>
  <entry>
    <id>urn:uuid:97eaebad-1c4c-4b4c-8e1f-1ab8b4f8b7a1</id>
    <link href="{base}/UsagePoint/1" rel="self"/>
    <link href="{base}/UsagePoint/1/MeterReading" rel="related"/>
    <link href="{base}/LocalTimeParameters/1" rel="related"/>
    <title>{meter_id}</title>
    <content>
      <espi:UsagePoint><espi:ServiceCategory><espi:kind>0</espi:kind></espi:ServiceCategory></espi:UsagePoint>
    </content>
  </entry>
  <entry>
    <id>urn:uuid:2a1a6b34-8b3c-4a0e-9a52-4d1c7c1e2f10</id>
    <link href="{base}/UsagePoint/1/MeterReading/1" rel="self"/>
    <link href="{base}/ReadingType/1" rel="related"/>
    <link href="{base}/UsagePoint/1/MeterReading/1/IntervalBlock" rel="related"/>
    <title>Electricity 30 minutes</title>
    <content><espi:MeterReading/></content>
  </entry>
  <entry>
    <id>urn:uuid:3c9e4f7a-5d2b-4e8f-a1b0-6f7e8d9c0b1a</id>
    <link href="{base}/ReadingType/1" rel="self"/>
    <title>Energy Delivered (Wh)</title>
    <content>
      <espi:ReadingType>
        <espi:accumulationBehaviour>4</espi:accumulationBehaviour>
        <espi:commodity>1</espi:commodity>
        <espi:dataQualifier>12</espi:dataQualifier>
        <espi:flowDirection>1</espi:flowDirection>
        <espi:intervalLength>1800</espi:intervalLength>
        <espi:kind>12</espi:kind>
        <espi:phase>769</espi:phase>
        <espi:powerOfTenMultiplier>{power_of_ten}</espi:powerOfTenMultiplier>
        <espi:timeAttribute>0</espi:timeAttribute>
        <espi:uom>{uom}</espi:uom>
      </espi:ReadingType>
    </content>
  </entry>
  <entry>
    <id>urn:uuid:4d0f5a8b-6e3c-4f9a-b2c1-7a8f9e0d1c2b</id>
    <link href="{base}/UsagePoint/1/MeterReading/1/IntervalBlock/1" rel="self"/>
    <link href="{base}/UsagePoint/1/MeterReading/1/IntervalBlock" rel="up"/>
    <content>
      <espi:IntervalBlock>
        <espi:interval>
          <espi:duration>{duration * len(readings)}</espi:duration><espi:start>{first}</espi:start>
        </espi:interval>
{rows}
      </espi:IntervalBlock>
    </content>
  </entry>
  <entry>
    <id>urn:uuid:5e1a6b9c-7f4d-4a0b-c3d2-8b9a0f1e2d3c</id>
    <link href="{base}/LocalTimeParameters/1" rel="self"/>
    <content>
      <espi:LocalTimeParameters>
        <espi:dstEndRule>00000000</espi:dstEndRule>
        <espi:dstOffset>0</espi:dstOffset>
        <espi:dstStartRule>00000000</espi:dstStartRule>
        <espi:tzOffset>32400</espi:tzOffset>
      </espi:LocalTimeParameters>
    </content>
  </entry>
</feed>
"""


def replay_csv(rows: Sequence[tuple[str, str, str]], *, header: bool = True) -> str:
    lines = (["meter_id,interval_start,kwh"] if header else []) + [",".join(r) for r in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """Write bytes or text to tmp_path/name (gzip when ``gz``)."""

    def write(name: str, content: str | bytes, *, gz: bool = False) -> Path:
        data = content.encode() if isinstance(content, str) else content
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if gz else data)
        return path

    return write


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
