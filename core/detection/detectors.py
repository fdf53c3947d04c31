"""The detectors, declared as a table, and :func:`evaluate` that runs them all.

Each detector returns, per row, whether it fires now, its *episode* (a slot number that
stays the same for as long as one situation lasts, so an incident is opened once per
situation), the start of the unusual window, a confidence and structured evidence
numbers (rendered to words by core/texts/*/detection.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.detection.book import UNKNOWN
from core.detection.engine import Context, DetectionInput
from core.detection.series import sustained
from core.detection.timeaxis import SLOTS_PER_DAY
from core.enums import EMERGENCY_KINDS, IncidentKind


@dataclass
class Finding:
    """One detector's verdict for every row."""

    fired: np.ndarray  # [R] bool
    episode: np.ndarray  # [R] int64
    window_start: np.ndarray  # [R] int64 slot
    confidence: np.ndarray  # [R] float
    evidence: dict[str, np.ndarray]  # name -> [R] numbers
    usage: np.ndarray | None = None  # [R] newest slot of any use (closes an open emergency); default episode

    def __post_init__(self) -> None:
        if self.usage is None:
            self.usage = self.episode


@dataclass(frozen=True)
class Detector:
    name: str
    kind: IncidentKind
    run: Callable[[Context], Finding]

    @property
    def emergency(self) -> bool:
        return self.kind in EMERGENCY_KINDS


def _confidence(ctx: Context, score: np.ndarray, threshold: float) -> np.ndarray:
    strength = np.clip(0.6 + 0.4 * (score - threshold) / threshold, 0.6, 1.0)
    return np.round(ctx.base.watchability * strength, 3)


EARLY_MORNING_HH = 8  # 04:00: use after this counts as having got up


def _threshold(
    ctx: Context, usual: np.ndarray, floor: float, raise_by: float, factor: float | None = None,
    margin: float | None = None,
) -> np.ndarray:
    """Above the floor, and above how high this score gets on this home's normal days now,
    moved by how clearly the home shows its rhythm (:meth:`Context.rhythm_scale`)."""
    at_now = usual[np.arange(ctx.rows), ctx.halfhour[:, -1]]
    factor = ctx.sens.usual_factor if factor is None else factor
    margin = ctx.sens.usual_margin if margin is None else margin
    return np.maximum(floor, at_now * factor + margin) * ctx.rhythm_scale(raise_by)


