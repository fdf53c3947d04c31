"""Replays: run the live detection code over a recorded year, tick by simulated tick.

At a tick at time T the reading for [s, s+30 min) is visible when s + 30 min + delay <= T.
Each (home, tick) becomes one row of the very :func:`evaluate` the scheduler calls (many
rows at once, which is what makes a year of 60 homes take seconds), and the findings go
through the same :func:`core.detection.book.step` the live side uses, with the incident
state kept in memory. No database, no messages. The rows' series are read from each (home,
day) computed once (core/detection/strips.py), the same numbers the rows would compute.
"""

from __future__ import annotations

import csv
import gzip
import io
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.detection.baseline import LEARNING_DAYS, Baselines, empty_baselines, learn
from core.detection.book import HomeBook, Raised, step
from core.detection.detectors import DETECTORS, Detector, evaluate_each
from core.detection.engine import WINDOW_SLOTS, Context, DetectionInput, Sensitivity
from core.detection.lookback import LOOKBACK_SLOTS, look_before
from core.detection.strips import day_strips, tick_context
from core.detection.timeaxis import SLOT_SECONDS, SLOTS_PER_DAY, day_first_slot, day_types, iso_local, local_day
from core.enums import IncidentKind
from core.errors import ValidationError
from core.settings import get_settings

CHUNK_ROWS = 60_000
LEARN_BATCH_DAYS = 16


@dataclass
class MeterArrays:
    meter_ids: list[str]
    first_slot: int  # slot of column 0, the first half-hour of a local day
    x: np.ndarray  # [H, N] kWh, NaN = missing

    def rows(self, homes: np.ndarray) -> MeterArrays:
        """These homes only (indices, in this order), on the same time axis."""
        return MeterArrays([self.meter_ids[i] for i in homes], self.first_slot, self.x[homes])


def deal_homes(count: int, processes: int | None = None) -> list[np.ndarray]:
    """Home indices dealt round the ``processes`` (default: one per CPU this process may use;
    never more than there are homes), so long and short histories mix in every share."""
    n = max(1, min(processes or len(os.sched_getaffinity(0)), count))
    return [np.arange(count)[i::n] for i in range(n)]


@dataclass(frozen=True)
class ReplayAlert:
    meter_id: str
    kind: IncidentKind
    detected_slot_time: int  # seconds since epoch of the tick
    window_start_slot: int

    def row(self) -> list[str]:
        detected = _iso_seconds(self.detected_slot_time)
        return [self.meter_id, self.kind.value, detected, iso_local(self.window_start_slot)]


def _iso_seconds(seconds: int) -> str:
    from core.detection.timeaxis import JST

    return datetime.fromtimestamp(seconds, JST).isoformat()


def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8", newline="") if gz else open(path, encoding="utf-8", newline="")


def load_readings(path: Path) -> MeterArrays:
    """Read ``meter_id,interval_start,kwh`` (any order, gzip or not) into arrays."""
    stamps: dict[str, int] = {}
    meters: dict[str, int] = {}
    cols_m: list[int] = []
    cols_s: list[int] = []
    kwh: list[float] = []
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != ["meter_id", "interval_start", "kwh"]:
            raise ValidationError("replay.bad_header", "READINGS.csv must start with meter_id,interval_start,kwh")
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                meter, stamp, value = row[0], row[1], float(row[2])
                slot = stamps.get(stamp)
                if slot is None:
                    moment = datetime.fromisoformat(stamp)
                    if moment.tzinfo is None:
                        raise ValueError("interval_start needs an offset")
                    slot = stamps[stamp] = int(moment.timestamp()) // SLOT_SECONDS
            except (ValueError, IndexError) as exc:
                raise ValidationError("replay.bad_row", f"READINGS.csv line {line_no}: {exc}") from exc
            cols_m.append(meters.setdefault(meter, len(meters)))
            cols_s.append(slot)
            kwh.append(value)
    if not kwh:
        raise ValidationError("replay.empty", "READINGS.csv has no readings")
    slots = np.asarray(cols_s, np.int64)
    first = day_first_slot(int(local_day(int(slots.min()))))
    last = int(slots.max())
    n = ((last - first) // SLOTS_PER_DAY + 1) * SLOTS_PER_DAY
    x = np.full((len(meters), n), np.nan, np.float32)
    x[np.asarray(cols_m), slots - first] = np.asarray(kwh, np.float32)
    return MeterArrays(list(meters), first, x)


def parse_hhmm(text: str, where: str) -> float:
    """'07:30' -> 15.0 half-hours; anything else is a clear error."""
    text = (text or "").strip()
    if not text:
        return float("nan")
    try:
        hours, minutes = text.split(":")
        h, m = int(hours), int(minutes)
    except ValueError:
        raise ValidationError("replay.bad_time", f"{where}: {text!r} is not HH:MM") from None
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValidationError("replay.bad_time", f"{where}: {text!r} is not a time of day (00:00-23:59)")
    return (h * 60 + m) / 30.0


def load_homes(path: Path) -> dict[str, tuple[float, float]]:
    """``meter_id,wake_time,sleep_time`` -> {meter: (wake_hh, sleep_hh)}; blank = learned."""
    out: dict[str, tuple[float, float]] = {}
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"meter_id", "wake_time", "sleep_time"} <= set(reader.fieldnames):
            raise ValidationError("replay.bad_homes", "HOMES.csv must have columns meter_id,wake_time,sleep_time")
        for line_no, row in enumerate(reader, start=2):
            meter = (row["meter_id"] or "").strip()
            if not meter:
                raise ValidationError("replay.bad_homes", f"HOMES.csv line {line_no}: meter_id is empty")
            wake = parse_hhmm(row["wake_time"], f"HOMES.csv line {line_no} wake_time")
            sleep = parse_hhmm(row["sleep_time"], f"HOMES.csv line {line_no} sleep_time")
            if sleep < 12:
                sleep += SLOTS_PER_DAY  # after midnight belongs to the evening before
            out[meter] = (wake, sleep)
    return out


