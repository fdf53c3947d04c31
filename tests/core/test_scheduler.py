"""The job table, one run of a job, the meter cycle, and catching up once after downtime."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from core import jobs
from core.db import session_scope
from core.jobs import Cron, Every, JobSpec, job_table, run_cycle, run_job, validate_table
from core.models import JobState, MeterReading
from core.scheduler import JOB_DEFAULTS, build_trigger, catch_up_times, configure


def jst(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(UTC)


# ---- the declared table ---------------------------------------------------------------
def test_table_has_every_job_of_the_issue(settings) -> None:
    names = {spec.name for spec in job_table(settings)}
    assert {"meter_cycle", "baselines", "daily_reports", "monthly_reports", "pause_expiry", "link_expiry",
            "retention", "escalation_tick", "outbox_dispatch"} <= names


def test_clock_leaves_escalation_to_workers_when_told(settings) -> None:
    settings.mimamori_clock_runs_workers = False
    names = {spec.name for spec in job_table(settings)}
    assert "escalation_tick" not in names and "outbox_dispatch" not in names
    assert "meter_cycle" in names


def test_meter_pull_runs_at_five_and_thirty_five_past(settings) -> None:
    spec = next(s for s in job_table(settings) if s.name == "meter_cycle")
    trigger = build_trigger(spec.trigger, settings)
    first = trigger.get_next_fire_time(None, datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert (first.minute, second.minute) == (5, 35)


def test_monthly_reports_run_only_on_the_first_days_of_a_tokyo_month(settings) -> None:
    spec = next(s for s in job_table(settings) if s.name == "monthly_reports")
    trigger = build_trigger(spec.trigger, settings)
    assert trigger.get_next_fire_time(None, jst(2026, 6, 15, 12, 0)).astimezone(UTC) == jst(2026, 7, 1, 0, 0)
    assert trigger.get_next_fire_time(None, jst(2026, 7, 3, 23, 50)).astimezone(UTC) == jst(2026, 8, 1, 0, 0)


def test_a_bad_table_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        validate_table([JobSpec("a", "m:f", 5), JobSpec("a", "m:g", 5)])
    with pytest.raises(ValueError, match="no trigger"):
        validate_table([JobSpec("a", "m:f")])
    with pytest.raises(ValueError, match="module:function"):
        JobSpec("a", "no_colon", 5)
    with pytest.raises(ValueError, match="positive"):
        JobSpec("a", "m:f", trigger=Every(0))


# ---- catching up ----------------------------------------------------------------------
def test_downtime_catches_up_once_from_the_first_missed_fire(settings) -> None:
    specs = [JobSpec("meter_cycle", "m:f", trigger=Cron(minute="5,35"))]
    last = datetime(2026, 6, 1, 10, 5, tzinfo=UTC)
    # Down from 10:05 to 13:20: six runs missed; the scheduler is told about the first one
    # and, coalescing, runs it once.
    due = catch_up_times(specs, {"meter_cycle": last}, settings, datetime(2026, 6, 1, 13, 20, tzinfo=UTC))
    assert due == {"meter_cycle": datetime(2026, 6, 1, 10, 35, tzinfo=UTC)}


def test_no_catch_up_when_nothing_was_missed_or_the_job_never_ran(settings) -> None:
    specs = [JobSpec("meter_cycle", "m:f", trigger=Cron(minute="5,35")), JobSpec("tick", "m:f", 5)]
    now = datetime(2026, 6, 1, 13, 20, tzinfo=UTC)
    assert catch_up_times(specs, {"meter_cycle": datetime(2026, 6, 1, 13, 5, tzinfo=UTC)}, settings, now) == {}
    assert catch_up_times(specs, {}, settings, now) == {}
    # A job every few seconds simply runs again at start; it is not "caught up".
    assert catch_up_times(specs, {"tick": now - timedelta(hours=5)}, settings, now) == {}


def test_a_missed_monthly_report_is_caught_up(settings) -> None:
    specs = [JobSpec("monthly_reports", "m:f", trigger=Cron("*/15", "*", "1-3", local=True))]
    last = jst(2026, 5, 3, 23, 45)
    due = catch_up_times(specs, {"monthly_reports": last}, settings, jst(2026, 6, 3, 8, 0))
    assert due == {"monthly_reports": jst(2026, 6, 1, 0, 0)}


def test_apscheduler_runs_a_job_missed_many_times_only_once(db, settings) -> None:
    """Real APScheduler, real wall clock: the last good run was three hours ago."""
    calls: list[datetime] = []
    ran = threading.Event()

    def counted(now: datetime) -> int:
        calls.append(now)
        ran.set()
        return 1

    spec = JobSpec("counted", counted, trigger=Every(1800))
    with session_scope() as s:
        s.add(JobState(name="counted", last_ok_at=datetime.now(UTC) - timedelta(hours=3), runs=1, failures=0,
                       total_count=0))
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
    configure(scheduler, settings, [spec])
    scheduler.start()
    try:
        assert ran.wait(30), "the missed job did not run at start"
        next_run = scheduler.get_job("counted").next_run_time
    finally:
        scheduler.shutdown(wait=True)
    assert len(calls) == 1  # six missed half-hours, one run
    assert next_run > datetime.now(UTC) + timedelta(minutes=25)
    with session_scope() as s:
        assert s.get(JobState, "counted").runs == 2


# ---- one run of a job -----------------------------------------------------------------
def test_a_missing_function_is_logged_once_and_skipped(db, caplog) -> None:
    spec = JobSpec("not_merged_yet", "core.nowhere.jobs:pull")
    jobs._reported_missing.discard(spec.name)
    with caplog.at_level(logging.WARNING, logger="core.jobs"):
        first = run_job(spec)
        second = run_job(spec)
    assert first.skipped and second.skipped
    assert [r.getMessage() for r in caplog.records].count("job.unavailable") == 1


def test_a_broken_import_inside_a_module_is_not_mistaken_for_a_missing_one(tmp_path, monkeypatch) -> None:
    (tmp_path / "broken_area.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError):
        jobs.resolve("broken_area:f")


def test_runs_are_recorded_with_counts_and_failures(db, clock) -> None:
    outcomes = iter([3, RuntimeError("meter API down"), 4])

    def flaky(now: datetime) -> int:
        result = next(outcomes)
        if isinstance(result, Exception):
            raise result
        return result

    spec = JobSpec("flaky", flaky, 60)
    assert run_job(spec).count == 3
    clock.advance(minutes=1)
    assert not run_job(spec).ok
    with session_scope() as s:
        row = s.get(JobState, "flaky")
        assert (row.runs, row.failures, row.total_count) == (2, 1, 3)
        assert "meter API down" in row.last_error
        assert row.last_ok_at == datetime(2026, 6, 1, tzinfo=UTC)
    clock.advance(minutes=1)
    run_job(spec)
    with session_scope() as s:
        row = s.get(JobState, "flaky")
        assert (row.runs, row.total_count, row.last_error) == (3, 7, None)


def test_the_cycle_runs_each_step_in_its_own_transaction(db, clock, make_home, monkeypatch) -> None:
    home = make_home()
    order: list[str] = []

    def pull(now: datetime) -> int:
        order.append("pull")
        with session_scope() as s:
            s.add(MeterReading(home_id=home.id, interval_start=now - timedelta(hours=1), kwh=0.2))
        return 1

    def readiness(session, now: datetime) -> int:
        order.append("readiness")
        return 0

    def detect(session, now: datetime) -> int:
        order.append("detect")
        session.add(MeterReading(home_id=home.id, interval_start=now, kwh=9.9))
        session.flush()
        raise RuntimeError("detector bug")

    monkeypatch.setattr(jobs, "CYCLE_STEPS", (
        JobSpec("meter_cycle.pull", pull),
        JobSpec("meter_cycle.readiness", readiness, call="session_now"),
        JobSpec("meter_cycle.detect", detect, call="session_now"),
    ))
    counts = run_cycle(clock.now())
    assert order == ["pull", "readiness", "detect"]
    assert counts == {"pull": 1, "readiness": 0, "detect": 0}
    with session_scope() as s:
        # The readings pulled stay; what the failing detection wrote is rolled back.
        assert s.scalar(select(func.count()).select_from(MeterReading)) == 1
        assert s.get(JobState, "meter_cycle.pull").total_count == 1
        assert s.get(JobState, "meter_cycle.detect").failures == 1


def test_a_job_written_for_the_first_skeleton_is_called_without_now(db) -> None:
    calls = []
    assert run_job(JobSpec("old_style", lambda: calls.append("ran") or 2, 60)).count == 2
    assert calls == ["ran"]


def test_the_report_jobs_run_through_the_table(db, clock, settings) -> None:
    """The reports area is merged: its functions resolve and run with the table's call style."""
    table = {spec.name: spec for spec in job_table(settings)}
    for name in ("daily_reports", "monthly_reports"):
        outcome = run_job(table[name])
        assert outcome.ok and not outcome.skipped and outcome.count == 0


