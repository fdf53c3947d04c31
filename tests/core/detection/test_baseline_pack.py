"""Packed baselines: exact round trip of every field, old layouts and bad blobs read safely."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np

from core.detection.baseline import Baselines, empty_baselines, learn
from core.detection.baseline_pack import _LEN, MAGIC, pack, unpack_many
from core.detection.timeaxis import day_types

from .synth import normal_day


def _learned(n: int) -> Baselines:
    rng = np.random.default_rng(3)
    cube = np.stack([np.stack([normal_day(rng) for _ in range(56)]) for _ in range(n)])
    return learn(cube, day_types(np.arange(20000, 20056)))


def test_every_field_round_trips_exactly_and_a_missing_row_is_not_ready() -> None:
    base = _learned(3)
    back = unpack_many([pack(base, 2), None, pack(base, 0)])
    for f in fields(Baselines):
        np.testing.assert_array_equal(getattr(back, f.name)[0], getattr(base, f.name)[2])
        np.testing.assert_array_equal(getattr(back, f.name)[2], getattr(base, f.name)[0])
        np.testing.assert_array_equal(getattr(back, f.name)[1], getattr(empty_baselines(1), f.name)[0])
    assert back.ready.tolist() == [True, False, True]
    numbers = sum(np.asarray(getattr(base, f.name)[0]).size for f in fields(Baselines))
    assert len(pack(base, 0)) < 4 * numbers + 2000  # four bytes a number and a short header: not text


def test_a_row_learned_under_another_schema_reads_as_not_ready() -> None:
    base = _learned(1)
    blob = pack(base, 0)
    other = blob[:2] + bytes([blob[2] + 1]) + blob[3:]
    assert unpack_many([blob, other]).ready.tolist() == [True, False]


def _blob(layout: list, values: dict[str, np.ndarray]) -> bytes:
    header = json.dumps(layout).encode()
    dtype = np.dtype([(n, k, tuple(s)) for n, k, s in layout])
    record = np.zeros((), dtype)
    for name, value in values.items():
        record[name] = value
    return MAGIC + _LEN.pack(len(header)) + header + record.tobytes()


def test_a_row_stored_before_a_field_existed_reads_that_field_as_its_default() -> None:
    # As if the code gained "base_load" and lost "retired" after this row was written.
    layout = [["days_used", "<i4", []], ["retired", "<f4", [3]], ["wake_hh", "<f4", [2]]]
    old = _blob(layout, {"days_used": 50, "retired": [1, 2, 3], "wake_hh": [15.0, 17.0]})
    back = unpack_many([old, pack(_learned(1), 0)])
    assert back.days_used[0] == 50 and back.wake_hh[0].tolist() == [15.0, 17.0]
    assert back.base_load[0] == empty_baselines(1).base_load[0]
    assert back.ready[1]


def test_garbage_or_truncated_blobs_become_empty_rows() -> None:
    good = pack(_learned(1), 0)
    back = unpack_many([b"{\"schema\": 1}", good[:-4], b"", good])
    assert back.ready.tolist() == [False, False, False, True]
