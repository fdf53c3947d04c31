"""One home's baseline as packed bytes (``HomeBaseline.packed``), generic over its fields.

JSON made a stored baseline 18 kB and parsing 100,000 of them took over a minute: the
first cycle after every restart. Here a baseline is its arrays' raw little-endian bytes
(float32, and int32 for counts: about 8.4 kB a home), behind a short header that names
each field with its dtype and shape. Many rows are read with one ``np.frombuffer`` over a
structured dtype built from that header, so 100,000 take a second or two.

Nothing here names a field: the layout is read off the :class:`Baselines` dataclass and
its :func:`empty_baselines` (axis 0 is the home), so a field added there round-trips
without touching this module. A stored row written before a field existed reads back with
that field's empty default (the nightly refresh rewrites every row in the new layout); a
stored field the code no longer has is ignored.

    blob = b"MB" + uint16 header length + header (JSON list of [name, dtype, shape]) + body
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import fields
from functools import lru_cache

import numpy as np

from core.detection.baseline import SCHEMA, Baselines, empty_baselines

MAGIC = b"MB" + bytes([SCHEMA])  # a row learned under another SCHEMA reads as not ready
_LEN = struct.Struct("<H")


@lru_cache(maxsize=1)
def _current() -> tuple[bytes, np.dtype]:
    """(the header the code writes today, its structured dtype), from the dataclass."""
    empty = empty_baselines(1)
    layout = []
    for f in fields(Baselines):
        value = np.asarray(getattr(empty, f.name))
        layout.append([f.name, value.dtype.newbyteorder("<").str, list(value.shape[1:])])
    header = json.dumps(layout, separators=(",", ":")).encode()
    return MAGIC + _LEN.pack(len(header)) + header, _dtype_of(header)


@lru_cache(maxsize=16)
def _dtype_of(header: bytes) -> np.dtype:
    return np.dtype([(name, kind, tuple(shape)) for name, kind, shape in json.loads(header)])


def pack(base: Baselines, i: int) -> bytes:
    """Row ``i`` of ``base`` as one stored blob."""
    prefix, dtype = _current()
    record = np.zeros((), dtype)
    for name in dtype.names or ():
        record[name] = getattr(base, name)[i]
    return prefix + record.tobytes()


def _split(blob: bytes) -> tuple[bytes, bytes]:
    """(header, body) of a blob; ValueError for anything that is not one."""
    start = len(MAGIC) + _LEN.size
    if blob[: len(MAGIC)] != MAGIC or len(blob) < start:
        raise ValueError("not a packed baseline of this SCHEMA")
    (size,) = _LEN.unpack_from(blob, len(MAGIC))
    return bytes(blob[start : start + size]), bytes(blob[start + size :])


def unpack_many(blobs: Sequence[bytes | None]) -> Baselines:
    """Stack stored blobs in order; a missing or unreadable one becomes an empty, not-ready row."""
    out = empty_baselines(len(blobs))
    groups: dict[bytes, tuple[list[int], list[bytes]]] = {}
    for row, blob in enumerate(blobs):
        if not blob:
            continue
        try:
            header, body = _split(blob)
            if len(body) != _dtype_of(header).itemsize:
                continue
        except ValueError:
            continue
        rows, bodies = groups.setdefault(header, ([], []))
        rows.append(row)
        bodies.append(body)
    for header, (rows, bodies) in groups.items():
        dtype = _dtype_of(header)
        records = np.frombuffer(b"".join(bodies), dtype=dtype)
        stored = set(dtype.names or ())
        for f in fields(Baselines):
            target = getattr(out, f.name)
            if f.name in stored and records[f.name].shape[1:] == target.shape[1:]:
                target[rows] = records[f.name]
    return out