def test_scheduler_check_lists_missing_functions(db, settings, monkeypatch) -> None:
    from click.testing import CliRunner

    from mimamori.cli.main import cli

    monkeypatch.setattr(jobs, "CYCLE_STEPS", (JobSpec("meter_cycle.pull", "core.not_here:pull"),))
    result = CliRunner().invoke(cli, ["scheduler", "--check"])
    assert result.exit_code == 1
    assert "MISSING  meter_cycle.pull" in result.output
    assert "ok       daily_reports" in result.output


def test_the_real_meter_cycle_ingests_new_readings_and_counts_them(db, clock, make_home) -> None:
    """With the meters area merged: the simulator's new half-hours are stored once and counted."""
    home = make_home(last_reading_at=clock.now() - timedelta(hours=3))
    counts = run_cycle(clock.now())
    with session_scope() as s:
        stored = s.scalar(select(func.count()).select_from(MeterReading).where(MeterReading.home_id == home.id))
        assert counts["pull"] == stored > 0
        assert s.get(JobState, "meter_cycle.pull").total_count == stored
    assert run_cycle(clock.now())["pull"] == 0  # nothing new arrived in between
    clock.advance(minutes=30)
    assert run_cycle(clock.now())["pull"] == 1
    with session_scope() as s:
        assert s.get(JobState, "meter_cycle.pull").total_count == stored + 1
