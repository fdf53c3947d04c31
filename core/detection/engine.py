"""The one detection code path: pure :func:`evaluate` over a batch of reading windows.

A row is one home at one "now": ``x[row]`` holds its last ``W`` half-hours up to the
last slot visible at that now (NaN = missing). The live scheduler passes one row per home;
a replay passes one row per home and tick, thousands at once. Detectors (declared in
core/detection/detectors.py) read the shared per-row series computed here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from core.detection import DEFAULT_FALSE_ALARM_BUDGET
from core.detection.baseline import Baselines, RowMapped, bin_index, is_active
from core.detection.series import FLAT_MIN_KWH, accumulate, smooth_rows, sustained, ups_and_downs
from core.detection.timeaxis import SLOTS_PER_DAY, day_types, local_day, local_halfhour

WINDOW_SLOTS = 96  # 48 h: a whole day of quiet, and the sustained use that began it still in view


@dataclass(frozen=True)
class Sensitivity:
    """The few operator settings of detection. Everything else is learned per home."""

    # Emergencies a normal home may raise per month, spent per quiet stretch (core/detection/survival.py):
    # each home's own scores at each time of day, and its own stretches' peaks, say how quiet is too quiet.
    false_alarm_budget: float = DEFAULT_FALSE_ALARM_BUDGET
    # Of that budget, the part spent on "left on" stretches: chosen with the budget and the tail quantile
    # on the training folds of benchmarks/detection_eval.py (0.3, 0.5, 0.7 tried).
    flat_budget_share: float = 0.7
    min_quiet_slots: int = 8  # nobody is alerted about less than 4 h of quiet
    flat_min_kwh: float = FLAT_MIN_KWH  # a level this much above standby counts as "something left on"
    gap_slots: int = 6  # 3 h of missing readings
    night_slots_after_sleep: int = 4
    watchable_min: float = 0.35


@dataclass
class DetectionInput:
    """Everything detection may look at, one row per home (and, in replays, per tick)."""

    x: np.ndarray  # [R, W] kWh, NaN = missing, last column = last visible slot
    last_slot: np.ndarray  # [R] slot number of the last column
    base: Baselines  # already one row per row
    ready: np.ndarray  # [R] bool: enough history (and consent) to watch
    paused: np.ndarray  # [R] bool: monitoring paused at this now
    set_wake_hh: np.ndarray  # [R] float half-hours since 00:00 set by the family, NaN = learned
    set_sleep_hh: np.ndarray  # [R] same for sleep
    grace_slots: np.ndarray  # [R] no_wake grace in half-hours
    night_watch: np.ndarray  # [R] bool
    over_pct: np.ndarray  # [R] over-usage percentage
    pause_cells: np.ndarray | None = None  # [R, W] bool: cells inside a pause (not evidence)
    sensitivity: Sensitivity = field(default_factory=Sensitivity)
    # [R] newest sustained use in the days before the window (core/detection/lookback.py), for rows
    # with none inside it; -1: none there either, or not looked up
    awake_before: np.ndarray | None = None

    @classmethod
    def series_only(cls, x: np.ndarray, last_slot: np.ndarray, base: Baselines) -> DetectionInput:
        """Rows whose Context is read for its series (use, scores) and never judged by the
        detectors: a replay's day strips, the week before a window: ready, not paused, no settings."""
        r = x.shape[0]
        return cls(
            x=x, last_slot=last_slot, base=base, ready=np.ones(r, bool), paused=np.zeros(r, bool),
            set_wake_hh=np.full(r, np.nan), set_sleep_hh=np.full(r, np.nan), grace_slots=np.zeros(r),
            night_watch=np.zeros(r, bool), over_pct=np.zeros(r),
        )


