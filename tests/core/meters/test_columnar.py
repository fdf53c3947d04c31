"""The columnar read of a replay CSV gives every line the verdict the row-by-row read gives,
and ingestion through it stores and reports exactly what the row-by-row path does."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import ManualClock
from core.meters import replay_csv
from core.meters.columnar import ReadingColumns
from core.meters.ingest import ingest
from core.meters.replay_csv import ReplayCsvFile
from core.meters.sources import ReadingIn, RowError
from core.models import Home, MeterReading
from tests.core.meters.conftest import add_home

METERS = ["MAC-A", "MAC-B", " MAC-A ", "", "メーター", "M" * 70, "0300111122223333444455"]
TIMES = [
    "2026-05-01T09:00:00+09:00", "2026-05-01T09:30:00+09:00", "2026-05-01T00:00:00+00:00",
    "2026-05-01T12:30:00-05:30", "2026-05-01T09:10:00+09:00", "2026-05-01T09:00:00", "2026-05-01 09:00:00+09:00",
    "2026-05-01T09:00:00Z", "2026-02-30T09:00:00+09:00", "2026-06-01T09:00:00+09:00", "2024-02-29T00:00:00+00:00",
    "2026-13-01T09:00:00+09:00", "1899-05-01T09:00:00+09:00", "2026-05-01T09:00:00+24:00", "soon", "",
]
KWH = ["0.219", "0", "-0", "", " ", "-0.1", "75", "50", "50.000000000001", "1.", ".5", "1e-3", "nan", "inf",
       "0000000000000001.5", "123456789012345", "0.1234567890123456", "abc", "1,5", " 0.3", "12.75"]
LINES = st.one_of(
    st.tuples(st.sampled_from(METERS), st.sampled_from(TIMES), st.sampled_from(KWH)).map(",".join),
    st.sampled_from(["", "a,b", "a,b,c,d", '"MAC-A",2026-05-01T09:00:00+09:00,0.2',
                     "MAC-A,2026-05-01T09:00:00+09:00,0.2\r", "meter_id,interval_start,kwh"]),
)


def verdicts(path: Path, columnar: bool) -> list[tuple]:
    """Each line's verdict: (line, error) or (line, meter, UTC epoch second, kWh)."""
    def of(item: ReadingIn | RowError) -> tuple:
        if isinstance(item, RowError):
            return (item.line, item.reason)
        return (item.line, item.meter_id, int(item.interval_start.timestamp()), item.kwh)

    if not columnar:
        return [of(item) for item in ReplayCsvFile(path).items()]
    out = []
    for part in ReplayCsvFile(path).batches():
        if not isinstance(part, ReadingColumns):
            out.append(of(part))
            continue
        out += [of(item) for item in part.extra]
        out += [(line, part.meters[meter], start, None if missing else kwh) for line, meter, start, kwh, missing in
                zip(part.line.tolist(), part.meter.tolist(), part.start.tolist(), part.kwh.tolist(),
                    part.missing.tolist(), strict=True)]
    return sorted(out, key=lambda verdict: verdict[0])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINES, max_size=40), header=st.booleans(), newline_at_end=st.booleans(),
       cut=st.one_of(st.none(), st.floats(0.3, 0.95)), bom=st.booleans(), block=st.sampled_from([64, 1 << 18]))
def test_every_line_gets_the_same_verdict_either_way(
    tmp_path_factory, lines: list[str], header: bool, newline_at_end: bool, cut: float | None, bom: bool, block: int
) -> None:
    text = "\n".join((["meter_id,interval_start,kwh"] if header else []) + lines) + ("\n" if newline_at_end else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    if cut is not None:
        data = gzip.compress(data)
        data = data[: int(len(data) * cut)]
    path = tmp_path_factory.mktemp("replay") / "file.csv"
    path.write_bytes(data)
    original, replay_csv.BLOCK_READ = replay_csv.BLOCK_READ, block  # small blocks: lines split across many
    try:
        assert verdicts(path, columnar=True) == verdicts(path, columnar=False)
    finally:
        replay_csv.BLOCK_READ = original


class RowByRow:
    """The same file offered only row by row (as every source without columns is)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def items(self) -> Iterator[ReadingIn | RowError]:
        return ReplayCsvFile(self.path).items()


def stored(session: Session) -> list[tuple]:
    rows = session.execute(select(Home.meter_id, MeterReading.interval_start, MeterReading.kwh, MeterReading.quality)
                           .join(Home, Home.id == MeterReading.home_id).order_by(Home.meter_id,
                                                                                  MeterReading.interval_start))
    return [tuple(row) for row in rows]


def test_ingest_stores_and_reports_the_same_either_way(
    session: Session, clock: ManualClock, write_file: Callable
) -> None:
    rows = [f"MAC-{m},2026-05-{d:02d}T{h:02d}:{s}:00+09:00,{(m * 7 + d + h) % 13 / 10}"
            for m in (3, 1, 2) for d in (1, 2) for h in range(0, 24, 5) for s in ("00", "30")]
    rows += [  # a later repeat, a misaligned time, an unknown meter, a gap, spaces, the future, out of range
        "MAC-1,2026-05-01T00:00:00+09:00,9.9", "MAC-2,2026-05-01T00:10:00+09:00,1", "MAC-9,2026-05-01T00:00:00+09:00,1",
        "MAC-1,2026-05-01T00:30:00+09:00,", " MAC-4 ,2026-05-01T00:30:00+09:00,0.5",
        "MAC-1,2026-06-09T00:00:00+09:00,1",
        "MAC-3,2026-05-01T01:00:00+09:00,-2", "MAC-3,2026-05-01T01:30:00+09:00,60",
    ]
    path = write_file("mixed.csv", "meter_id,interval_start,kwh\n" + "\n".join(rows) + "\n")
    results, contents = [], []
    for source in (ReplayCsvFile(path), RowByRow(path)):
        for meter in ("MAC-1", "MAC-2", "MAC-3", "MAC-4"):
            add_home(session, meter)
        first = ingest(session, source)
        again = ingest(session, source)
        results.append([(r.inserted, r.revised, r.unchanged, r.missing, r.errors) for r in (first, again)])
        contents.append(stored(session))
        session.rollback()
    assert results[0] == results[1]
    assert contents[0] == contents[1]
    assert results[0][0][0] > 0 and results[0][0][4] and results[0][1][0] == 0
