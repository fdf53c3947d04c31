"""Ingestion: every reading kept once, keyed by (home, interval start).

Rows are checked (known meter, aware half-hour-aligned time, 0 ≤ kWh ≤ 50), de-duplicated
(the later row wins) and merged in chunks (:mod:`core.meters.merge`): the same file twice
changes nothing, a different value for a known half-hour is a revision, late and
out-of-order rows are fine, and a gap stays an absent row (never a zero).

Two ways in, one verdict. A source that reads ``batches()`` (the replay CSV) hands over
blocks as columns, checked with numpy; any row those checks do not pass outright, and
every line the columnar parser left aside, goes through the row-by-row checks, which are
the only ones that word an error. Other sources (the API, the simulator, utility CSV,
Green Button) go row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from heapq import merge as in_line_order

import numpy as np
from sqlalchemy import ARRAY, DateTime, Integer, bindparam, delete, select, text
from sqlalchemy.orm import Session

from core import audit, clock
from core.db import UTCDateTime
from core.enums import HomeStatus, ReadingQuality
from core.errors import ValidationError
from core.meters.columnar import ReadingColumns
from core.meters.merge import QUALITIES, Merger, Rows
from core.meters.sources import Item, ReadingSource, RowError
from core.meters.supply_point import parse_supply_point
from core.models import Home, MeterReading

MAX_KWH_PER_HALF_HOUR = 50.0  # 100 kW for 30 minutes: beyond any home's contract
CHUNK_ROWS = 100_000
HALF_HOUR = timedelta(minutes=30)
SLOT = 1800  # seconds in a half-hour
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACTOR = "meters.ingest"
QUALITY_CODE = {quality: code for code, quality in enumerate(QUALITIES)}


@dataclass
class ImportResult:
    """What an import did; ``rejected`` rows are listed in ``errors`` with line numbers."""

    inserted: int = 0
    revised: int = 0
    unchanged: int = 0
    missing: int = 0  # half-hours the source marked missing: nothing stored
    homes_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    @property
    def changed(self) -> int:
        return self.inserted + self.revised

    def add(self, other: ImportResult) -> None:
        self.inserted += other.inserted
        self.revised += other.revised
        self.unchanged += other.unchanged
        self.missing += other.missing
        self.homes_created += other.homes_created
        self.errors.extend(other.errors)


class HomeIndex:
    """Meter id or supply point number -> home id, creating homes when asked to."""

    def __init__(self, session: Session, create_homes: bool, before_write: Callable[[], None] = lambda: None) -> None:
        self.session = session
        self.before_write = before_write
        self.create_homes = create_homes
        self.created = 0
        self.ids: dict[str, int] = {}
        for home_id, meter_id, supply_point in session.execute(
            select(Home.id, Home.meter_id, Home.supply_point_number)
        ):
            self.ids[meter_id] = home_id
            if supply_point:
                self.ids.setdefault(supply_point, home_id)

    def resolve(self, meter_id: str) -> int | None:
        home_id = self.ids.get(meter_id)
        if home_id is None and self.create_homes:
            home_id = self._create(meter_id)
        return home_id

    def _create(self, meter_id: str) -> int | None:
        if len(meter_id) > 64:
            return None
        try:
            point = parse_supply_point(meter_id) if len(meter_id) == 22 and meter_id.isdigit() else None
        except ValidationError:
            point = None
        self.before_write()
        home = Home(
            meter_id=meter_id,
            supply_point_number=point.number if point else None,
            area=point.area_name if point else None,
            status=HomeStatus.AWAITING_HISTORY,
        )
        self.session.add(home)
        self.session.flush()
        audit.record(self.session, ACTOR, "meters.home_created", home_id=home.id)
        self.ids[meter_id] = home.id
        self.created += 1
        return home.id


def check_time(start: datetime, now: datetime) -> tuple[datetime, str | None]:
    """The UTC start of a half-hour and, if it cannot be stored, why."""
    if start.tzinfo is None:
        return start, "time has no UTC offset"
    utc = start.astimezone(UTC)
    if utc.second or utc.microsecond or utc.minute % 30:
        return utc, f"time {start.isoformat()} is not the start of a half-hour"
    if utc + HALF_HOUR > now:
        return utc, f"half-hour {start.isoformat()} has not ended yet"
    return utc, None


def check_kwh(kwh: float) -> str | None:
    """Why a value cannot be a half-hour's energy, or None."""
    if kwh != kwh:
        return "kwh is not a number"
    if kwh < 0:
        return f"negative kwh {kwh}"
    if kwh > MAX_KWH_PER_HALF_HOUR:
        return f"impossible kwh {kwh} (more than {MAX_KWH_PER_HALF_HOUR:g} in half an hour)"
    return None


