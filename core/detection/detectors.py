"""The detectors, declared as a table, and :func:`evaluate` that runs them all.

Each detector returns, per row, whether it fires now, its *episode* (a slot number that
stays the same for as long as one situation lasts, so an incident is opened once per
situation), the start of the unusual window, a confidence and structured evidence
numbers (rendered to words by core/texts/*/detection.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from core.detection.book import UNKNOWN
from core.detection.engine import Context, DetectionInput, Sensitivity
from core.detection.series import sustained
from core.detection.survival import stretch_level
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


def _confidence(ctx: Context, score: np.ndarray, level: np.ndarray) -> np.ndarray:
    """How clearly the home shows its rhythm, times how far past its alarm level the score is."""
    strength = np.clip(0.6 + 0.4 * (score - level) / np.maximum(level, 1), 0.6, 1.0)
    return np.round(ctx.base.watchability * strength, 3)


EARLY_MORNING_HH = 8  # 04:00: use after this counts as having got up
QUIET, FLAT = "quiet", "flat"


def _rare(ctx: Context, which: str, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rare, alarm level): is the score now higher than this home's own score at this time of
    day gets more often than its share of the false-alarm budget allows?"""
    share = ctx.sens.flat_budget_share if which == FLAT else 1.0 - ctx.sens.flat_budget_share
    tail = ctx.base.flat_tail if which == FLAT else ctx.base.quiet_tail
    peaks = ctx.base.flat_peaks if which == FLAT else ctx.base.quiet_peaks
    level = stretch_level(tail[np.arange(ctx.rows), ctx.halfhour_now], peaks,
                          ctx.sens.false_alarm_budget * share)
    return (score > level) & ctx.present[:, -1], level  # above: a score at u (often 0) is not rare


def _quiet(ctx: Context) -> tuple[np.ndarray, ...]:
    """(score, last awake slot, quiet since slot, rare, alarm level): the present quiet stretch,
    from the newest sustained use (a lone fridge or heater spike neither ends nor starts one)."""
    score = ctx.quiet_now
    last_awake = ctx.last_awake_slot
    since = np.where(last_awake >= 0, last_awake + 1, ctx.first_slot)
    rare, level = _rare(ctx, QUIET, score)
    long_enough = ctx.inp.last_slot - since + 1 >= ctx.sens.min_quiet_slots
    return score, last_awake, since, rare & long_enough, level


def inactivity(ctx: Context) -> Finding:
    """The home has looked like its own nights for longer than its own past quiet stretches
    reach within its false-alarm budget."""
    score, last_awake, since, rare, level = _quiet(ctx)
    return Finding(
        fired=rare, episode=last_awake, window_start=since, confidence=_confidence(ctx, score, level),
        usage=ctx.last_active_slot,
        evidence={"quiet_since_slot": since, "score": np.round(score, 1), "base_load_kwh": ctx.base.base_load},
    )


def no_wake(ctx: Context) -> Finding:
    """The same rare quiet stretch, named "no wake" when it spans the morning: no activity since
    early morning (04:00, or 2 h before an earlier wake time) and past the wake time's grace."""
    wake = ctx.wake_hh()
    hh_now = ctx.halfhour_now
    due = wake + ctx.inp.grace_slots
    from_hh = np.minimum(np.nan_to_num(wake, nan=0.0) - 4, EARLY_MORNING_HH)
    start_col = np.floor(ctx.today_first_col + np.maximum(from_hh, 0)).astype(np.int64)
    cols = np.arange(ctx.width)[None, :]
    in_window = (cols >= start_col[:, None])
    seen = (ctx.active & in_window).any(axis=1)
    present_share = (ctx.present & in_window).sum(axis=1) / np.maximum(in_window.sum(axis=1), 1)
    score, last_awake, since, rare, level = _quiet(ctx)
    fired = (
        ~np.isnan(wake) & (hh_now + 1 >= due) & (hh_now < due + 12) & (start_col >= 0)
        & ~seen & (present_share >= 0.75) & rare
    )
    return Finding(
        fired=fired, episode=last_awake, window_start=since,
        confidence=_confidence(ctx, score, level), usage=ctx.last_active_slot,
        evidence={"wake_hh": np.nan_to_num(wake), "quiet_since_slot": since, "score": np.round(score, 1)},
    )


def flat_usage(ctx: Context) -> Finding:
    """Use stuck on one level above standby (lights or TV left on) with none of the home's ups
    and downs, its score higher than the home's own such stretches reach within its budget."""
    score, level_kwh = ctx.flat_now
    ups = ctx.ups
    start = ctx.last_col_since(~sustained(ups))
    elevated = level_kwh > ctx.base.base_load + ctx.sens.flat_min_kwh
    rare, level = _rare(ctx, FLAT, score)
    fired = rare & elevated
    episode = np.where(start > 0, ctx.first_slot + start - 1, UNKNOWN)  # no ups in the window: began before it
    since = ctx.first_slot + np.minimum(start, ctx.width - 1)
    return Finding(
        fired=fired, episode=episode, window_start=since,
        usage=ctx.last_slot_where(ups),
        confidence=_confidence(ctx, score, level),
        evidence={"level_kwh": np.round(level_kwh, 3), "score": np.round(score, 1), "flat_since_slot": since},
    )


def night_activity(ctx: Context) -> Finding:
    """Use that does not stop long after the usual (or set) sleep time."""
    sleep = ctx.sleep_hh()  # may exceed 48 (after midnight)
    hh_now = ctx.halfhour_now.astype(np.float64)
    hh_now = np.where(hh_now < 12, hh_now + SLOTS_PER_DAY, hh_now)  # 00:00-06:00 belongs to the evening before
    after = hh_now - sleep
    first_day_col = np.where(ctx.halfhour_now < 12, ctx.today_first_col - SLOTS_PER_DAY, ctx.today_first_col)
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
    kwh = np.where(today & ctx.present, ctx.raw, 0.0).sum(axis=1)  # missing readings add nothing
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
    return next(evaluate_each(inp, (inp.sensitivity,), detectors))


def evaluate_each(
    inp: DetectionInput, sensitivities: Sequence[Sensitivity], detectors: tuple[Detector, ...] = DETECTORS,
    context: Context | None = None,
) -> Iterator[Evaluation]:
    """:func:`evaluate` under several sensitivities, sharing one Context: its series depend on
    the readings and the baseline only, so an evaluation of many settings costs little more.
    ``context``: that Context of ``inp`` built already (a replay's, core/detection/strips.py)."""
    ctx = context or Context(inp)
    allowed = inp.ready & ~inp.paused
    for sens in sensitivities:
        ctx.sens = sens
        findings = {}
        for det in detectors:
            f = det.run(ctx)
            gate = allowed & ctx.watchable if det.emergency else allowed
            f.fired = f.fired & gate
            findings[det.kind] = f
        yield Evaluation(findings=findings, last_active_slot=ctx.last_active_slot, last_slot=inp.last_slot)
