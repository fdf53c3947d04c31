"""Replay CSV: ``meter_id,interval_start,kwh`` with ISO 8601 times that carry an offset.

The format of ../shared/data/lcl-dev and of any export we replay. Plain or gzip (by
magic, whatever the name). An empty kwh is a missing half-hour: nothing is stored.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from core.enums import ReadingQuality
from core.meters.sources import Item, ReadingIn, RowError, TextLines

HEADER = ["meter_id", "interval_start", "kwh"]
MEASURED = ReadingQuality.MEASURED


def parse_aware(text: str) -> datetime:
    """An ISO 8601 time with an offset; raises ValueError naming what is wrong."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return value


class ReplayCsvFile:
    """Reads one replay CSV file as a ReadingSource."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def items(self) -> Iterator[Item]:
        lines = TextLines(self.path)
        reader = csv.reader(lines)
        header_seen = False
        times: dict[str, datetime | None] = {}  # the same times recur for every meter: parse once
        held: Item | None = None  # the previous row, judged once we know whether it was cut off
        for row in reader:
            if held is not None:
                yield held
                held = None
            line = reader.line_num
            if not header_seen:
                header_seen = True
                if [c.strip().lower() for c in row] == HEADER:
                    continue
                if row and row[0].strip().lower() == "meter_id":
                    yield RowError(line, f"header must be {','.join(HEADER)}")
                    return
            if len(row) != 3:
                if any(c.strip() for c in row):
                    held = RowError(line, f"expected 3 columns (meter_id,interval_start,kwh), found {len(row)}")
                continue
            meter_id, start_text, kwh_text = row
            start = times.get(start_text, False)
            if start is False:
                if len(times) > 200_000:
                    times.clear()
                try:
                    start = times[start_text] = parse_aware(start_text)
                except ValueError:
                    start = times[start_text] = None
            if start is None:
                held = RowError(line, f"malformed time {start_text.strip()!r} (ISO 8601 with offset expected)")
                continue
            if not meter_id:
                held = RowError(line, "meter_id is empty")
                continue
            try:
                kwh = float(kwh_text) if kwh_text.strip() else None
            except ValueError:
                held = RowError(line, f"malformed kwh {kwh_text.strip()!r}")
                continue
            if kwh is not None and not math.isfinite(kwh):
                held = RowError(line, f"kwh {kwh_text.strip()!r} is not a number")
                continue
            held = ReadingIn(meter_id.strip(), start, kwh, MEASURED, line)
        if held is not None:
            if lines.truncated and not lines.last_line_complete:
                held = RowError(held.line, "row cut off by a truncated file")
            elif isinstance(held, RowError) and not lines.last_line_complete:
                held = RowError(held.line, f"last row cut off, the file looks truncated ({held.reason})")
            yield held
        if lines.truncated:
            yield RowError(reader.line_num + 1, "file is truncated: the gzip stream ends early")