class Context:
    """Per-row series shared by the detectors, computed lazily and once."""

    def __init__(self, inp: DetectionInput) -> None:
        self.inp = inp
        self.base = inp.base
        self.sens = inp.sensitivity
        x = inp.x.astype(np.float32, copy=False)
        if inp.pause_cells is not None:
            x = np.where(inp.pause_cells, np.nan, x)
        self.raw = x  # as read (over-usage and data gaps)
        self.present = ~np.isnan(x)
        self.rows, self.width = x.shape
        self.first_slot = inp.last_slot - (self.width - 1)

    def preset(self, **series: np.ndarray | tuple[np.ndarray, ...]) -> Context:
        """Take series a caller already computed with this class over longer rows (a replay
        computes each home's day once, core/detection/strips.py) instead of computing them here."""
        unknown = set(series) - PRESETTABLE
        if unknown:
            raise ValueError(f"not a presettable series: {sorted(unknown)}")
        self.__dict__.update(series)
        return self

    @cached_property
    def x(self) -> np.ndarray:
        """The readings averaged at the home's step rhythm (core/detection/baseline.py)."""
        return smooth_rows(self.raw, self.base.smooth_slots.astype(np.int64))

    @cached_property
    def slots(self) -> np.ndarray:
        return self.first_slot[:, None] + np.arange(self.width)[None, :]

    @cached_property
    def halfhour(self) -> np.ndarray:
        return local_halfhour(self.slots)

    @cached_property
    def halfhour_now(self) -> np.ndarray:
        """Local half-hour of the last column."""
        return local_halfhour(np.asarray(self.inp.last_slot))

    @cached_property
    def day_type(self) -> np.ndarray:
        """Day type of each column: a window spans a few local days, looked up once per row and day."""
        first_day = local_day(self.first_slot)
        offset = local_day(self.slots) - first_day[:, None]  # 0, 1, 2 ...
        spans = day_types(first_day[:, None] + np.arange(int(offset.max(initial=0)) + 1)[None, :])
        return np.take_along_axis(spans, offset, axis=1)

    @cached_property
    def bins(self) -> np.ndarray:
        """Each reading's bin of the home's own levels (missing readings in the lowest)."""
        return bin_index(np.nan_to_num(self.x, nan=0.0), self.base.edges)

    @cached_property
    def active(self) -> np.ndarray:
        """Use above standby (core/detection/baseline.py ``is_active``); never a missing reading."""
        return is_active(self.x, self.bins, self.base.active_kwh, self.base.use_bins)

    def last_slot_where(self, mask: np.ndarray) -> np.ndarray:
        """Slot of the newest column where ``mask`` holds, -1 if none in the window."""
        last = self.width - 1 - mask[:, ::-1].argmax(axis=1)
        return np.where(mask.any(axis=1), self.first_slot + last, -1)

    @cached_property
    def last_active_slot(self) -> np.ndarray:
        """Slot of the newest active half-hour in the window, -1 if none."""
        return self.last_slot_where(self.active)

    @cached_property
    def awake_in_window(self) -> np.ndarray:
        """Newest half-hour of *sustained* use (2 of 3 half-hours active) in the window, -1 if
        none: a lone spike of a fridge or heater does not end a quiet situation, nor start a new one."""
        return self.last_slot_where(sustained(self.active))

    @cached_property
    def last_awake_slot(self) -> np.ndarray:
        """Newest sustained use, looked for before the window too where the caller did
        (``DetectionInput.awake_before``): a quiet stretch longer than the window is then still
        known by where it began, so it is told apart from the last one raised."""
        inside = self.awake_in_window
        before = self.inp.awake_before
        return inside if before is None else np.where(inside >= 0, inside, before)

    @cached_property
    def quiet_llr(self) -> np.ndarray:
        """Night-vs-usual evidence of each reading (0 where missing)."""
        llr = lookup(self.base.llr, self.day_type, self.halfhour, self.bins)
        return np.where(np.isnan(self.x), 0.0, llr).astype(np.float32)

    @cached_property
    def quiet_score(self) -> np.ndarray:
        """Accumulated evidence (CUSUM) of "looks asleep" at the last slot; resets on activity."""
        return accumulate(self.quiet_llr, sustained(self.active))

    @cached_property
    def quiet_now(self) -> np.ndarray:
        """The quiet score at the last column (what the detectors judge)."""
        return self.quiet_score[:, -1]

    @cached_property
    def rise_level(self) -> tuple[np.ndarray, np.ndarray]:
        """(rise, level): each reading above the lowest of the last 4 h, and that lowest level."""
        return ups_and_downs(self.x)

    @cached_property
    def ups(self) -> np.ndarray:
        """Where use rose above the recent floor ("someone switched something on")."""
        return self.rise_level[0] > self.base.up_kwh[:, None]

    @cached_property
    def flat_llr(self) -> np.ndarray:
        """Night-vs-usual evidence of each rise above the recent floor (0 where missing)."""
        rise = self.rise_level[0]
        bins = bin_index(np.nan_to_num(rise), self.base.edges_rise)
        return np.where(np.isnan(rise), 0.0, lookup(self.base.llr_rise, self.day_type, self.halfhour, bins))

    @cached_property
    def flat_series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(score, level, ups): evidence that use has none of its usual ups and downs."""
        return accumulate(self.flat_llr, sustained(self.ups)), np.nan_to_num(self.rise_level[1]), self.ups

    @cached_property
    def flat_now(self) -> tuple[np.ndarray, np.ndarray]:
        """(score, level) of the flat series at the last column (what the detectors judge)."""
        score, level, _ups = self.flat_series
        return score[:, -1], level[:, -1]

    @cached_property
    def today_first_col(self) -> np.ndarray:
        """Column of local 00:00 of the last slot's day (may be negative if outside)."""
        return self.width - 1 - local_halfhour(self.inp.last_slot)

    @cached_property
    def today_type(self) -> np.ndarray:
        return day_types(local_day(self.inp.last_slot))

    def wake_hh(self) -> np.ndarray:
        learned = self.base.wake_hh[np.arange(self.rows), self.today_type]
        return np.where(np.isnan(self.inp.set_wake_hh), learned, self.inp.set_wake_hh)

    def sleep_hh(self) -> np.ndarray:
        learned = self.base.sleep_hh[np.arange(self.rows), self.today_type]
        return np.where(np.isnan(self.inp.set_sleep_hh), learned, self.inp.set_sleep_hh)

    @property
    def watchable(self) -> np.ndarray:
        return self.base.watchability >= self.sens.watchable_min

    def last_col_since(self, mask: np.ndarray) -> np.ndarray:
        """For each row, the first column of the trailing run where ``mask`` holds (W if none)."""
        broken = ~mask
        any_broken = broken.any(axis=1)
        last_broken = self.width - 1 - broken[:, ::-1].argmax(axis=1)
        return np.where(any_broken, last_broken + 1, 0)


def lookup(table: np.ndarray | RowMapped, day_type: np.ndarray, halfhour: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """``table[row, day_type, halfhour, bins]`` for every cell of [R, W] (rows = their row), as a
    flat take: the same values as the four-array fancy index at a fraction of its cost."""
    rows = np.arange(day_type.shape[0])
    if isinstance(table, RowMapped):
        table, rows = table.table, table.rows
    _h, types, slots, n_bins = table.shape
    cell = (day_type.astype(np.int32) * slots + halfhour.astype(np.int32)) * n_bins + bins
    flat = np.asarray(rows, np.int64)[:, None] * (types * slots * n_bins) + cell
    return np.take(table.reshape(-1), flat)


# Series a caller may hand to :meth:`Context.preset`, computed over longer rows by this class.
PRESETTABLE = frozenset({"active", "ups", "quiet_now", "flat_now"})
SLOTS = SLOTS_PER_DAY
