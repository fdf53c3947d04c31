"""Readings of many homes into a numpy grid on PostgreSQL, without a Python object per reading.

A cycle at 100,000 homes reads 6.4 million half-hours. Fetched as rows (or as arrays
folded server-side) each value still becomes a Python object: 20 s a cycle. Here the
server sends ``COPY ... TO STDOUT (FORMAT binary)`` of (home, slot offset, kWh) as
fixed-width int4/int4/float4 fields, and numpy reads the whole buffer with one
structured dtype. Homes are selected by id range (ids come sorted), not a 5,000-item
IN list; rows of homes outside the chunk are dropped here.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

SLOT_SECONDS = 1800
_HEADER = 19  # PGCOPY signature (11) + flags (4) + header extension length (4)
_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("home", ">i4"), ("l2", ">i4"), ("slot", ">i4"),
                 ("l3", ">i4"), ("kwh", ">f4")])


def readings_grid(session: Session, home_ids: list[int], first: int, last: int) -> np.ndarray:
    """[len(home_ids), last-first+1] float32 kWh for slots first..last (NaN = missing).

    ``home_ids`` must be sorted ascending."""
    x = np.full((len(home_ids), last - first + 1), np.nan, np.float32)
    if not home_ids:
        return x
    lo, hi = int(home_ids[0]), int(home_ids[-1])
    start, end, base = int(first) * SLOT_SECONDS, int(last) * SLOT_SECONDS, int(first)
    sql = (  # integers only: nothing from outside is spliced in
        f"COPY (SELECT home_id::int4, (floor(extract(epoch FROM interval_start) / {SLOT_SECONDS}))::int4 - {base}, "
        f"kwh::float4 FROM meter_reading WHERE home_id BETWEEN {lo} AND {hi} "
        f"AND interval_start >= to_timestamp({start}) AND interval_start <= to_timestamp({end})) "
        "TO STDOUT (FORMAT binary)"
    )
    driver = session.connection().connection.driver_connection
    buf = bytearray()
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for block in copy:
            buf += block
    if len(buf) <= _HEADER + 2:
        return x
    rows = np.frombuffer(memoryview(buf)[_HEADER:-2], dtype=_ROW)  # the trailer is int16 -1
    pos = np.full(hi - lo + 1, -1, np.int64)
    pos[np.asarray(home_ids, np.int64) - lo] = np.arange(len(home_ids))
    row = pos[rows["home"].astype(np.int64) - lo]
    keep = row >= 0
    x[row[keep], rows["slot"][keep]] = rows["kwh"][keep]
    return x
