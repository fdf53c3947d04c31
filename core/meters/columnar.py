"""Replay CSV lines parsed column-wise with numpy: the fast path of a large import.

Row by row, a million-row replay file cost ~4 s of Python (csv, ``fromisoformat``,
``float`` and a tuple per row) while SQLite stored the same rows in ~2 s. Here a block of
whole lines is split on its commas and each column converted at once. Only lines whose
form is plainly regular are taken: printable ASCII, three fields, a meter id of 1-64
characters, a time written ``YYYY-MM-DDTHH:MM:SS±HH:MM`` and a plain decimal kWh
(``-?digits[.digits]``, at most 15 digits) or nothing (missing). Every other line is
returned by number, so the row-by-row parser judges it with the words it always used.

The values are exactly what the row-by-row path makes: kWh by numpy's conversion of
the checked text, which rounds correctly as ``float(text)`` does; times become UTC epoch
seconds by the civil-calendar formula, and a time the calendar refuses (30 February) is
left to the row parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.meters.sources import Item

NEWLINE, COMMA = ord("\n"), ord(",")
DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24])  # in "2013-01-01T00:00:00+09:00"
SEPARATOR_AT = np.array([4, 7, 10, 13, 16, 22])
SEPARATOR_BYTES = np.frombuffer(b"--T:::", np.uint8)
TIME_WIDTH, SIGN_AT = 25, 19
MAX_METER, MAX_KWH_WIDTH, MAX_KWH_DIGITS = 64, 17, 15
PAD = MAX_METER  # zero bytes around a block, so fixed-width windows never leave it
YEARS = (1900, 9000)  # beyond these the row parser decides (datetime's own limits are near)
DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass
class ReadingColumns:
    """Rows of one block as columns (all in file order), and the block's other lines.

    ``meter`` indexes ``meters``; ``start`` is the UTC epoch second of the half-hour as
    written (checked later, by ingestion); ``kwh`` is NaN where ``missing``. ``extra`` holds
    what the row parser made of the block's irregular lines; ``item(i)`` re-reads row ``i``
    that way (for the words of an error), from the block's bytes. Plain data, so a block
    parsed in another process can be sent over (``reparse`` is a module-level function)."""

    meters: list[str]
    meter: np.ndarray
    start: np.ndarray
    kwh: np.ndarray
    missing: np.ndarray
    line: np.ndarray
    data: bytes
    spans: np.ndarray  # (start, newline) offsets of each row's line in ``data``
    reparse: Callable[[str, int], Item | None]
    extra: list[Item] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.line)

    def item(self, i: int) -> Item:
        begin, end = self.spans[i].tolist()
        got = self.reparse(self.data[begin:end].decode("utf-8", errors="replace"), int(self.line[i]))
        assert got is not None  # a row with three fields is never blank
        return got


@dataclass
class Fields:
    """Where each regular line's fields sit in the block (indices into the block's lines)."""

    rows: np.ndarray  # line index within the block
    starts: np.ndarray  # line start offsets
    c1: np.ndarray  # first comma
    c2: np.ndarray  # second comma
    ends: np.ndarray  # newline offsets


def split_fields(buf: np.ndarray) -> tuple[np.ndarray, Fields]:
    """The block's newline offsets and its lines of printable ASCII with exactly two commas."""
    ends = np.flatnonzero(buf == NEWLINE)
    n = len(ends)
    starts = np.empty(n, np.int64)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    regular = np.ones(n, bool)
    odd = np.flatnonzero((buf <= 32) | (buf >= 127))  # spaces the row parser would strip, control, non-ASCII
    odd = odd[buf[odd] != NEWLINE]
    regular[np.searchsorted(ends, odd)] = False
    commas = np.flatnonzero(buf == COMMA)
    count = np.bincount(np.searchsorted(ends, commas), minlength=n)
    regular &= count == 2
    rows = np.flatnonzero(regular)
    first = (np.cumsum(count) - count)[rows]
    return ends, Fields(rows, starts[rows], commas[first], commas[first + 1], ends[rows])


def gather(buf: np.ndarray, begin: np.ndarray, width: int) -> np.ndarray:
    """``width`` bytes from each offset in ``begin`` (rows x width); ``buf`` is padded (PAD)."""
    return sliding_window_view(buf, width)[begin + PAD]


