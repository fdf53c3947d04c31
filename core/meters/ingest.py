"""Ingestion: every reading kept once, keyed by (home, interval start).

Rows are checked (known meter, aware half-hour-aligned time, 0 ≤ kWh ≤ 50), gathered
in chunks and merged with ``INSERT … ON CONFLICT DO UPDATE … WHERE the value differs``:
on PostgreSQL from a temporary stage table filled by COPY, on SQLite by one executemany
straight into the table. So the same file twice changes nothing, a different value for a
known half-hour is a revision (速報値 → 確定値, quality ``revised``), late and
out-of-order rows are fine, and a gap stays an absent row (never a zero).

Counts come from the database, not from guesses: rows the merge inserted (PostgreSQL's
``xmax = 0``; SQLite's growth of ``max(rowid)``) and rows it changed give inserted,
revised and unchanged exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, Connection, DateTime, Integer, bindparam, delete, select, text
from sqlalchemy.orm import Session

from core import audit, clock
from core.db import UTCDateTime
from core.enums import HomeStatus, ReadingQuality
from core.errors import ValidationError
from core.meters.sources import Item, ReadingSource, RowError
from core.meters.supply_point import parse_supply_point
from core.models import Home, MeterReading

MAX_KWH_PER_HALF_HOUR = 50.0  # 100 kW for 30 minutes: beyond any home's contract
CHUNK_ROWS = 100_000
HALF_HOUR = timedelta(minutes=30)
STAGE = "meter_reading_stage"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACTOR = "meters.ingest"


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
    items = source.items() if hasattr(source, "items") else source
    merger = BackgroundMerger(session, now)
    homes = HomeIndex(session, create_homes, before_write=merger.wait)
    result = ImportResult()
    batch: dict[tuple[int, datetime], tuple[float, str]] = {}
    latest: dict[int, datetime] = {}
    times: dict[datetime, tuple[datetime, str | None]] = {}  # times recur for every meter: check once
    known = homes.ids  # the hot loop below runs a million times: local names, no calls for good rows
    try:
        for item in items:
            if type(item) is RowError:
                result.errors.append(item)
                continue
            meter_id, start, kwh = item[0], item[1], item[2]
            checked = times.get(start)
            if checked is None:
                if len(times) > 200_000:
                    times.clear()
                checked = times[start] = check_time(start, now)
            utc, problem = checked
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
                home_id = homes.resolve(meter_id)
                if home_id is None:
                    result.errors.append(RowError(item.line, f"unknown meter {meter_id!r}"))
                    continue
            key = (home_id, utc)
            if key in batch:
                result.unchanged += 1  # a repeat inside the file: the later value wins
            batch[key] = (kwh, item.quality)
            if utc > latest.get(home_id, EPOCH):
                latest[home_id] = utc
            if len(batch) >= CHUNK_ROWS:
                merger.submit(batch)
                batch = {}
        if batch:
            merger.submit(batch)
    finally:
        merger.close()
    result.add(merger.result)
    result.homes_created = homes.created
    mark_arrivals(session, latest)
    return result


class BackgroundMerger:
    """Runs each chunk's merge on one worker thread, so parsing the next chunk overlaps the
    database work (drivers release the GIL while the database works). The session is only
    ever used by one thread at a time: anything else that writes calls ``wait`` first."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.result = ImportResult()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="meters-merge")
        self._pending: Future[ImportResult] | None = None

    def submit(self, batch: dict[tuple[int, datetime], tuple[float, str]]) -> None:
        self.wait()
        self._pending = self._pool.submit(merge, self.session, batch, self.now)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.result.add(pending.result())

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