def daily_baselines(data: MeterArrays) -> tuple[Baselines, np.ndarray]:
    """Baselines for every (home, local day) from the 56 days before it -> (stacked, ready [H, D]).

    Row ``h * D + d`` of the result is home h's baseline in force on day d.
    """
    h, n = data.x.shape
    days = n // SLOTS_PER_DAY
    cube = data.x.reshape(h, days, SLOTS_PER_DAY)
    first_day = int(local_day(data.first_slot))
    types = day_types(np.arange(first_day, first_day + days))
    has_any = (~np.isnan(cube)).any(axis=2)
    started = np.where(has_any.any(axis=1), has_any.argmax(axis=1), days)
    out = empty_baselines(h * days)
    learnable = np.arange(LEARNING_DAYS, days)
    windows = sliding_window_view(cube, LEARNING_DAYS, axis=1)  # [H, days-55, 48, 56]
    type_windows = sliding_window_view(types, LEARNING_DAYS)  # [days-55, 56]
    for lo in range(0, len(learnable), LEARN_BATCH_DAYS):
        chunk = learnable[lo : lo + LEARN_BATCH_DAYS]  # baseline for day d learns days d-56..d-1
        b = len(chunk)
        x = windows[:, chunk - LEARNING_DAYS].transpose(0, 1, 3, 2).reshape(h * b, LEARNING_DAYS, SLOTS_PER_DAY)
        t = np.tile(type_windows[chunk - LEARNING_DAYS], (h, 1))
        learned = learn(x, t)
        rows = (np.arange(h)[:, None] * days + chunk[None, :]).ravel()
        for name in Baselines.__dataclass_fields__:
            getattr(out, name)[rows] = getattr(learned, name)
    stacked = out
    ready = (np.arange(days)[None, :] >= started[:, None] + LEARNING_DAYS) & stacked.ready.reshape(h, days)
    return stacked, ready


def replay_arrays(
    data: MeterArrays,
    *,
    delay_minutes: int = 60,
    homes: dict[str, tuple[float, float]] | None = None,
    sensitivity: Sensitivity | None = None,
    baselines: tuple[Baselines, np.ndarray] | None = None,
    detectors: tuple[Detector, ...] = DETECTORS,
) -> list[ReplayAlert]:
    """Every alert the service would have raised over the recording, in time order."""
    sens = sensitivity or Sensitivity(false_alarm_budget=get_settings().false_alarm_budget)
    return replay_each(data, (sens,), delay_minutes=delay_minutes, homes=homes, baselines=baselines,
                       detectors=detectors)[0]