def parse_times(buf: np.ndarray, begin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch seconds of ``YYYY-MM-DDTHH:MM:SS±HH:MM`` at each offset, and which were valid."""
    text = gather(buf, begin, TIME_WIDTH)
    ok = (text[:, SEPARATOR_AT] == SEPARATOR_BYTES).all(axis=1)
    sign = text[:, SIGN_AT]
    ok &= (sign == ord("+")) | (sign == ord("-"))
    d = text[:, DIGITS] - np.uint8(ord("0"))  # uint8: anything but a digit wraps past 9
    ok &= (d <= 9).all(axis=1)
    pairs = d[:, 0::2].astype(np.int32) * 10 + d[:, 1::2]
    year = pairs[:, 0] * 100 + pairs[:, 1]
    month, day, hour, minute, second, off_h, off_m = pairs[:, 2:].T
    ok &= (year >= YEARS[0]) & (year <= YEARS[1]) & (month >= 1) & (month <= 12)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = DAYS_IN_MONTH[np.clip(month, 0, 12)] + (leap & (month == 2))
    ok &= (day >= 1) & (day <= month_days) & (hour <= 23) & (minute <= 59) & (second <= 59)
    ok &= (off_h <= 23) & (off_m <= 59)
    # days since 1970-01-01 (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    days = (era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468).astype(np.int64)
    offset = np.where(sign == ord("-"), -1, 1) * (off_h * 3600 + off_m * 60)
    return days * 86400 + (hour * 3600 + minute * 60 + second - offset), ok


def parse_decimals(buf: np.ndarray, begin: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The value of ``-?digits[.digits]`` in each ``[begin, end)`` (non-empty), and which were
    of that form; exact (see the module's docstring)."""
    width = end - begin
    ok = width <= MAX_KWH_WIDTH
    cells = gather(buf, begin, MAX_KWH_WIDTH).copy()
    cells[np.arange(MAX_KWH_WIDTH) >= width[:, None]] = 0  # left-aligned, NUL after the field
    digit = (cells - np.uint8(ord("0"))) <= 9
    dot = cells == ord(".")
    ok &= (digit | dot | (cells == 0)).sum(axis=1) + (cells[:, 0] == ord("-")) == MAX_KWH_WIDTH
    ok &= dot.sum(axis=1) <= 1
    rows = np.arange(len(begin))
    last = np.clip(width - 1, 0, MAX_KWH_WIDTH - 1)
    ok &= digit[rows, (cells[:, 0] == ord("-")).astype(np.intp)] & digit[rows, last]  # "1.", ".5" go row by row
    ok &= digit.sum(axis=1) <= MAX_KWH_DIGITS
    cells[~ok] = ord("0")  # numpy's conversion is float()'s (correctly rounded); give it only numbers
    return np.ascontiguousarray(cells).view(f"S{MAX_KWH_WIDTH}").ravel().astype(np.float64), ok


def meter_codes(buf: np.ndarray, data: bytes, begin: np.ndarray, end: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Distinct meter ids (by first appearance) and each row's index into them; a file holds
    each meter's rows together, so only the starts of runs are decoded."""
    if not len(begin):
        return [], np.empty(0, np.int32)
    width = end - begin
    wide = int(width.max())
    cells = np.where(np.arange(wide) < width[:, None], gather(buf, begin, wide), 0)
    change = np.ones(len(begin), bool)
    change[1:] = (width[1:] != width[:-1]) | (cells[1:] != cells[:-1]).any(axis=1)
    run_starts = np.flatnonzero(change)
    meters: dict[str, int] = {}
    codes = [meters.setdefault(data[b:e].decode("ascii"), len(meters))
             for b, e in zip(begin[run_starts].tolist(), end[run_starts].tolist(), strict=True)]
    lengths = np.diff(np.append(run_starts, len(begin)))
    return list(meters), np.repeat(np.array(codes, np.int32), lengths)


def parse_block(data: bytes, first_line: int, row_of: Callable[[str, int], Item | None],
                reparse: Callable[[str, int], Item | None]) -> ReadingColumns:
    """The rows of ``data`` (whole lines, each ending in a newline, no quote, CR or NUL;
    the first is line ``first_line``): regular ones as columns, the rest through ``row_of``
    (``reparse`` does the same for one row later, in whichever process holds the result)."""
    raw = np.frombuffer(data, np.uint8)
    buf = np.zeros(len(data) + 2 * PAD, np.uint8)
    buf[PAD:-PAD] = raw
    ends, f = split_fields(raw)
    n = len(ends)
    ok = (f.c1 > f.starts) & (f.c1 - f.starts <= MAX_METER) & (f.c2 - f.c1 - 1 == TIME_WIDTH)
    start, good_time = parse_times(buf, f.c1 + 1)
    ok &= good_time
    missing = f.ends == f.c2 + 1
    kwh, good_kwh = parse_decimals(buf, f.c2 + 1, f.ends)
    ok &= good_kwh | missing
    keep = np.flatnonzero(ok)
    rows = f.rows[keep]
    meters, meter = meter_codes(buf, data, f.starts[keep], f.c1[keep])
    line_starts = np.empty(n + 1, np.int64)
    line_starts[0] = 0
    line_starts[1:] = ends + 1

    def text_of(index: int) -> str:
        return data[line_starts[index] : line_starts[index + 1] - 1].decode("utf-8", errors="replace")

    irregular = np.ones(n, bool)
    irregular[rows] = False
    extra = [item for index in np.flatnonzero(irregular).tolist()
             if (item := row_of(text_of(index), first_line + index)) is not None]
    return ReadingColumns(
        meters=meters, meter=meter, start=start[keep], kwh=np.where(missing[keep], np.nan, kwh[keep]),
        missing=missing[keep], line=rows + first_line, data=data,
        spans=np.stack((f.starts[keep], f.ends[keep]), axis=1), reparse=reparse, extra=extra,
    )
