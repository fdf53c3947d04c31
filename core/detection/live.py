"""The live side of detection: load from the database, evaluate, open and close incidents.

:func:`run_detection` (every 30 minutes) and :func:`refresh_baselines` (daily) do I/O in
few, chunked queries and hand plain arrays to the same pure code the replays use
(core.detection.detectors.evaluate and core.detection.book.step).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session, defer

from core import audit
from core.db import id_in, is_postgres
from core.detection.baseline import LEARNING_DAYS, Baselines, learn
from core.detection.baseline_pack import pack
from core.detection.baseline_store import BaselineStore
from core.detection.book import MEMORY_SLOTS, HomeBook, Raised, group_of, step
from core.detection.detectors import DETECTORS, evaluate_each
from core.detection.engine import WINDOW_SLOTS, Context, DetectionInput, Sensitivity
from core.detection.evidence import evidence_of
from core.detection.lookback import LOOKBACK_SLOTS, look_before
from core.detection.pg_readings import readings_grid
from core.detection.timeaxis import (
    SLOT_SECONDS,
    SLOTS_PER_DAY,
    day_first_slot,
    day_types,
    iso_local,
    local_day,
    slot_of,
    slot_start,
)
from core.enums import UNMETERED, Channel, CloseReason, HomeStatus, IncidentKind
from core.incidents import close, close_for_usage, open_incident
from core.models import Home, HomeBaseline, HomeWatcher, Incident, MeterReading, Pause, Schedule, Watcher
from core.outbox import enqueue
from core.settings import get_settings
from core.texts import t

CHUNK_HOMES = 5000
BASELINE_CHUNK_HOMES = 500
BOOK_MEMORY = timedelta(minutes=30 * MEMORY_SLOTS)


def _hh(value: Any) -> float:
    return float("nan") if value is None else (value.hour * 60 + value.minute) / 30.0


def _readings(session: Session, home_ids: list[int], first: int, last: int) -> np.ndarray:
    """Readings of ``home_ids`` for slots first..last as [H, last-first+1] (NaN = missing), one query.

    On PostgreSQL (ids sorted, as every caller passes them) the server packs them into one
    bytea read by numpy (core.detection.pg_readings): no Python object per reading."""
    if is_postgres(session) and home_ids == sorted(home_ids):
        return readings_grid(session, home_ids, first, last)
    x = np.full((len(home_ids), last - first + 1), np.nan, np.float32)
    pos = {hid: i for i, hid in enumerate(home_ids)}
    window = (
        MeterReading.home_id.in_(home_ids),
        MeterReading.interval_start >= slot_start(first),
        MeterReading.interval_start <= slot_start(last),
    )
    if is_postgres(session):
        offset = cast(func.floor(func.extract("epoch", MeterReading.interval_start) / SLOT_SECONDS), Integer) - first
        grouped = select(MeterReading.home_id, func.array_agg(offset), func.array_agg(MeterReading.kwh))
        for hid, offsets, kwh in session.execute(grouped.where(*window).group_by(MeterReading.home_id)):
            x[pos[hid], np.asarray(offsets, np.int64)] = np.asarray(kwh, np.float32)
        return x
    rows = session.execute(
        select(MeterReading.home_id, MeterReading.interval_start, MeterReading.kwh).where(*window)
    ).all()
    if rows:
        hs = np.fromiter((pos[r[0]] for r in rows), np.int64, len(rows))
        ss = np.fromiter((int(r[1].timestamp()) // SLOT_SECONDS - first for r in rows), np.int64, len(rows))
        x[hs, ss] = np.fromiter((r[2] for r in rows), np.float32, len(rows))
    return x


_BASELINES = BaselineStore()


def _baselines_of(session: Session, ids: list[int]) -> Baselines:
    """Baselines for ``ids`` (in order), parsed once and kept (core.detection.baseline_store)."""
    return _BASELINES.get(session, ids)


def forget_cached_baselines() -> None:
    """Drop parsed baselines (tests whose database is wiped between them reuse ids)."""
    _BASELINES.clear()


def _books(session: Session, home_ids: list[int], now: datetime) -> dict[int, tuple[HomeBook, dict]]:
    """Each home's incident book from its open and recent incidents (one query)."""
    books: dict[int, tuple[HomeBook, dict]] = {}
    rows = session.scalars(
        select(Incident).where(
            id_in(session, Incident.home_id, home_ids),
            (Incident.closed_at.is_(None)) | (Incident.detected_at >= now - BOOK_MEMORY),
        )
    ).all()
    for inc in rows:
        book, open_rows = books.setdefault(inc.home_id, (HomeBook(), {}))
        episode = int((inc.evidence or {}).get("episode", -1))
        group = group_of(inc.kind)
        book.seen[group] = max(book.seen.get(group, -(2**62)), episode)
        if inc.closed_at is None and inc.kind != IncidentKind.USAGE_RESUMED:
            book.open[inc.kind] = int((inc.evidence or {}).get("usage_slot", episode))
            open_rows[inc.kind] = inc
    return books


