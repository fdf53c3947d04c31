"""Replay CSV: ``meter_id,interval_start,kwh`` with ISO 8601 times that carry an offset.

The format of ../shared/data/lcl-dev and of any export we replay. Plain or gzip (by
magic, whatever the name). An empty kwh is a missing half-hour: nothing is stored.

Two ways to read a file, with the same verdict on every line: ``items()`` row by row, and
``batches()`` for a large import, which takes regular lines column-wise
(:mod:`core.meters.columnar`) and gives every other line to the same row parser. A block
with a quote, CR or NUL in it, and everything after, goes to csv row by row instead.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from pathlib import Path

from core.enums import ReadingQuality
from core.meters.columnar import ReadingColumns, parse_block
from core.meters.read_ahead import read_ahead
from core.meters.sources import Item, ReadingIn, RowError, TextLines, split_lines

HEADER = ["meter_id", "interval_start", "kwh"]
MEASURED = ReadingQuality.MEASURED
BLOCK_READ = 1 << 18  # compressed bytes per block: ~60,000 lines, so storing one overlaps parsing the next
ROW_BY_ROW = (b'"', b"\r", b"\0")  # csv's quoting, line ends and refusals: from there on, csv decides


def parse_aware(text: str) -> datetime:
    """An ISO 8601 time with an offset; raises ValueError naming what is wrong."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return value


class RowParser:
    """One data row (csv's cells) -> a reading, a row error, or None for a blank row."""

    def __init__(self) -> None:
        self.times: dict[str, datetime | None] = {}  # the same times recur for every meter: parse once

    def __call__(self, row: list[str], line: int) -> Item | None:
        if len(row) != 3:
            if any(c.strip() for c in row):
                return RowError(line, f"expected 3 columns (meter_id,interval_start,kwh), found {len(row)}")
            return None
        meter_id, start_text, kwh_text = row
        start = self.times.get(start_text, False)
        if start is False:
            if len(self.times) > 200_000:
                self.times.clear()
            try:
                start = self.times[start_text] = parse_aware(start_text)
            except ValueError:
                start = self.times[start_text] = None
        if start is None:
            return RowError(line, f"malformed time {start_text.strip()!r} (ISO 8601 with offset expected)")
        if not meter_id:
            return RowError(line, "meter_id is empty")
        try:
            kwh = float(kwh_text) if kwh_text.strip() else None
        except ValueError:
            return RowError(line, f"malformed kwh {kwh_text.strip()!r}")
        if kwh is not None and not math.isfinite(kwh):
            return RowError(line, f"kwh {kwh_text.strip()!r} is not a number")
        return ReadingIn(meter_id.strip(), start, kwh, MEASURED, line)

    def text(self, text: str, line: int) -> Item | None:
        """A line without quote, CR or NUL, whose csv cells are simply its comma-separated parts."""
        return self(text.split(",") if text else [], line)


def reparse(text: str, line: int) -> Item | None:
    """One line judged alone (an odd row of a columnar block, for the words of its error)."""
    return RowParser().text(text, line)


def header_verdict(row: list[str], line: int) -> RowError | bool:
    """For the file's first row: True if it is the header, an error if it is a wrong one."""
    if [c.strip().lower() for c in row] == HEADER:
        return True
    if row and row[0].strip().lower() == "meter_id":
        return RowError(line, f"header must be {','.join(HEADER)}")
    return False


class ReplayCsvFile:
    """Reads one replay CSV file as a ReadingSource."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def items(self) -> Iterator[Item]:
        lines = TextLines(self.path)
        return self._rows(lines, lines, RowParser(), 0)

    def batches(self) -> Iterator[ReadingColumns | Item]:
        """The file in order: blocks of regular lines as columns, everything else as items
        (read and parsed in a child process, one block ahead of the caller)."""
        return read_ahead(self._batches)

    def _batches(self) -> Iterator[ReadingColumns | Item]:
        lines = TextLines(self.path)
        parser = RowParser()
        done = 0  # lines read so far
        blocks = lines.line_blocks(BLOCK_READ)
        for data in blocks:
            if not data.endswith(b"\n") or any(mark in data for mark in ROW_BY_ROW):
                yield from self._rows(split_lines(chain([data], blocks), first=done == 0), lines, parser, done)
                return
            if done == 0:
                cut = data.index(b"\n") + 1
                text = next(split_lines([data[:cut]]))
                row = text.split(",") if text else []
                verdict = header_verdict(row, 1)
                if isinstance(verdict, RowError):
                    yield verdict
                    return
                if not verdict and (item := parser(row, 1)) is not None:
                    yield item
                data, done = data[cut:], 1
            if data:
                yield parse_block(data, done + 1, parser.text, reparse)
                done += data.count(b"\n")
        if lines.truncated:
            yield RowError(done + 1, "file is truncated: the gzip stream ends early")

    @staticmethod
    def _rows(source: Iterable[str], lines: TextLines, parser: RowParser, offset: int) -> Iterator[Item]:
        """Row by row with csv, from line ``offset + 1``; the last row is judged once we know
        whether the file was cut off."""
        reader = csv.reader(source)
        header_seen = offset > 0
        held: Item | None = None  # the previous row, judged once we know whether it was cut off
        for row in reader:
            if held is not None:
                yield held
                held = None
            line = offset + reader.line_num
            if not header_seen:
                header_seen = True
                verdict = header_verdict(row, line)
                if isinstance(verdict, RowError):
                    yield verdict
                    return
                if verdict:
                    continue
            held = parser(row, line)
        if held is not None:
            if lines.truncated and not lines.last_line_complete:
                held = RowError(held.line, "row cut off by a truncated file")
            elif isinstance(held, RowError) and not lines.last_line_complete:
                held = RowError(held.line, f"last row cut off, the file looks truncated ({held.reason})")
            yield held
        if lines.truncated:
            yield RowError(offset + reader.line_num + 1, "file is truncated: the gzip stream ends early")
