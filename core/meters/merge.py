"""Storing checked readings: one chunk of unique (home, half-hour) rows, merged into meter_reading.

``INSERT … ON CONFLICT DO UPDATE … WHERE the value differs``: the same file twice changes
nothing, a different value for a known half-hour is a revision (速報値 → 確定値, quality
``revised``), and a gap stays an absent row. Rows arrive as columns (:class:`Rows`) in
key order, so both databases append to the primary key's index instead of scattering.

- SQLite: an ``executemany`` of 100-row upserts straight into the table. Only what differs
  per row is bound (home, time text, kWh); quality and received_at are in the statement.
  This is the whole cost of a SQLite import, so it is kept below a bare executemany's.
- PostgreSQL: a temporary stage table filled by binary COPY (built by numpy: no text per
  row on either side), then one INSERT … SELECT.

Counts come from the database, not from guesses: rows the merge inserted (PostgreSQL's
``xmax = 0``; SQLite's growth of ``max(rowid)``) and rows it changed give inserted,
revised and unchanged exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, text

from core.db import UTCDateTime
from core.enums import ReadingQuality
from core.models import MeterReading

QUALITIES = tuple(ReadingQuality)  # Rows.quality indexes this
STAGE = "meter_reading_stage"
PG_EPOCH = 946_684_800  # 2000-01-01 UTC, PostgreSQL's binary timestamp origin, in Unix seconds
ROWS_PER_STATEMENT = 100


@dataclass
class Rows:
    """Readings to store as columns: unique (home, start), sorted by them.

    ``start`` is the UTC epoch second of the half-hour; ``quality`` indexes QUALITIES."""

    home: np.ndarray
    start: np.ndarray
    kwh: np.ndarray
    quality: np.ndarray

    def __len__(self) -> int:
        return len(self.home)

    def take(self, index: np.ndarray) -> Rows:
        return Rows(self.home[index], self.start[index], self.kwh[index], self.quality[index])

    def by_quality(self) -> list[tuple[ReadingQuality, Rows]]:
        codes = np.unique(self.quality)
        if len(codes) == 1:
            return [(QUALITIES[int(codes[0])], self)]
        return [(QUALITIES[int(code)], self.take(self.quality == code)) for code in codes]


@dataclass
class Merged:
    inserted: int
    revised: int
    unchanged: int


class Merger:
    """Merges the chunks of one import over the session's connection."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.texts_checked = False

    def merge(self, conn: Connection, rows: Rows) -> Merged:
        if conn.dialect.name == "postgresql":
            return self._postgres(conn, rows)
        return self._sqlite(conn, rows)

    # ---- SQLite ------------------------------------------------------------------------
    def _sqlite(self, conn: Connection, rows: Rows) -> Merged:
        """``rowcount`` is the rows the upsert wrote (inserted or revised: a conflict whose
        value is unchanged writes nothing), and since meter_reading is a rowid table that gets
        ``max(rowid) + 1`` for each new row while this transaction holds the write lock, the
        growth of ``max(rowid)`` is exactly the rows inserted."""
        bind = MeterReading.__table__.c.interval_start.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        assert bind is not None  # the exact text SQLAlchemy stores for a datetime, so keys compare equal
        stamp = bind(self.now)
        cursor: Any = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        changed = 0
        try:
            before = cursor.execute("SELECT coalesce(max(rowid), 0) FROM meter_reading").fetchone()[0]
            for quality, part in rows.by_quality():
                values = np.empty(3 * len(part), dtype=object)  # home, time text, kWh, row after row
                values[0::3] = part.home.astype(object)
                values[1::3] = self._texts(part.start, bind)
                values[2::3] = part.kwh.astype(object)
                whole = len(part) // ROWS_PER_STATEMENT * ROWS_PER_STATEMENT
                if whole:
                    cursor.executemany(_upsert_sqlite(ROWS_PER_STATEMENT, quality, stamp),
                                       values[: 3 * whole].reshape(-1, 3 * ROWS_PER_STATEMENT).tolist())
                    changed += cursor.rowcount
                if whole < len(part):
                    cursor.execute(_upsert_sqlite(len(part) - whole, quality, stamp), values[3 * whole :].tolist())
                    changed += cursor.rowcount
            inserted = cursor.execute("SELECT coalesce(max(rowid), 0) FROM meter_reading").fetchone()[0] - before
        finally:
            cursor.close()
        return Merged(inserted, changed - inserted, len(rows) - changed)

    def _texts(self, starts: np.ndarray, bind: Callable[[datetime], str]) -> np.ndarray:
        """The stored text of each start: numpy formats each distinct half-hour as SQLAlchemy's
        SQLite DATETIME does ("2013-01-01 00:00:00.000000"), checked against ``bind`` once."""
        distinct, inverse = np.unique(starts, return_inverse=True)
        iso = np.datetime_as_string(distinct.astype("datetime64[s]"), unit="us").astype("S26")
        iso.view(np.uint8).reshape(-1, 26)[:, 10] = ord(" ")
        texts = iso.astype(str).astype(object)
        if not self.texts_checked:
            at = int(distinct[0])
            assert texts[0] == bind(datetime.fromtimestamp(at, UTC)), "SQLite DATETIME text changed"
            self.texts_checked = True
        return texts[inverse]

    # ---- PostgreSQL --------------------------------------------------------------------
    _MERGE = f"""
    INSERT INTO meter_reading (home_id, interval_start, kwh, quality, received_at)
    SELECT home_id, interval_start, kwh, quality, :now FROM {STAGE} WHERE true
    ON CONFLICT (home_id, interval_start) DO UPDATE
    SET kwh = excluded.kwh, quality = :revised, received_at = excluded.received_at
    WHERE meter_reading.kwh IS DISTINCT FROM excluded.kwh
    """

    def _postgres(self, conn: Connection, rows: Rows) -> Merged:
        _stage_postgres(conn, rows)
        # One statement: xmax = 0 marks a row this statement inserted (not updated).
        sql = f"WITH m AS ({self._MERGE} RETURNING (xmax = 0) AS fresh) "
        sql += "SELECT count(*) FILTER (WHERE fresh), count(*) FROM m"
        statement = text(sql).bindparams(bindparam("now", type_=UTCDateTime()))
        inserted, changed = conn.execute(statement, {"now": self.now, "revised": ReadingQuality.REVISED.value}).one()
        return Merged(inserted, changed - inserted, len(rows) - changed)


