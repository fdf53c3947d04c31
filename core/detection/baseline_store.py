"""Stored baselines kept in memory between cycles, as one set of arrays for every home.

A stored baseline is packed bytes (core.detection.baseline_pack): 100,000 read back in
seconds. Each is read once (and again only when ``computed_at`` moves, once a day), and a
process that will detect calls :meth:`BaselineStore.warm` when it starts, so its first
cycle is no slower than the next. They live in preallocated arrays indexed by a row per home, not as 100,000 small
Baselines objects: a cycle gathers a chunk with one fancy index per field, and memory
is the numbers themselves (about 8.5 kB a home, 850 MB for 100,000) with no per-object
overhead. Row 0 is an empty, not-ready baseline for homes that have none yet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import id_in, is_postgres
from core.detection.baseline import Baselines, empty_baselines
from core.detection.baseline_pack import unpack_many
from core.models import HomeBaseline

T = TypeVar("T")
PARSE_BATCH = 5000  # stored rows held at once while reading (about 42 MB: bounded transient memory)


def _locked(method: Callable[..., T]) -> Callable[..., T]:
    """One thread at a time: a clock running the cycle, the nightly refresh and a worker
    loop in one process share the store, and growing it swaps the arrays."""

    @wraps(method)
    def call(self: BaselineStore, *args: Any, **kwargs: Any) -> T:
        with self.lock:
            return method(self, *args, **kwargs)

    return call


class BaselineStore:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    @_locked
    def clear(self) -> None:
        self.rows: dict[int, tuple[datetime, int]] = {}  # home id -> (computed_at, row)
        self.arrays = empty_baselines(1)
        self.used = 1
        self.warmed = False  # warm() has read every stored row once in this process

    @_locked
    def reserve(self, n: int) -> None:
        """Room for ``n`` rows, grown once (a quarter extra), not row by row."""
        if n <= len(self.arrays.days_used):
            return
        size = int(n * 1.25) + 16
        grown = empty_baselines(size)
        for f in fields(Baselines):
            getattr(grown, f.name)[: self.used] = getattr(self.arrays, f.name)[: self.used]
        self.arrays = grown

    @_locked
    def get(self, session: Session, ids: list[int]) -> Baselines:
        """Baselines for ``ids`` in order, parsing only those new or recomputed since last time."""
        stamps = dict(session.execute(
            select(HomeBaseline.home_id, HomeBaseline.computed_at).where(id_in(session, HomeBaseline.home_id, ids))
        ).all())
        stale = [hid for hid, at in stamps.items() if self.rows.get(hid, (None,))[0] != at]
        self.reserve(self.used + len(stale))
        for lo in range(0, len(stale), PARSE_BATCH):
            self._load(session.execute(
                select(HomeBaseline.home_id, HomeBaseline.computed_at, HomeBaseline.packed).where(
                    id_in(session, HomeBaseline.home_id, stale[lo : lo + PARSE_BATCH])
                )
            ).all())
        index = np.array([self.rows[hid][1] if hid in stamps else 0 for hid in ids], dtype=np.int64)
        return self.arrays.take(index)

    @_locked
    def warm(self, session: Session, lo: int = 0, hi: int = 2**31 - 1) -> int:
        """Read every stored baseline of homes ``lo..hi`` now (a detecting process calls this
        when it starts). Returns how many rows were read."""
        count = session.scalar(select(func.count()).select_from(HomeBaseline).where(
            HomeBaseline.home_id.between(lo, hi))) or 0
        self.reserve(self.used + count)
        done = 0
        after = lo - 1
        while batch := self._page(session, after, hi):  # keyset pages: bounded memory
            fresh = [r for r in batch if self.rows.get(r[0], (None,))[0] != r[1]]
            self.reserve(self.used + len(fresh))
            self._load(fresh)
            done += len(batch)
            after = batch[-1][0]
        self.warmed = True
        return done

    @staticmethod
    def _page(session: Session, after: int, hi: int) -> list[Any]:
        """Up to PARSE_BATCH stored rows (home_id, computed_at, packed) with ids after..hi.

        On PostgreSQL through the driver's binary protocol: bytea comes as bytes, not as hex
        text to decode (a third of the client's CPU at 100,000 homes)."""
        if is_postgres(session):
            driver: Any = session.connection().connection.driver_connection
            with driver.cursor(binary=True) as cursor:
                cursor.execute(
                    "SELECT home_id, computed_at, packed FROM home_baseline WHERE home_id > %s AND home_id <= %s "
                    "ORDER BY home_id LIMIT %s", (after, hi, PARSE_BATCH))
                return cursor.fetchall()
        return list(session.execute(
            select(HomeBaseline.home_id, HomeBaseline.computed_at, HomeBaseline.packed)
            .where(HomeBaseline.home_id > after, HomeBaseline.home_id <= hi)
            .order_by(HomeBaseline.home_id).limit(PARSE_BATCH)
        ).all())

    def _load(self, batch: list[Any]) -> None:
        """Put stored rows (home_id, computed_at, packed) into the arrays."""
        if not batch:
            return
        parsed = unpack_many([r[2] for r in batch])
        targets = []
        for home_id, computed_at, _ in batch:
            row = self.rows[home_id][1] if home_id in self.rows else self._new_row()
            self.rows[home_id] = (computed_at, row)
            targets.append(row)
        for f in fields(Baselines):
            getattr(self.arrays, f.name)[targets] = getattr(parsed, f.name)

    @_locked
    def put(self, home_id: int, computed_at: datetime, base: Baselines, i: int) -> None:
        """Keep row ``i`` of freshly learned ``base`` as ``home_id``'s (stored at ``computed_at``)."""
        if home_id in self.rows:
            row = self.rows[home_id][1]
        else:
            self.reserve(self.used + 1)
            row = self._new_row()
        for f in fields(Baselines):
            getattr(self.arrays, f.name)[row] = getattr(base, f.name)[i]
        self.rows[home_id] = (computed_at, row)

    def _new_row(self) -> int:
        self.used += 1
        return self.used - 1