# ---- the merge ------------------------------------------------------------------------
_MERGE = """
INSERT INTO meter_reading (home_id, interval_start, kwh, quality, received_at)
SELECT home_id, interval_start, kwh, quality, :now FROM {stage} WHERE true
ON CONFLICT (home_id, interval_start) DO UPDATE
SET kwh = excluded.kwh, quality = :revised, received_at = excluded.received_at
WHERE meter_reading.kwh {distinct} excluded.kwh
"""
def merge(session: Session, batch: dict[tuple[int, datetime], tuple[float, str]], now: datetime) -> ImportResult:
    """Upsert one chunk (unique keys); returns exact counts."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return _merge_sqlite(conn, batch, now)
    _stage_postgres(conn, batch)
    # One statement: xmax = 0 marks a row this statement inserted (not updated).
    sql = f"WITH m AS ({_MERGE.format(stage=STAGE, distinct='IS DISTINCT FROM')} RETURNING (xmax = 0) AS fresh) "
    sql += "SELECT count(*) FILTER (WHERE fresh), count(*) FROM m"
    inserted, changed = conn.execute(_with_now(sql), _params(now)).one()
    revised = changed - inserted
    return ImportResult(inserted=inserted, revised=revised, unchanged=len(batch) - inserted - revised)


_UPSERT_SQLITE = """
INSERT INTO meter_reading (home_id, interval_start, kwh, quality, received_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (home_id, interval_start) DO UPDATE
SET kwh = excluded.kwh, quality = ?, received_at = excluded.received_at
WHERE meter_reading.kwh != excluded.kwh
"""


def _merge_sqlite(
    conn: Connection, batch: dict[tuple[int, datetime], tuple[float, str]], now: datetime
) -> ImportResult:
    """SQLite: one executemany straight into the table, no stage (this is the whole cost of an
    import, so it stays close to a bare executemany of the same rows).

    Counts without a second pass: ``rowcount`` is the rows the upsert wrote (inserted or
    revised: a conflict whose value is unchanged writes nothing), and since meter_reading is
    a rowid table that gets ``max(rowid) + 1`` for each new row while this transaction holds
    the write lock, the growth of ``max(rowid)`` is exactly the rows inserted."""
    bind = MeterReading.__table__.c.interval_start.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    assert bind is not None  # the exact text SQLAlchemy stores for a datetime, so keys compare equal
    texts = {start: bind(start) for start in {key[1] for key in batch}}  # each half-hour once, not per meter
    stamp, revised_q = bind(now), ReadingQuality.REVISED.value
    rows = [(home_id, texts[start], kwh, quality, stamp, revised_q)
            for (home_id, start), (kwh, quality) in batch.items()]
    cursor: Any = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        before = cursor.execute("SELECT coalesce(max(rowid), 0) FROM meter_reading").fetchone()[0]
        cursor.executemany(_UPSERT_SQLITE, rows)
        changed = cursor.rowcount
        inserted = cursor.execute("SELECT coalesce(max(rowid), 0) FROM meter_reading").fetchone()[0] - before
    finally:
        cursor.close()
    revised = changed - inserted
    return ImportResult(inserted=inserted, revised=revised, unchanged=len(batch) - changed)


def _with_now(sql: str) -> Any:
    return text(sql).bindparams(bindparam("now", type_=UTCDateTime()))


def _params(now: datetime) -> dict[str, Any]:
    return {"now": now, "revised": ReadingQuality.REVISED.value}


def _stage_postgres(conn: Connection, batch: dict[tuple[int, datetime], tuple[float, str]]) -> None:
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} "
        "(home_id integer, interval_start timestamptz, kwh double precision, quality varchar(32))"
    )
    conn.exec_driver_sql(f"TRUNCATE {STAGE}")
    # COPY text built by hand: several times faster than write_row per row; each half-hour's
    # text made once (the same times recur for every meter).
    times: dict[datetime, str] = {}
    iso = times.get
    payload = "".join(
        f"{home_id}\t{iso(start) or times.setdefault(start, start.isoformat())}\t{kwh!r}\t{quality}\n"
        for (home_id, start), (kwh, quality) in batch.items()
    )
    driver: Any = conn.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {STAGE} (home_id, interval_start, kwh, quality) FROM STDIN") as copy,
    ):
        copy.write(payload.encode())


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