@lru_cache(maxsize=32)
def _upsert_sqlite(rows: int, quality: ReadingQuality, stamp: str) -> str:
    """An upsert of ``rows`` readings (three parameters each) that arrived at ``stamp``.

    Many rows per statement: executemany's cost per execution (an iteration, a tuple, a
    GIL release, a reset) was half of a bulk load; bound values cost the same either way."""
    row = f"(?, ?, ?, '{quality.value}', '{stamp}')"
    return (
        "INSERT INTO meter_reading (home_id, interval_start, kwh, quality, received_at) "
        f"VALUES {', '.join([row] * rows)} "
        "ON CONFLICT (home_id, interval_start) DO UPDATE "
        f"SET kwh = excluded.kwh, quality = '{ReadingQuality.REVISED.value}', received_at = excluded.received_at "
        "WHERE meter_reading.kwh != excluded.kwh"
    )


def _stage_postgres(conn: Connection, rows: Rows) -> None:
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} "
        "(home_id integer, interval_start timestamptz, kwh double precision, quality varchar(32))"
    )
    conn.exec_driver_sql(f"TRUNCATE {STAGE}")
    driver: Any = conn.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {STAGE} (home_id, interval_start, kwh, quality) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.write(binary_copy(rows))


def binary_copy(rows: Rows) -> bytes:
    """PostgreSQL's binary COPY of (int4, timestamptz, float8, varchar) rows, made by numpy:
    each row is a field count and, per field, its length and big-endian value."""
    parts = [b"PGCOPY\n\xff\r\n\x00" + bytes(8)]  # signature, flags, header extension length
    for quality, part in rows.by_quality():
        label = quality.value.encode()
        layout = np.dtype([("fields", ">i2"), ("l1", ">i4"), ("home", ">i4"), ("l2", ">i4"), ("start", ">i8"),
                           ("l3", ">i4"), ("kwh", ">f8"), ("l4", ">i4"), ("quality", f"S{len(label)}")])
        out = np.empty(len(part), layout)
        out["fields"], out["l1"], out["l2"], out["l3"], out["l4"] = 4, 4, 8, 8, len(label)
        out["home"] = part.home
        out["start"] = (part.start - PG_EPOCH) * 1_000_000
        out["kwh"] = part.kwh
        out["quality"] = label
        parts.append(out.tobytes())
    parts.append(b"\xff\xff")
    return b"".join(parts)