def replay_in_processes(
    data: MeterArrays,
    *,
    processes: int | None = None,
    delay_minutes: int = 60,
    homes: dict[str, tuple[float, float]] | None = None,
) -> list[ReplayAlert]:
    """:func:`replay_arrays` with the homes dealt out to worker processes (``mimamori replay``).

    Why: homes share nothing in a replay (each learns from its own days and keeps its own
    book), and learning a year of daily baselines is most of the time, so each core can take
    a share of the homes. The alerts are the same, in the same order (sorted by the same key).
    ``processes``: default one per CPU this process may use; 1 (or one home) runs here.
    Spawned, not forked: the caller may have threads (a test, a server), and a forked child
    can inherit a lock one of them held.
    """
    shares = deal_homes(len(data.meter_ids), processes)
    n = len(shares)
    if n == 1:
        return replay_arrays(data, delay_minutes=delay_minutes, homes=homes)
    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = pool.map(_replay_part, [data.rows(share) for share in shares], [delay_minutes] * n, [homes or {}] * n)
        alerts = [a for part in done for a in part]
    alerts.sort(key=_alert_order)
    return alerts


def _replay_part(data: MeterArrays, delay_minutes: int, homes: dict[str, tuple[float, float]]) -> list[ReplayAlert]:
    return replay_arrays(data, delay_minutes=delay_minutes, homes=homes)


def _alert_order(a: ReplayAlert) -> tuple[int, str, str]:
    return (a.detected_slot_time, a.meter_id, a.kind.value)


def replay_each(
    data: MeterArrays,
    sensitivities: Sequence[Sensitivity],
    *,
    delay_minutes: int = 60,
    homes: dict[str, tuple[float, float]] | None = None,
    baselines: tuple[Baselines, np.ndarray] | None = None,
    detectors: tuple[Detector, ...] = DETECTORS,
) -> list[list[ReplayAlert]]:
    """:func:`replay_arrays` for several settings at once (an evaluation's candidates): the
    readings' series are computed once per tick and only the detectors' verdicts differ."""
    homes = homes or {}
    h, n = data.x.shape
    base_all, ready_hd = baselines or daily_baselines(data)
    delay_s = delay_minutes * 60
    # tick k is at the end of slot k plus the delay: slot k is the newest visible one
    windows = tick_windows(data)  # [H, N, W]
    wake = np.array([homes.get(m, (np.nan, np.nan))[0] for m in data.meter_ids])
    sleep = np.array([homes.get(m, (np.nan, np.nan))[1] for m in data.meter_ids])
    rows_h, rows_k = np.nonzero(np.repeat(ready_hd, SLOTS_PER_DAY, axis=1))
    kinds = [d.kind for d in detectors]
    shape = (len(sensitivities), len(kinds), h, n)
    fired = np.zeros(shape, bool)
    episode = np.full(shape, -1, np.int32)  # slot numbers fit (to the year 2100) and halve the memory
    wstart = np.zeros(shape, np.int32)
    usage = np.full(shape, -1, np.int32)
    strips = day_strips(padded(data), data.first_slot, base_all, ready_hd)
    before = windows_before(data)
    days = n // SLOTS_PER_DAY
    for lo in range(0, len(rows_h), CHUNK_ROWS):
        hh, kk = rows_h[lo : lo + CHUNK_ROWS], rows_k[lo : lo + CHUNK_ROWS]
        inp = tick_input(data, windows, base_all, hh, kk, wake, sleep, sensitivities[0])
        ctx = tick_context(strips, inp, hh, kk)
        look_before_ticks(ctx, before, base_all, days, hh, kk)
        for j, ev in enumerate(evaluate_each(inp, sensitivities, detectors, context=ctx)):
            for i, kind in enumerate(kinds):
                f = ev.findings[kind]
                fired[j, i, hh, kk] = f.fired
                episode[j, i, hh, kk] = f.episode
                wstart[j, i, hh, kk] = f.window_start
                usage[j, i, hh, kk] = f.usage
    out = []
    for j in range(len(sensitivities)):
        alerts: list[ReplayAlert] = []
        for home in range(h):
            alerts.extend(_run_book(data, home, kinds, fired[j, :, home], episode[j, :, home], wstart[j, :, home],
                                    usage[j, :, home], delay_s))
        alerts.sort(key=_alert_order)
        out.append(alerts)
    return out


def padded(data: MeterArrays) -> np.ndarray:
    """[H, W - 1 + N]: the readings after W - 1 missing ones, so slot k's window starts at column k."""
    pad = np.full((data.x.shape[0], WINDOW_SLOTS - 1), np.nan, np.float32)
    return np.concatenate([pad, data.x], axis=1)


