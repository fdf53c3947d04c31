"""Live detection against the database: incidents opened once, closed by usage, pauses honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert, select

from core.db import session_scope
from core.detection.baseline_pack import unpack_many
from core.detection.evidence import describe
from core.detection.live import refresh_baselines, run_detection
from core.enums import CloseReason, IncidentKind, PauseReason
from core.models import AuditLog, Home, HomeBaseline, Incident, MeterReading, OutboxMessage, Pause

from .synth import night_reading, normal_day

NOW = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)  # 14:00 JST
MIDNIGHT = datetime(2026, 5, 31, 15, 0, tzinfo=UTC)  # 2026-06-01 00:00 JST
EMERGENCIES = {IncidentKind.NO_WAKE, IncidentKind.INACTIVITY, IncidentKind.FLAT_USAGE}


def _store(home_id: int, values: np.ndarray, start: datetime) -> None:
    rows = [
        {"home_id": home_id, "interval_start": start + timedelta(minutes=30 * i), "kwh": float(v)}
        for i, v in enumerate(values) if not np.isnan(v)
    ]
    with session_scope() as s:
        s.execute(insert(MeterReading), rows)


def _home_with_history(make_home, seed: int, today: str, **fields) -> Home:
    """60 normal days before today, then today until 13:00 JST: normal or fridge only."""
    home = make_home(ready_at=MIDNIGHT - timedelta(days=5), **fields)
    rng = np.random.default_rng(seed)
    past = np.concatenate([normal_day(rng) for _ in range(60)])
    now_day = normal_day(rng)[:26] if today == "normal" else night_reading(rng, 26)
    _store(home.id, np.concatenate([past, now_day]), MIDNIGHT - timedelta(days=60))
    return home


def _incidents(home_id: int) -> list[Incident]:
    with session_scope() as s:
        return list(s.scalars(select(Incident).where(Incident.home_id == home_id).order_by(Incident.id)))


def test_a_quiet_morning_opens_one_emergency_with_evidence_and_usage_closes_it(make_home, clock) -> None:
    quiet = _home_with_history(make_home, 1, "quiet")
    normal = _home_with_history(make_home, 2, "normal")
    clock.set(NOW)
    with session_scope() as s:
        assert refresh_baselines(s, NOW) == 2
    with session_scope() as s:
        opened = run_detection(s, NOW)
        assert [(i.home_id, i.kind in EMERGENCIES) for i in opened] == [(quiet.id, True)]
        evidence = opened[0].evidence
        assert 0 < opened[0].confidence <= 1
        text = describe(opened[0].kind, evidence, "en")
        assert "standby since" in text and "Confidence" in text
    with session_scope() as s:
        assert run_detection(s, NOW + timedelta(minutes=30)) == []  # once per situation
    assert normal.id not in {i.home_id for i in _incidents(normal.id)}

    _store(quiet.id, np.array([0.9, 0.8], np.float32), MIDNIGHT + timedelta(hours=13))  # kettle at 13:00
    with session_scope() as s:
        opened = run_detection(s, NOW + timedelta(minutes=60))
        assert [i.kind for i in opened] == [IncidentKind.USAGE_RESUMED]
    first = _incidents(quiet.id)[0]
    assert first.close_reason == CloseReason.USAGE_SEEN and first.closed_at is not None


def test_nothing_is_raised_while_the_home_is_paused(make_home, clock) -> None:
    home = _home_with_history(make_home, 3, "quiet")
    with session_scope() as s:
        s.add(Pause(home_id=home.id, starts_at=MIDNIGHT - timedelta(hours=2), ends_at=NOW + timedelta(hours=3),
                    reason=PauseReason.TRIP))
    with session_scope() as s:
        refresh_baselines(s, NOW)
        assert run_detection(s, NOW) == []


def test_a_home_not_ready_is_not_watched(make_home, clock) -> None:
    home = _home_with_history(make_home, 4, "quiet")
    with session_scope() as s:
        s.get(Home, home.id).ready_at = None
    with session_scope() as s:
        refresh_baselines(s, NOW)
        assert run_detection(s, NOW) == []


def test_baselines_are_stored_daily_packed_with_watchability(make_home, clock) -> None:
    home = _home_with_history(make_home, 5, "normal")
    with session_scope() as s:
        assert refresh_baselines(s, NOW) == 1
        assert refresh_baselines(s, NOW + timedelta(hours=1)) == 0  # same local day
    with session_scope() as s:
        stored = s.get(HomeBaseline, home.id)
        assert stored.days_used >= 42 and unpack_many([stored.packed]).llr.shape == (1, 2, 48, 10)
        assert s.get(Home, home.id).watchability > 0.5


def test_a_home_without_rhythm_is_told_plainly_and_never_raises_an_emergency(make_home, make_watcher, clock) -> None:
    home = make_home(ready_at=MIDNIGHT - timedelta(days=5))
    watcher = make_watcher(home, relation_label="お母さん")
    rng = np.random.default_rng(6)
    _store(home.id, night_reading(rng, 61 * 48 + 26), MIDNIGHT - timedelta(days=60))
    with session_scope() as s:
        refresh_baselines(s, NOW)
        assert not {i.kind for i in run_detection(s, NOW)} & EMERGENCIES
    with session_scope() as s:
        assert s.get(Home, home.id).watchability < 0.35
        messages = s.scalars(select(OutboxMessage).where(OutboxMessage.home_id == home.id)).all()
        assert [m.recipient for m in messages] == [watcher.line_user_id]
        assert "お母さん" in messages[0].payload["messages"][0]["text"]
        assert s.scalar(select(AuditLog.action).where(AuditLog.home_id == home.id,
                                                      AuditLog.action == "home_not_watchable"))
    with session_scope() as s:
        refresh_baselines(s, NOW + timedelta(days=1))  # told once, not every day
        assert len(s.scalars(select(OutboxMessage).where(OutboxMessage.home_id == home.id)).all()) == 1


def test_missing_readings_raise_a_data_gap_notice_not_an_emergency(make_home, clock) -> None:
    home = make_home(ready_at=MIDNIGHT - timedelta(days=5))
    rng = np.random.default_rng(7)
    values = np.concatenate([np.concatenate([normal_day(rng) for _ in range(60)]), normal_day(rng)[:12]])
    _store(home.id, values, MIDNIGHT - timedelta(days=60))  # nothing since 06:00
    with session_scope() as s:
        refresh_baselines(s, NOW)
        opened = run_detection(s, NOW)
        assert [i.kind for i in opened] == [IncidentKind.DATA_GAP]
