"""Small row-wise series operations shared by learning and detection (same maths in both)."""

from __future__ import annotations

import numpy as np

FLAT_MIN_SLOTS = 8  # "stuck" is judged against the lowest level of the last 4 h


def accumulate(llr: np.ndarray, reset: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """S_t = 0 on reset, else max(0, S_{t-1} + llr_t), along the last axis of [R, W], from
    S = ``start`` [R] before the first column (0; a run carried on gives the same numbers)."""
    llr_t = np.ascontiguousarray(llr.T, dtype=np.float32)
    reset_t = np.ascontiguousarray(reset.T)
    out = np.empty_like(llr_t)
    s = np.zeros(llr_t.shape[1:], np.float32) if start is None else np.array(start, np.float32)
    for j in range(llr_t.shape[0]):
        s = np.maximum(s + llr_t[j], 0)
        np.copyto(s, 0, where=reset_t[j])
        out[j] = s
    return out.T


def rolling_min(x: np.ndarray, k: int) -> np.ndarray:
    """Trailing minimum over k columns (inf before the window has k columns)."""
    out = np.full_like(x, np.inf)
    acc = x[:, k - 1 :].copy()
    for j in range(1, k):
        np.minimum(acc, x[:, k - 1 - j : x.shape[1] - j], out=acc)
    out[:, k - 1 :] = acc
    return out


def ups_and_downs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rise, level): each reading above the lowest of the last 4 h, and that lowest level.

    Lights or a TV left on add a constant to what the fridge does at night; the rise above
    the recent floor is what moves, and it looks like the home's nights when nobody moves.
    NaN where the reading is missing or the window has not filled yet.
    """
    level = rolling_min(np.where(np.isnan(x), np.inf, x), FLAT_MIN_SLOTS)
    rise = np.where(np.isfinite(level), x - level, np.nan)
    return rise, np.where(np.isfinite(level), level, np.nan)


def sustained(mask: np.ndarray, need: int = 2, span: int = 3) -> np.ndarray:
    """True where at least ``need`` of the last ``span`` columns (this one included) hold."""
    m = mask.astype(np.int8)
    count = m.copy()
    for j in range(1, span):
        count[:, j:] += m[:, :-j]
    return mask & (count >= need)


FLAT_MIN_KWH = 0.03  # a level this much above standby counts as "something left on"


def register_step(x: np.ndarray) -> np.ndarray:
    """Each row's register step: the smallest positive difference between its readings
    (0.1 for a 0.1 kWh register, about 0.001 for readings as measured) -> [R]."""
    values = np.sort(np.round(np.where(np.isnan(x), np.inf, x), 4), axis=1)
    with np.errstate(invalid="ignore"):
        gaps = np.diff(values, axis=1)
    gaps = np.where(np.isfinite(gaps) & (gaps > 5e-5), gaps, np.inf)
    step = gaps.min(axis=1) if gaps.shape[1] else np.full(x.shape[0], np.inf)
    return np.where(np.isfinite(step), step, 0.0)


def smooth_rows(x: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Trailing mean over each row's own number of columns (``slots`` [R], 1..4), missing
    readings left out; NaN only where every reading of the span is missing."""
    slots = np.asarray(slots, np.int64)
    if x.shape[1] == 0 or np.all(slots <= 1):
        return x
    coarse = slots > 1
    if not coarse.all():  # fine meters (most, as measured) are left as they are: smooth only the others
        out = x.astype(np.result_type(np.float32, x.dtype))
        out[coarse] = smooth_rows(x[coarse], slots[coarse])
        return out
    seen = ~np.isnan(x)
    value = np.where(seen, x, 0.0).astype(np.float32)
    total = value.copy()
    count = seen.astype(np.float32)
    for j in range(1, int(slots.max())):
        use = (slots > j)[:, None]
        total[:, j:] += np.where(use, value[:, :-j], 0.0)
        count[:, j:] += np.where(use, seen[:, :-j], 0.0)
    out = np.where(count > 0, total / np.maximum(count, 1), np.nan).astype(np.float32)
    return np.where((slots > 1)[:, None], out, x)