def look_before_ticks(
    ctx: Context, before: np.ndarray, base_all: Baselines, days: int, hh: np.ndarray, kk: np.ndarray,
) -> None:
    """:func:`core.detection.lookback.look_before` for a replay's rows (home ``hh``, newest slot
    ``kk``): the readings from ``before`` (:func:`windows_before`), the baseline of the tick's day
    (``base_all`` row h * days + d, as :func:`daily_baselines` stacks them)."""
    look_before(ctx, lambda rows: (
        before[hh[rows], kk[rows]], base_all.take(hh[rows] * days + kk[rows] // SLOTS_PER_DAY, map_tables=True)))


def windows_before(data: MeterArrays) -> np.ndarray:
    """[H, N, LOOKBACK_SLOTS] view: the readings just before the window a tick sees when slot k
    is the newest visible one (core/detection/lookback.py; NaN before the recording)."""
    pad = np.full((data.x.shape[0], WINDOW_SLOTS - 1 + LOOKBACK_SLOTS), np.nan, np.float32)
    return sliding_window_view(np.concatenate([pad, data.x], axis=1), LOOKBACK_SLOTS, axis=1)


def tick_windows(data: MeterArrays) -> np.ndarray:
    """[H, N, W] view: the window a tick sees when slot k is the newest visible one."""
    return sliding_window_view(padded(data), WINDOW_SLOTS, axis=1)


def tick_input(
    data: MeterArrays, windows: np.ndarray, base_all: Baselines, hh: np.ndarray, kk: np.ndarray,
    wake: np.ndarray, sleep: np.ndarray, sensitivity: Sensitivity,
) -> DetectionInput:
    """The rows (home ``hh``, newest visible slot ``kk``) as the live cycle would build them."""
    r = len(hh)
    days = data.x.shape[1] // SLOTS_PER_DAY
    return DetectionInput(
        x=windows[hh, kk], last_slot=data.first_slot + kk,
        base=base_all.take(hh * days + kk // SLOTS_PER_DAY, map_tables=True),
        ready=np.ones(r, bool), paused=np.zeros(r, bool),
        set_wake_hh=wake[hh], set_sleep_hh=sleep[hh], grace_slots=np.full(r, 3.0),
        night_watch=np.zeros(r, bool), over_pct=np.full(r, 50.0), sensitivity=sensitivity,
    )


def _run_book(
    data: MeterArrays, home: int, kinds: list[IncidentKind], fired: np.ndarray, episode: np.ndarray,
    wstart: np.ndarray, usage: np.ndarray, delay_s: int,
) -> Iterable[ReplayAlert]:
    """Walk one home's ticks through the shared book, visiting only ticks where something can change."""
    book = HomeBook()
    any_fired = np.flatnonzero(fired.any(axis=0))
    n = fired.shape[1]
    m = len(kinds)
    meter = data.meter_ids[home]
    # for each tick, the first tick from it on where a finding fires (n: none)
    next_fired = np.r_[any_fired, n][np.searchsorted(any_fired, np.arange(n + 1))].tolist()
    columns = np.concatenate([fired, episode, wstart, usage]).astype(np.int64)  # one column per tick
    k = next_fired[0]
    while k < n:
        col = columns[:, k].tolist()
        fired_k, episode_k, start_k, usage_k = col[:m], col[m : 2 * m], col[2 * m : 3 * m], col[3 * m :]
        raised = [Raised(kind, episode_k[i], start_k[i], usage_k[i]) for i, kind in enumerate(kinds) if fired_k[i]]
        book.forget(k)
        result = step(book, raised, dict(zip(kinds, usage_k, strict=True)), dict(zip(kinds, episode_k, strict=True)),
                      now=k)
        tick_time = (data.first_slot + k + 1) * SLOT_SECONDS + delay_s
        for r in result.opened:
            yield ReplayAlert(meter, r.kind, tick_time, r.window_start)
        # the next tick where something can change: a finding fires, or an open one changes
        nxt = next_fired[k + 1]
        for kind, ep in book.open.items():  # (looking no further than the next finding)
            i = kinds.index(kind)
            tail = usage[i, k + 1 : nxt] > ep if kind.value in _EMERGENCY else ~fired[i, k + 1 : nxt]
            if tail.any():
                nxt = k + 1 + int(tail.argmax())
        k = nxt


_EMERGENCY = {"no_wake", "inactivity", "flat_usage"}


def write_alerts(alerts: list[ReplayAlert], out: Path) -> None:
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["meter_id", "kind", "detected_at", "window_start"])
        for a in alerts:
            writer.writerow(a.row())