def ingest(
    session: Session,
    source: ReadingSource | Iterable[Item],
    *,
    create_homes: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Store what ``source`` yields; the caller commits. Bad rows are listed, good rows kept."""
    now = now or clock.now()
    merger = BackgroundMerger(session, now)
    homes = HomeIndex(session, create_homes, before_write=merger.wait)
    intake = Intake(homes, now, merger.submit)
    try:
        if hasattr(source, "batches"):
            for part in source.batches():
                if isinstance(part, ReadingColumns):
                    intake.add_columns(part)
                else:
                    intake.add_items((part,))
        else:
            intake.add_items(source.items() if hasattr(source, "items") else source)
        intake.flush()
    finally:
        merger.close()
    result = intake.result
    result.add(merger.result)
    result.homes_created = homes.created
    mark_arrivals(session, {home: datetime.fromtimestamp(at, UTC) for home, at in intake.latest.items()})
    return result


Pending = dict[tuple[int, int], tuple[float, str, int]]  # (home, epoch second) -> (kWh, quality, line)


class Intake:
    """One import's checks: rows in, errors listed, good rows out to ``submit`` as sorted
    unique chunks; remembers each home's newest half-hour."""

    def __init__(self, homes: HomeIndex, now: datetime, submit: Callable[[Rows], None]) -> None:
        self.homes = homes
        self.now = now
        self.now_us = (now - EPOCH) // timedelta(microseconds=1)
        self.submit = submit
        self.result = ImportResult()
        self.pending: Pending = {}
        self.latest: dict[int, int] = {}
        self.times: dict[datetime, tuple[int, str | None]] = {}  # times recur for every meter: check once

    def add_items(self, items: Iterable[Item], into: Pending | None = None) -> None:
        """Row by row (the hot loop of every source without columns: local names, no calls
        for good rows). Rows go to ``into``, or to the pending chunk, submitted when full."""
        batch = self.pending if into is None else into
        result, times, now = self.result, self.times, self.now
        known = self.homes.ids
        for item in items:
            if type(item) is RowError:
                result.errors.append(item)
                continue
            meter_id, start, kwh = item[0], item[1], item[2]
            checked = times.get(start)
            if checked is None:
                if len(times) > 200_000:
                    times.clear()
                utc, problem = check_time(start, now)
                checked = times[start] = (0 if problem else (utc - EPOCH) // timedelta(seconds=1), problem)
            at, problem = checked
            if problem is None and kwh is not None and not (0.0 <= kwh <= MAX_KWH_PER_HALF_HOUR):
                problem = check_kwh(kwh)
            if problem:
                result.errors.append(RowError(item.line, problem))
                continue
            if kwh is None:
                result.missing += 1
                continue
            home_id = known.get(meter_id)
            if home_id is None:
                home_id = self.homes.resolve(meter_id)
                if home_id is None:
                    result.errors.append(RowError(item.line, f"unknown meter {meter_id!r}"))
                    continue
            key = (home_id, at)
            if key in batch:
                result.unchanged += 1  # a repeat inside the chunk: the later row wins
            batch[key] = (kwh, item.quality, item.line)
            if into is None and len(batch) >= CHUNK_ROWS:
                self.flush()
                batch = self.pending

    def flush(self) -> None:
        if self.pending:
            pending, self.pending = self.pending, {}
            self._submit(*columns_of(pending))

    def add_columns(self, part: ReadingColumns) -> None:
        """A block checked column-wise; rows that do not pass outright go row by row."""
        self.flush()  # rows before this block are stored first (the later row wins)
        start, kwh, missing = part.start, part.kwh, part.missing
        time_ok = (start % SLOT == 0) & ((start + SLOT) * 1_000_000 <= self.now_us)
        with np.errstate(invalid="ignore"):
            kwh_ok = (kwh >= 0.0) & (kwh <= MAX_KWH_PER_HALF_HOUR)
        self.result.missing += int((time_ok & missing).sum())
        present = time_ok & kwh_ok
        home = self._homes(part, present)
        good = present & (home >= 0)
        judged = np.flatnonzero(~good & ~(time_ok & missing))
        marked = len(self.result.errors)
        others: Pending = {}
        again = (part.item(i) for i in judged.tolist())
        self.add_items(in_line_order(part.extra, again, key=lambda item: item.line), others)
        if len(self.result.errors) > marked + 1:  # this block's errors in line order
            self.result.errors[marked:] = sorted(self.result.errors[marked:], key=lambda error: error.line)
        more = columns_of(others)
        measured = np.full(int(good.sum()), QUALITY_CODE[ReadingQuality.MEASURED], np.int8)
        self._submit(*(np.concatenate((ours, theirs)) for ours, theirs in zip(
            (home[good], start[good], kwh[good], measured, part.line[good]), more, strict=True)))

    def _homes(self, part: ReadingColumns, rows: np.ndarray) -> np.ndarray:
        """Each row's home id (-1 if unknown), resolving meters in order of first appearance."""
        table = np.full(len(part.meters), -1, np.int64)
        codes = part.meter[rows]
        if len(codes):
            distinct, first = np.unique(codes, return_index=True)
            for code in distinct[np.argsort(first)].tolist():
                home_id = self.homes.resolve(part.meters[code])
                table[code] = -1 if home_id is None else home_id
        return table[part.meter]

    def _submit(self, home: np.ndarray, start: np.ndarray, kwh: np.ndarray, quality: np.ndarray,
                line: np.ndarray) -> None:
        """Sort by key (the later line wins a repeated key), note each home's newest, submit."""
        if not len(home):
            return
        if len(home) > 1:
            step_home, step_start = home[1:] - home[:-1], start[1:] - start[:-1]
            if not ((step_home > 0) | ((step_home == 0) & (step_start > 0))).all():
                order = np.lexsort((line, start, home))
                home, start, kwh, quality = home[order], start[order], kwh[order], quality[order]
                last = np.ones(len(home), bool)
                last[:-1] = (home[1:] != home[:-1]) | (start[1:] != start[:-1])
                self.result.unchanged += len(home) - int(last.sum())
                home, start, kwh, quality = home[last], start[last], kwh[last], quality[last]
        ends = np.append(np.flatnonzero(home[1:] != home[:-1]), len(home) - 1)
        latest = self.latest
        for home_id, at in zip(home[ends].tolist(), start[ends].tolist(), strict=True):
            if at > latest.get(home_id, at - 1):
                latest[home_id] = at
        self.submit(Rows(home, start, kwh, quality))


def columns_of(pending: Pending) -> tuple[np.ndarray, ...]:
    """(home, start, kWh, quality code, line) arrays of a pending chunk, in its order."""
    n = len(pending)
    keys = np.array(list(pending), dtype=np.int64).reshape(n, 2)
    if not n:
        return keys[:, 0], keys[:, 1], np.empty(0), np.empty(0, np.int8), np.empty(0, np.int64)
    kwh, quality, line = zip(*pending.values(), strict=True)
    codes = np.fromiter((QUALITY_CODE[q] for q in quality), np.int8, n)
    return keys[:, 0], keys[:, 1], np.array(kwh, np.float64), codes, np.array(line, np.int64)


class BackgroundMerger:
    """Runs each chunk's merge on one worker thread, so checking the next chunk overlaps the
    database work (drivers release the GIL while the database works). The session is only
    ever used by one thread at a time: anything else that writes calls ``wait`` first."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.merger = Merger(now)
        self.result = ImportResult()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="meters-merge")
        self._pending: Future[ImportResult] | None = None

    def submit(self, rows: Rows) -> None:
        self.wait()
        self._pending = self._pool.submit(self._merge, rows)

    def _merge(self, rows: Rows) -> ImportResult:
        merged = self.merger.merge(self.session.connection(), rows)
        return ImportResult(inserted=merged.inserted, revised=merged.revised, unchanged=merged.unchanged)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.result.add(pending.result())

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


def delete_readings(session: Session, home_id: int) -> int:
    """Delete a home's readings (meter_reading has no foreign key to cascade; see the model)."""
    return session.execute(delete(MeterReading).where(MeterReading.home_id == home_id)).rowcount


def mark_arrivals(session: Session, latest: dict[int, datetime]) -> None:
    """Move each home's ``last_reading_at`` (the START of the newest half-hour held) forward;
    a home whose data came back (a reading at or after ``data_gap_since``) leaves its gap."""
    if not latest:
        return
    session.flush()
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # One statement for every home (a cycle moves 100,000 of them): an executemany of
        # per-home UPDATEs took 8 s at that size.
        conn.execute(
            text(
                "UPDATE home SET last_reading_at = u.at FROM unnest(:ids, :ats) AS u(id, at) "
                "WHERE home.id = u.id AND (home.last_reading_at IS NULL OR home.last_reading_at < u.at)"
            ).bindparams(bindparam("ids", type_=ARRAY(Integer)),
                         bindparam("ats", type_=ARRAY(DateTime(timezone=True)))),
            {"ids": list(latest), "ats": list(latest.values())},
        )
    else:
        update = text(
            "UPDATE home SET last_reading_at = :at "
            "WHERE id = :id AND (last_reading_at IS NULL OR last_reading_at < :at)"
        ).bindparams(bindparam("at", type_=UTCDateTime()))
        conn.execute(update, [{"id": home_id, "at": at} for home_id, at in latest.items()])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Home):
            session.expire(obj, ["last_reading_at"])
    gapped = session.execute(
        select(Home).where(Home.data_gap_since.is_not(None)).execution_options(populate_existing=True)
    ).scalars()
    for home in gapped:
        if home.id in latest and home.last_reading_at is not None and home.last_reading_at >= home.data_gap_since:
            since = home.data_gap_since.isoformat()
            audit.record(session, ACTOR, "meters.data_gap_ended", home_id=home.id, since=since)
            home.data_gap_since = None
    session.flush()
