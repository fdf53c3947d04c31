"""Readings of many homes into a numpy grid on PostgreSQL, without a Python object per reading.

A cycle at 100,000 homes reads 6.4 million half-hours. Fetched as rows (or as arrays
folded server-side) each value still becomes a Python object: 20 s a cycle. Here the
server packs (home, slot offset, kWh) as fixed-width big-endian int4/int4/float4 into
one bytea per chunk (binary COPY would be one message, and one Python call, per row),
and numpy reads it with one structured dtype. Homes are selected by id range (ids come
sorted), not a 5,000-item IN list; rows of homes outside the chunk are dropped here.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

SLOT_SECONDS = 1800
_ROW = np.dtype([("home", ">i4"), ("slot", ">i4"), ("kwh", ">f4")])  # int4send/float4send: big-endian


def readings_grid(session: Session, home_ids: list[int], first: int, last: int) -> np.ndarray:
    """[len(home_ids), last-first+1] float32 kWh for slots first..last (NaN = missing).

    ``home_ids`` must be sorted ascending."""
    x = np.full((len(home_ids), last - first + 1), np.nan, np.float32)
    if not home_ids:
        return x
    lo, hi = int(home_ids[0]), int(home_ids[-1])
    start, end, base = int(first) * SLOT_SECONDS, int(last) * SLOT_SECONDS, int(first)
    sql = text(  # integers only: nothing from outside is spliced in
        "SELECT string_agg(int4send(home_id) || int4send(((floor(extract(epoch FROM interval_start) / "
        f"{SLOT_SECONDS}))::int4 - {base})) || float4send(kwh::float4), ''::bytea) "
        f"FROM meter_reading WHERE home_id BETWEEN {lo} AND {hi} "
        f"AND interval_start >= to_timestamp({start}) AND interval_start <= to_timestamp({end})"
    )
    blob = session.execute(sql).scalar()
    if not blob:
        return x
    rows = np.frombuffer(blob, dtype=_ROW)
    pos = np.full(hi - lo + 1, -1, np.int64)
    pos[np.asarray(home_ids, np.int64) - lo] = np.arange(len(home_ids))
    row = pos[rows["home"].astype(np.int64) - lo]
    keep = row >= 0
    x[row[keep], rows["slot"][keep]] = rows["kwh"][keep]
    return x