def watched_at(now: datetime) -> tuple[Any, ...]:
    """Which homes a cycle at ``now`` evaluates (shared with core.detection.chunks)."""
    return (Home.status == HomeStatus.ACTIVE, Home.ready_at.is_not(None), Home.ready_at <= now)


def warm_baselines(session: Session) -> int | None:
    """Read every stored baseline into memory, once per process (a detecting process calls
    this when it starts); how many were read, or None if that was done already."""
    return None if _BASELINES.warmed else _BASELINES.warm(session)


def run_detection(session: Session, now: datetime, sensitivity: Sensitivity | None = None) -> list[Incident]:
    """Evaluate every ready ACTIVE home at ``now``; open/close incidents; return those opened."""
    return detect_range(session, now, sensitivity=sensitivity)[1]


def detect_range(
    session: Session, now: datetime, lo: int = 0, hi: int = 2**31 - 1, sensitivity: Sensitivity | None = None
) -> tuple[int, list[Incident]]:
    """:func:`run_detection` for homes with ids ``lo..hi`` only (a worker's chunk);
    returns (homes evaluated, incidents opened)."""
    settings = get_settings()
    sens = sensitivity or Sensitivity(
        gap_slots=max(1, settings.data_gap_after_minutes // 30), false_alarm_budget=settings.false_alarm_budget
    )
    last = slot_of(now - timedelta(minutes=settings.reading_delay_minutes)) - 1
    first = last - WINDOW_SLOTS + 1
    homes = session.execute(
        select(Home.id, Home.wake_grace_minutes, Home.over_usage_percent, Home.night_watch_enabled).where(
            *watched_at(now), Home.id.between(lo, hi)
        ).order_by(Home.id)
    ).all()
    opened: list[Incident] = []
    for start in range(0, len(homes), CHUNK_HOMES):
        opened.extend(_detect_chunk(session, homes[start : start + CHUNK_HOMES], now, first, last, sens))
    return len(homes), opened


def _detect_chunk(session: Session, homes: list[Any], now: datetime, first: int, last: int, sens: Sensitivity):
    ids = [h.id for h in homes]
    n = len(ids)
    pos = {hid: i for i, hid in enumerate(ids)}
    x = _readings(session, ids, first, last)
    base = _baselines_of(session, ids)
    wake = np.full(n, np.nan)
    sleep = np.full(n, np.nan)
    for s in session.scalars(select(Schedule).where(id_in(session, Schedule.home_id, ids))):
        wake[pos[s.home_id]] = _hh(s.wake_time)
        sl = _hh(s.sleep_time)
        sleep[pos[s.home_id]] = sl + SLOTS_PER_DAY if sl < 12 else sl
    paused = np.zeros(n, bool)
    pause_cells = np.zeros((n, WINDOW_SLOTS), bool)
    cols = first + np.arange(WINDOW_SLOTS)
    for p in session.scalars(
        select(Pause).where(
            id_in(session, Pause.home_id, ids), Pause.cancelled_at.is_(None),
            Pause.ends_at > slot_start(first), Pause.starts_at <= now,
        )
    ):
        i = pos[p.home_id]
        paused[i] |= p.starts_at <= now < p.ends_at
        pause_cells[i] |= (cols >= slot_of(p.starts_at)) & (cols < slot_of(p.ends_at - timedelta(seconds=1)) + 1)
    inp = DetectionInput(
        x=x, last_slot=np.full(n, last), base=base, ready=base.ready, paused=paused,
        set_wake_hh=wake, set_sleep_hh=sleep,
        grace_slots=np.array([h.wake_grace_minutes / 30.0 for h in homes]),
        night_watch=np.array([bool(h.night_watch_enabled) for h in homes]),
        over_pct=np.array([float(h.over_usage_percent) for h in homes]),
        pause_cells=pause_cells, sensitivity=sens,
    )
    ctx = Context(inp)
    look_before(ctx, lambda rows: (
        _readings(session, [ids[i] for i in rows], first - LOOKBACK_SLOTS, first - 1), base.take(rows)))
    ev = next(evaluate_each(inp, (sens,), context=ctx))
    kinds = [d.kind for d in DETECTORS]
    fired_any = np.zeros(n, bool)
    for k in kinds:
        fired_any |= ev.findings[k].fired
    books = _books(session, ids, now)
    opened: list[Incident] = []
    for i in np.flatnonzero(fired_any | np.isin(ids, [hid for hid, (b, _) in books.items() if b.open])):
        hid = ids[i]
        book, open_rows = books.get(hid, (HomeBook(), {}))
        raised = [
            Raised(k, int(ev.findings[k].episode[i]), int(ev.findings[k].window_start[i]), int(ev.findings[k].usage[i]))
            for k in kinds if ev.findings[k].fired[i]
        ]
        result = step(book, raised, {k: int(ev.findings[k].usage[i]) for k in kinds},
                      {k: int(ev.findings[k].episode[i]) for k in kinds})
        if result.usage_closed:
            seen = slot_start(max(int(ev.findings[k].usage[i]) for k in result.usage_closed))
            close_for_usage(session, hid, seen)
        for kind in result.closed:
            if kind in open_rows:
                close(session, open_rows[kind], CloseReason.NOTICE, "detection")
        home = session.get(Home, hid) if result.opened else None
        for r in result.opened:
            if r.kind == IncidentKind.USAGE_RESUMED:
                evidence = {"usage_seen": iso_local(r.window_start), "episode": r.episode,
                            "window_start": iso_local(r.window_start)}
                confidence = None
            else:
                f = ev.findings[r.kind]
                evidence = evidence_of(f, int(i))
                confidence = float(f.confidence[i])
                evidence["confidence"] = confidence
            inc = open_incident(session, home, r.kind, window_start=slot_start(r.window_start),
                                evidence=evidence, confidence=confidence)
            if inc is not None:
                opened.append(inc)
    return opened


def refresh_baselines(session: Session, now: datetime, *, force: bool = False, only_missing: bool = False) -> int:
    """Relearn every watched home's baseline from its last 56 days (once a local day).

    ``only_missing`` learns only homes that have no baseline yet: the meter cycle runs it so
    a home that just became ready is watched at once instead of after the nightly refresh.

    Stores HomeBaseline and Home.watchability; a home that turns not watchable is told so
    plainly to its watchers. Returns how many baselines were refreshed."""
    today = int(local_day(slot_of(now)))
    first = day_first_slot(today - LEARNING_DAYS)
    last = day_first_slot(today) - 1
    types = day_types(np.arange(today - LEARNING_DAYS, today))
    watched = select(Home).where(Home.status.not_in(UNMETERED))
    if only_missing and not force:
        # Every cycle runs this: ask only for homes without a baseline (not 100,000 rows).
        watched = watched.where(~select(HomeBaseline.home_id).where(HomeBaseline.home_id == Home.id).exists())
    homes = session.scalars(watched.order_by(Home.id)).all()
    done = 0
    sens = Sensitivity()
    for lo in range(0, len(homes), BASELINE_CHUNK_HOMES):
        chunk = homes[lo : lo + BASELINE_CHUNK_HOMES]
        stamps = dict(session.execute(
            select(HomeBaseline.home_id, HomeBaseline.computed_at).where(
                id_in(session, HomeBaseline.home_id, [h.id for h in chunk]))
        ).all())
        todo = [h for h in chunk if force or h.id not in stamps
                or (not only_missing and int(local_day(slot_of(stamps[h.id]))) < today)]
        if not todo:
            continue
        existing = {  # the old baseline is replaced, never read: not loaded
            b.home_id: b for b in session.scalars(
                select(HomeBaseline).options(defer(HomeBaseline.packed)).where(
                    id_in(session, HomeBaseline.home_id, [h.id for h in todo])))
        }
        x = _readings(session, [h.id for h in todo], first, last)
        base = learn(x.reshape(len(todo), LEARNING_DAYS, SLOTS_PER_DAY), types)
        for i, home in enumerate(todo):
            row = existing.get(home.id)
            if row is None:
                row = HomeBaseline(home_id=home.id, computed_at=now, days_used=0, packed=b"")
                session.add(row)
            row.computed_at = now
            row.days_used = int(base.days_used[i])
            row.packed = pack(base, i)
            _BASELINES.put(home.id, now, base, i)  # exactly what the packed bytes read back as
            was = home.watchability
            home.watchability = float(base.watchability[i])
            home.watchability_checked_at = now
            if bool(base.ready[i]) and home.watchability < sens.watchable_min and (
                was is None or was >= sens.watchable_min
            ):
                _tell_not_watchable(session, home, today)
            done += 1
    session.flush()
    return done


def _tell_not_watchable(session: Session, home: Home, day: int) -> None:
    """Say plainly to every watcher (and record for the operator) that this home cannot be watched well."""
    audit.record(session, "detection", "home_not_watchable", home_id=home.id,
                 watchability=round(float(home.watchability or 0), 3))
    links = session.execute(
        select(HomeWatcher, Watcher).join(Watcher, Watcher.id == HomeWatcher.watcher_id).where(
            HomeWatcher.home_id == home.id, Watcher.deleted_at.is_(None)
        )
    ).all()
    for link, watcher in links:
        if not watcher.line_user_id:
            continue
        name = link.relation_label or t("detection.home_default_name", watcher.language)
        text = t("detection.not_watchable", watcher.language, home=name)
        enqueue(
            session, channel=Channel.LINE, recipient=watcher.line_user_id,
            payload={"messages": [{"type": "text", "text": text}]},
            key=f"not_watchable:{home.id}:{day}:{watcher.id}", home_id=home.id,
        )




