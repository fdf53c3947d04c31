"""The one interface every meter data source implements, and what flows through it.

A source yields parsed readings (``ReadingIn``) and per-row problems (``RowError``) in
file order, so ingestion can import the good rows and list every bad one with its line
number. Files, the retailer's API and the simulator all look the same to ``ingest``.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, Protocol

from core.enums import ReadingQuality


class ReadingIn(NamedTuple):
    """One half-hour as a source saw it; ``kwh=None`` means the source said "missing"."""

    meter_id: str
    interval_start: datetime  # aware; converted to UTC on ingest
    kwh: float | None
    quality: ReadingQuality = ReadingQuality.MEASURED
    line: int = 0  # where it came from in the file (0 when not from a file)


class RowError(NamedTuple):
    """A row that cannot be imported, and why (``line`` 0 = the file as a whole)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


Item = ReadingIn | RowError


class ReadingSource(Protocol):
    """Anything that yields readings and row errors, in order."""

    def items(self) -> Iterator[Item]: ...


FORMATS = ("replay", "utility-csv", "green-button")
GZIP_MAGIC = b"\x1f\x8b"


def read_head(path: Path, size: int = 4096) -> bytes:
    """The first bytes of the (decompressed) file, for format sniffing; works on cut-off gzip."""
    with path.open("rb") as raw:
        data = raw.read(1 << 16)
    if not data.startswith(GZIP_MAGIC):
        return data[:size]
    try:
        return zlib.decompressobj(wbits=31).decompress(data, size)
    except zlib.error:
        return b""


def open_binary(path: Path) -> io.BufferedIOBase:
    """The file's bytes, gunzipped when it is gzip (by magic, whatever its name)."""
    with path.open("rb") as raw:
        start = raw.read(2)
    if start == GZIP_MAGIC:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


class TextLines:
    """Lines (without their newline) of a plain or gzip UTF-8 file, keeping every byte that
    arrived before a truncation.

    ``gzip.open`` raises on a cut-off stream and drops the last decoded block with it; this
    decompresses by hand so the good rows before the cut still import, and decodes whole
    blocks at a time (per-line decoding was a fifth of a large import). After iterating,
    ``truncated`` tells whether the gzip stream ended early and ``last_line_complete``
    whether the final line had its newline.
    """

    CHUNK = 1 << 20

    def __init__(self, path: Path) -> None:
        self.path = path
        self.truncated = False
        self.last_line_complete = True

    def __iter__(self) -> Iterator[str]:
        return split_lines(self.line_blocks())

    def line_blocks(self, read_size: int = CHUNK) -> Iterator[bytes]:
        """The file's bytes in blocks of whole lines, each ending with its newline; the last
        block is the final line alone when that line has no newline (``last_line_complete``)."""
        tail = b""
        for data in self._blocks(read_size):
            buffer = tail + data
            cut = buffer.rfind(b"\n")
            if cut < 0:
                tail = buffer
                continue
            tail = buffer[cut + 1 :]
            yield buffer[: cut + 1]
        if tail:
            self.last_line_complete = False
            yield tail

    def _blocks(self, read_size: int) -> Iterator[bytes]:
        with self.path.open("rb") as raw:
            if raw.read(2) != GZIP_MAGIC:
                raw.seek(0)
                while block := raw.read(read_size):
                    yield block
                return
            raw.seek(0)
            decompressor = zlib.decompressobj(wbits=31)
            while block := raw.read(read_size):
                try:
                    data = decompressor.decompress(block)
                except zlib.error:
                    self.truncated = True
                    return
                while decompressor.eof and decompressor.unused_data:
                    rest = decompressor.unused_data  # another gzip member follows
                    decompressor = zlib.decompressobj(wbits=31)
                    data += decompressor.decompress(rest)
                yield data
            if not decompressor.eof:
                self.truncated = True


def split_lines(blocks: Iterable[bytes], first: bool = True) -> Iterator[str]:
    """The lines of blocks of whole lines (the last may lack its newline), decoded a block at
    a time; a byte-order mark is dropped from the first (when ``first``)."""
    for data in blocks:
        text = data.decode("utf-8", errors="replace")
        if first or not data.endswith(b"\n"):
            text, first = text.removeprefix("\ufeff"), False
        if data.endswith(b"\n"):
            yield from text[:-1].split("\n")
        else:
            yield text


def detect_format(path: Path) -> str:
    """Guess the format from the name, then the content; raises ValueError if unsure."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".xml"):
        return "green-button"
    head = read_head(path)
    stripped = head.lstrip(b"\xef\xbb\xbf \r\n\t")
    if stripped.startswith(b"<"):
        return "green-button"
    first_line = stripped.split(b"\n", 1)[0].strip().lower()
    if first_line.startswith(b"meter_id,interval_start,kwh"):
        return "replay"
    for encoding in ("utf-8", "cp932"):
        try:
            text = head.decode(encoding, errors="strict" if encoding == "cp932" else "ignore")
        except UnicodeDecodeError:
            continue
        if "供給地点特定番号" in text or "年月日" in text:
            return "utility-csv"
    raise ValueError(f"cannot tell the format of {path.name}; give --format replay|utility-csv|green-button")


def file_source(path: Path, fmt: str | None = None) -> ReadingSource:
    """The source that reads ``path`` in ``fmt`` (detected when None)."""
    from core.meters.green_button import GreenButtonFile
    from core.meters.replay_csv import ReplayCsvFile
    from core.meters.utility_csv import UtilityCsvFile

    fmt = fmt or detect_format(path)
    table: dict[str, type] = {
        "replay": ReplayCsvFile,
        "utility-csv": UtilityCsvFile,
        "green-button": GreenButtonFile,
    }
    if fmt not in table:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return table[fmt](path)  # type: ignore[no-any-return]
