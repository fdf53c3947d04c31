"""Green Button (NAESB ESPI) XML: an Atom feed of UsagePoint, MeterReading, ReadingType,
IntervalBlock and LocalTimeParameters entries.

Each IntervalReading has a ``timePeriod`` (UTC epoch ``start`` + ``duration`` seconds)
and an integer ``value`` in the ReadingType's unit (``uom`` 72 = Wh) times
10^``powerOfTenMultiplier``. The meter id is the UsagePoint entry's title (where a
retailer puts the 供給地点特定番号); entries are tied together by their Atom links.

The file comes from outside, so it is parsed with defusedxml, which refuses DTDs and
entity tricks (billion laughs, external entities). Parsing streams: a file cut off
mid-way still yields every reading that closed before the cut, then one error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser

from core.enums import ReadingQuality
from core.meters.sources import Item, ReadingIn, RowError, open_binary

UOM_WH = "72"
ESTIMATED_QUALITY_CODES = {"8", "9", "12"}  # ESPI QualityOfReading: estimated / projected
CHUNK = 1 << 16


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _id_after(href: str, kind: str) -> str | None:
    match = re.search(rf"/{kind}/([^/]+)", href)
    return match.group(1) if match else None


@dataclass
class RawReading:
    line: int
    start: str = ""
    duration: str = ""
    value: str = ""
    quality: str = ""


@dataclass
class Block:
    href: str
    readings: list[RawReading] = field(default_factory=list)


@dataclass
class ReadingTypeInfo:
    uom: str = UOM_WH
    power: str = "0"
    line: int = 0


class _EspiTarget:
    """A streaming parser target that keeps what it needs, with line numbers."""

    def __init__(self) -> None:
        self.parser: XMLParser | None = None
        self.stack: list[str] = []
        self.text: list[str] = []
        self.entry_links: dict[str, str] = {}
        self.entry_title = ""
        self.usage_points: dict[str, str] = {}  # usage point id (or "") -> title
        self.meter_reading_types: dict[str, str] = {}  # meter reading id -> reading type id
        self.reading_types: dict[str, ReadingTypeInfo] = {}
        self.blocks: list[Block] = []
        self.tz_offset_seconds: int | None = None
        self._reading: RawReading | None = None
        self._block: Block | None = None
        self._reading_type: ReadingTypeInfo | None = None

    def _line(self) -> int:
        return self.parser.parser.CurrentLineNumber if self.parser is not None else 0  # type: ignore[attr-defined]

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _local(tag)
        self.stack.append(name)
        self.text = []
        if name == "entry":
            self.entry_links, self.entry_title = {}, ""
        elif name == "link" and len(self.stack) >= 2 and self.stack[-2] == "entry":
            self.entry_links[attrib.get("rel", "alternate")] = attrib.get("href", "")
        elif name == "IntervalBlock":
            self._block = Block(self.entry_links.get("self", ""))
            self.blocks.append(self._block)
        elif name == "IntervalReading":
            self._reading = RawReading(self._line())
        elif name == "ReadingType":
            self._reading_type = ReadingTypeInfo(line=self._line())

    def data(self, text: str) -> None:
        self.text.append(text)

    def end(self, tag: str) -> None:
        name = _local(tag)
        value = "".join(self.text).strip()
        self.text = []
        parent = self.stack[-2] if len(self.stack) >= 2 else ""
        self.stack.pop()
        if name == "title" and parent == "entry":
            self.entry_title = value
        elif self._reading is not None and parent == "timePeriod" and name in ("start", "duration"):
            setattr(self._reading, name, value)
        elif self._reading is not None and name == "value" and parent == "IntervalReading":
            self._reading.value = value
        elif self._reading is not None and name == "quality":
            self._reading.quality = value
        elif name == "IntervalReading" and self._reading is not None and self._block is not None:
            self._block.readings.append(self._reading)
            self._reading = None
        elif name == "IntervalBlock":
            self._block = None
        elif self._reading_type is not None and parent == "ReadingType" and name in ("uom", "powerOfTenMultiplier"):
            setattr(self._reading_type, "uom" if name == "uom" else "power", value)
        elif name == "tzOffset" and parent == "LocalTimeParameters":
            self.tz_offset_seconds = int(value) if value.lstrip("-").isdigit() else None
        elif name == "entry":
            self._end_entry()

    def _end_entry(self) -> None:
        href = self.entry_links.get("self", "")
        if self._reading_type is not None:
            self.reading_types[_id_after(href, "ReadingType") or ""] = self._reading_type
            self._reading_type = None
        elif "/MeterReading/" in href and "/IntervalBlock" not in href:
            related = self.entry_links.get("related", "")
            self.meter_reading_types[_id_after(href, "MeterReading") or ""] = _id_after(related, "ReadingType") or ""
        elif "/UsagePoint/" in href and "/MeterReading" not in href:
            self.usage_points[_id_after(href, "UsagePoint") or ""] = self.entry_title

    def close(self) -> None:
        return None


class GreenButtonFile:
    """Reads one Green Button XML file as a ReadingSource."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def items(self) -> Iterator[Item]:
        target = _EspiTarget()
        parser = XMLParser(target=target, forbid_dtd=True)
        target.parser = parser
        failure: RowError | None = None
        with open_binary(self.path) as fh:
            try:
                while chunk := fh.read(CHUNK):
                    parser.feed(chunk)
                parser.close()
            except ParseError as exc:
                line = exc.position[0] if exc.position else 0
                failure = RowError(line, f"XML is malformed or cut off ({exc})")
            except DefusedXmlException as exc:
                yield RowError(0, f"refused: the XML uses a DTD or entities ({type(exc).__name__})")
                return
            except EOFError:
                failure = RowError(target._line(), "file is truncated: the gzip stream ends early")
        yield from self._resolve(target)
        if failure is not None:
            yield failure

    @staticmethod
    def _resolve(target: _EspiTarget) -> Iterator[Item]:
        for block in target.blocks:
            meter_id = _meter_for(target, block.href)
            reading_type = _reading_type_for(target, block.href)
            first_line = block.readings[0].line if block.readings else 0
            if meter_id is None:
                yield RowError(first_line, "IntervalBlock not tied to a UsagePoint with a title (the meter id)")
                continue
            if reading_type is None:
                yield RowError(first_line, "IntervalBlock without a ReadingType (unit unknown)")
                continue
            if reading_type.uom != UOM_WH:
                yield RowError(reading_type.line, f"ReadingType uom {reading_type.uom} is not 72 (Wh)")
                continue
            try:
                scale = 10.0 ** int(reading_type.power) / 1000.0
            except ValueError:
                yield RowError(reading_type.line, f"powerOfTenMultiplier {reading_type.power!r} is not an integer")
                continue
            for raw in block.readings:
                yield _reading(meter_id, raw, scale)