def _quiet_common(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    score = ctx.quiet_score[:, -1]
    last_awake = ctx.last_awake_slot
    since = np.where(last_awake >= 0, last_awake + 1, ctx.first_slot)
    return score, last_awake, since


def inactivity(ctx: Context) -> Finding:
    """The home has looked like its own nights for longer than its normal day allows."""
    score, last_active, since = _quiet_common(ctx)
    threshold = _threshold(ctx, ctx.base.quiet_usual, ctx.sens.inactivity, ctx.sens.strong_rhythm_raise)
    quiet_slots = ctx.inp.last_slot - np.maximum(ctx.last_active_slot, ctx.first_slot - 1)
    usual_run = ctx.base.quiet_run[np.arange(ctx.rows), ctx.halfhour[:, -1]]
    long_enough = quiet_slots >= np.maximum(usual_run * ctx.sens.quiet_run_factor, ctx.sens.min_quiet_slots)
    fired = (score >= threshold) & long_enough
    return Finding(
        fired=fired, episode=last_active, window_start=since, confidence=_confidence(ctx, score, threshold),
        usage=ctx.last_active_slot,
        evidence={"quiet_since_slot": since, "score": np.round(score, 1), "base_load_kwh": ctx.base.base_load},
    )


def no_wake(ctx: Context) -> Finding:
    """No activity since early morning (04:00, or 2 h before an earlier wake time) until the
    grace period after the set or learned wake time has passed."""
    wake = ctx.wake_hh()
    hh_now = ctx.halfhour[:, -1]
    due = wake + ctx.inp.grace_slots
    from_hh = np.minimum(np.nan_to_num(wake, nan=0.0) - 4, EARLY_MORNING_HH)
    start_col = np.floor(ctx.today_first_col + np.maximum(from_hh, 0)).astype(np.int64)
    cols = np.arange(ctx.width)[None, :]
    in_window = (cols >= start_col[:, None])
    seen = (ctx.active & in_window).any(axis=1)
    present_share = (ctx.present & in_window).sum(axis=1) / np.maximum(in_window.sum(axis=1), 1)
    score, last_active, since = _quiet_common(ctx)
    usual = _threshold(ctx, ctx.base.quiet_usual, ctx.sens.inactivity, ctx.sens.strong_rhythm_raise)
    own = ctx.sens.no_wake * np.maximum(1.0, ctx.rhythm_scale(ctx.sens.strong_rhythm_raise_no_wake))
    threshold = np.maximum(own, ctx.sens.no_wake_share * usual)
    fired = (
        ~np.isnan(wake) & (hh_now + 1 >= due) & (hh_now < due + 12) & (start_col >= 0)
        & ~seen & (present_share >= 0.75) & (score >= threshold)
    )
    return Finding(
        fired=fired, episode=last_active, window_start=since,
        confidence=_confidence(ctx, score, threshold), usage=ctx.last_active_slot,
        evidence={"wake_hh": np.nan_to_num(wake), "quiet_since_slot": since, "score": np.round(score, 1)},
    )


def flat_usage(ctx: Context) -> Finding:
    """Use stuck on one level (lights or TV left on) with none of the home's ups and downs."""
    score_all, level, ups = ctx.flat_series
    score = score_all[:, -1]
    start = ctx.last_col_since(~sustained(ups))
    threshold = _threshold(ctx, ctx.base.flat_usual, ctx.sens.flat, ctx.sens.strong_rhythm_raise_flat,
                           ctx.sens.flat_usual_factor, ctx.sens.flat_margin)
    elevated = level[:, -1] > ctx.base.base_load + ctx.sens.flat_min_kwh
    fired = (score >= threshold) & elevated
    episode = np.where(start > 0, ctx.first_slot + start - 1, UNKNOWN)  # no ups in the window: began before it
    return Finding(
        fired=fired, episode=episode, window_start=ctx.first_slot + np.minimum(start, ctx.width - 1),
        usage=ctx.last_slot_where(ups),
        confidence=_confidence(ctx, score, threshold),
        evidence={"level_kwh": np.round(level[:, -1], 3), "score": np.round(score, 1),
                  "flat_since_slot": ctx.first_slot + np.minimum(start, ctx.width - 1)},
    )


def night_activity(ctx: Context) -> Finding:
    """Use that does not stop long after the usual (or set) sleep time."""
    sleep = ctx.sleep_hh()  # may exceed 48 (after midnight)
    hh_now = ctx.halfhour[:, -1].astype(np.float64)
    hh_now = np.where(hh_now < 12, hh_now + SLOTS_PER_DAY, hh_now)  # 00:00-06:00 belongs to the evening before
    after = hh_now - sleep
    first_day_col = np.where(ctx.halfhour[:, -1] < 12, ctx.today_first_col - SLOTS_PER_DAY, ctx.today_first_col)
    start_col = np.floor(first_day_col + sleep + 1).astype(np.int64)
    cols = np.arange(ctx.width)[None, :]
    in_window = cols >= start_col[:, None]
    n = in_window.sum(axis=1)
    share = (ctx.active & in_window).sum(axis=1) / np.maximum(n, 1)
    late = (after >= ctx.sens.night_slots_after_sleep) & (hh_now < 60)
    fired = ctx.inp.night_watch & late & (share >= 0.8) & (n >= 3)
    episode = ctx.first_slot + start_col
    return Finding(
        fired=fired, episode=episode, window_start=episode, confidence=np.round(ctx.base.watchability, 3),
        evidence={"sleep_hh": sleep, "active_share": np.round(share, 2)},
    )


def over_usage(ctx: Context) -> Finding:
    """The day's kWh so far is over the set percentage above the usual day (once a day)."""
    cols = np.arange(ctx.width)[None, :]
    today = cols >= ctx.today_first_col[:, None]
    kwh = np.nansum(np.where(today, ctx.x, 0.0), axis=1)
    usual = ctx.base.day_kwh[np.arange(ctx.rows), ctx.today_type]
    limit = usual * (1 + ctx.inp.over_pct / 100.0)
    fired = (usual > 0) & (kwh > limit)
    day_start = ctx.first_slot + ctx.today_first_col
    return Finding(
        fired=fired, episode=day_start, window_start=day_start, confidence=np.ones(ctx.rows),
        evidence={"day_kwh": np.round(kwh, 2), "usual_kwh": np.round(usual, 2), "percent": ctx.inp.over_pct},
    )


def data_gap(ctx: Context) -> Finding:
    """Readings missing for a while: watching is degraded (never an emergency)."""
    start = ctx.last_col_since(~ctx.present)
    missing = ctx.width - start
    fired = missing >= ctx.sens.gap_slots
    since = ctx.first_slot + np.minimum(start, ctx.width - 1)
    return Finding(
        fired=fired, episode=since, window_start=since, confidence=np.ones(ctx.rows),
        evidence={"missing_since_slot": since, "missing_slots": missing},
    )


DETECTORS: tuple[Detector, ...] = (
    Detector("no_wake", IncidentKind.NO_WAKE, no_wake),
    Detector("inactivity", IncidentKind.INACTIVITY, inactivity),
    Detector("flat_usage", IncidentKind.FLAT_USAGE, flat_usage),
    Detector("night_activity", IncidentKind.NIGHT_ACTIVITY, night_activity),
    Detector("over_usage", IncidentKind.OVER_USAGE, over_usage),
    Detector("data_gap", IncidentKind.DATA_GAP, data_gap),
)


@dataclass
class Evaluation:
    findings: dict[IncidentKind, Finding]
    last_active_slot: np.ndarray  # [R] newest half-hour with use above standby (-1: none in window)
    last_slot: np.ndarray  # [R]


def evaluate(inp: DetectionInput, detectors: tuple[Detector, ...] = DETECTORS) -> Evaluation:
    """Run every detector on every row. Paused or not-ready rows never fire; homes that are
    not watchable never raise an emergency; a data gap is the only thing a gap can raise."""
    ctx = Context(inp)
    allowed = inp.ready & ~inp.paused
    findings = {}
    for det in detectors:
        f = det.run(ctx)
        gate = allowed & ctx.watchable if det.emergency else allowed
        f.fired = f.fired & gate
        findings[det.kind] = f
    return Evaluation(findings=findings, last_active_slot=ctx.last_active_slot, last_slot=inp.last_slot)
