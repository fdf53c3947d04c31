"""The Japanese utility 30-minute CSV, as customers download it from their member site.

One row per day per supply point: 供給地点特定番号, 年月日 and 48 half-hour values whose
headers label the END of each slot ("0:30" … "24:00"). Utilities write Shift_JIS
(cp932 in practice); some write UTF-8, with or without a BOM, so the encoding is
detected. "---" or an empty cell is a missing half-hour. Times are Asia/Tokyo wall
clock; readings leave here in UTC.

Preamble lines above the header (契約名, 出力日時 ...) and extra columns (お客さま名,
日計) are tolerated: columns are found by their header, not by position.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core.enums import ReadingQuality
from core.errors import ValidationError
from core.meters.sources import Item, ReadingIn, RowError, open_binary
from core.meters.supply_point import parse_supply_point

TOKYO = ZoneInfo("Asia/Tokyo")
SUPPLY_POINT_HEADER = "供給地点特定番号"
DATE_HEADER = "年月日"
MISSING = {"", "---", "--", "-", "－", "ー", "―", "*"}
SLOT_END = re.compile(r"^(\d{1,2}):(\d{2})(?:\(kwh\))?$")
DATE_FORMATS = ("%Y/%m/%d", "%Y-%m-%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")
HALF_HOUR = timedelta(minutes=30)


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not) when it decodes as such, else Shift_JIS (cp932)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp932")


def _norm(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip().strip('"').replace(" ", "").lower()


def parse_date(text: str) -> date:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError(f"malformed date {text.strip()!r}")


def slot_columns(header: list[str]) -> dict[int, int]:
    """Column index -> slot number (0 = 0:00-0:30 local) from the END labels in the header."""
    slots: dict[int, int] = {}
    for index, cell in enumerate(header):
        match = SLOT_END.match(_norm(cell))
        if not match:
            continue
        end = int(match.group(1)) * 60 + int(match.group(2))
        if end % 30 == 0 and 30 <= end <= 1440:
            slots[index] = end // 30 - 1
    return slots


class UtilityCsvFile:
    """Reads one utility 30-minute CSV as a ReadingSource."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def items(self) -> Iterator[Item]:
        with open_binary(self.path) as fh:
            try:
                data = fh.read()
            except EOFError:
                yield RowError(0, "file is truncated: the gzip stream ends early")
                return
        try:
            text = decode(data)
        except UnicodeDecodeError as exc:
            yield RowError(0, f"file is neither UTF-8 nor Shift_JIS (byte {exc.start})")
            return
        reader = csv.reader(io.StringIO(text, newline=""))
        columns: dict[str, int] | None = None
        slots: dict[int, int] = {}
        width = 0
        for row in reader:
            line = reader.line_num
            if columns is None:
                names = [_norm(c) for c in row]
                if SUPPLY_POINT_HEADER in names and DATE_HEADER in names:
                    columns = {SUPPLY_POINT_HEADER: names.index(SUPPLY_POINT_HEADER)}
                    columns[DATE_HEADER] = names.index(DATE_HEADER)
                    slots = slot_columns(row)
                    width = len(row)
                    if sorted(slots.values()) != list(range(48)):
                        yield RowError(line, f"header has {len(slots)} half-hour columns, 48 expected (0:30 … 24:00)")
                        return
                continue
            if not any(c.strip() for c in row):
                continue
            yield from self._row(row, line, columns, slots, width)
        if columns is None:
            yield RowError(0, f"no header row with {SUPPLY_POINT_HEADER} and {DATE_HEADER}")

    @staticmethod
    def _row(row: list[str], line: int, columns: dict[str, int], slots: dict[int, int], width: int) -> Iterator[Item]:
        if len(row) < max(slots) + 1 or len(row) < width - 1:
            yield RowError(line, f"row has {len(row)} columns, the header has {width} (cut off?)")
            return
        try:
            meter_id = parse_supply_point(row[columns[SUPPLY_POINT_HEADER]]).number
        except ValidationError as exc:
            yield RowError(line, f"supply point number: {exc}")
            return
        try:
            day = parse_date(row[columns[DATE_HEADER]])
        except ValueError as exc:
            yield RowError(line, str(exc))
            return
        midnight = datetime(day.year, day.month, day.day, tzinfo=TOKYO).astimezone(UTC)
        values: list[ReadingIn] = []
        for index, slot in slots.items():
            cell = unicodedata.normalize("NFKC", row[index]).strip()
            start = midnight + slot * HALF_HOUR
            if cell in MISSING:
                values.append(ReadingIn(meter_id, start, None, ReadingQuality.MEASURED, line))
                continue
            try:
                kwh = float(cell.replace(",", ""))
            except ValueError:
                yield RowError(line, f"column {row_label(slot)}: malformed value {cell!r}")
                continue
            values.append(ReadingIn(meter_id, start, kwh, ReadingQuality.MEASURED, line))
        yield from values


def row_label(slot: int) -> str:
    """The header label of a slot (its end time), for error messages."""
    end = (slot + 1) * 30
    return f"{end // 60}:{end % 60:02d}"