def _reading(meter_id: str, raw: RawReading, scale: float) -> Item:
    try:
        start = datetime.fromtimestamp(int(raw.start), UTC)
    except (ValueError, OverflowError, OSError):
        return RowError(raw.line, f"malformed timePeriod start {raw.start!r} (UTC epoch seconds expected)")
    if raw.duration != "1800":
        return RowError(raw.line, f"duration {raw.duration!r} is not 1800 s (half-hour readings only)")
    if raw.value == "":
        return ReadingIn(meter_id, start, None, ReadingQuality.MEASURED, raw.line)
    try:
        kwh = int(raw.value) * scale
    except ValueError:
        return RowError(raw.line, f"malformed value {raw.value!r}")
    quality = ReadingQuality.ESTIMATED if raw.quality in ESTIMATED_QUALITY_CODES else ReadingQuality.MEASURED
    return ReadingIn(meter_id, start, round(kwh, 6), quality, raw.line)


def _meter_for(target: _EspiTarget, href: str) -> str | None:
    usage_point = _id_after(href, "UsagePoint")
    if usage_point is not None and target.usage_points.get(usage_point):
        return target.usage_points[usage_point]
    titles = [t for t in target.usage_points.values() if t]
    return titles[0] if len(titles) == 1 else None


def _reading_type_for(target: _EspiTarget, href: str) -> ReadingTypeInfo | None:
    meter_reading = _id_after(href, "MeterReading")
    if meter_reading is not None:
        type_id = target.meter_reading_types.get(meter_reading)
        if type_id is not None and type_id in target.reading_types:
            return target.reading_types[type_id]
    if len(target.reading_types) == 1:
        return next(iter(target.reading_types.values()))
    return None
