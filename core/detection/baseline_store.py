"""Parsed baselines kept in memory between cycles, as one set of arrays for every home.

A stored baseline is 18 kB of JSON; parsing 100,000 of them takes longer than a cycle
may, so each is parsed once (and again only when ``computed_at`` moves, once a day).
They live in preallocated arrays indexed by a row per home, not as 100,000 small
Baselines objects: a cycle gathers a chunk with one fancy index per field, and memory
is the numbers themselves (about 8.5 kB a home, 850 MB for 100,000) with no per-object
overhead. Row 0 is an empty, not-ready baseline for homes that have none yet.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import id_in
from core.detection.baseline import Baselines, empty_baselines
from core.models import HomeBaseline

PARSE_BATCH = 500  # rows of JSON held at once while parsing (bounded transient memory)


class BaselineStore:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.rows: dict[int, tuple[datetime, int]] = {}  # home id -> (computed_at, row)
        self.arrays = empty_baselines(1)
        self.used = 1

    def reserve(self, n: int) -> None:
        """Room for ``n`` rows, grown once (a quarter extra), not row by row."""
        if n <= len(self.arrays.days_used):
            return
        size = int(n * 1.25) + 16
        grown = empty_baselines(size)
        for f in fields(Baselines):
            getattr(grown, f.name)[: self.used] = getattr(self.arrays, f.name)[: self.used]
        self.arrays = grown

    def get(self, session: Session, ids: list[int]) -> Baselines:
        """Baselines for ``ids`` in order, parsing only those new or recomputed since last time."""
        stamps = dict(session.execute(
            select(HomeBaseline.home_id, HomeBaseline.computed_at).where(id_in(session, HomeBaseline.home_id, ids))
        ).all())
        stale = [hid for hid, at in stamps.items() if self.rows.get(hid, (None,))[0] != at]
        self.reserve(self.used + len(stale))
        for lo in range(0, len(stale), PARSE_BATCH):
            batch = session.execute(
                select(HomeBaseline.home_id, HomeBaseline.computed_at, HomeBaseline.data).where(
                    id_in(session, HomeBaseline.home_id, stale[lo : lo + PARSE_BATCH])
                )
            ).all()
            parsed = Baselines.from_json([r.data for r in batch])
            targets = []
            for r in batch:
                row = self.rows[r.home_id][1] if r.home_id in self.rows else self._new_row()
                self.rows[r.home_id] = (r.computed_at, row)
                targets.append(row)
            for f in fields(Baselines):
                getattr(self.arrays, f.name)[targets] = getattr(parsed, f.name)
        index = np.array([self.rows[hid][1] if hid in stamps else 0 for hid in ids], dtype=np.int64)
        return self.arrays.take(index)

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
