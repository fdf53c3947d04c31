"""APScheduler jobs: ingest, detect, escalation tick, outbox dispatch, reports, expiry, retention.

The table of jobs is declared in :mod:`core.jobs`; this module turns it into APScheduler
jobs and decides who runs them:

- ``mimamori scheduler`` (the Procfile's ``clock``) calls :func:`run_forever`: it becomes
  the leader by taking a PostgreSQL advisory lock (:mod:`core.leader`) or waits as a hot
  standby, retrying every few seconds, and takes over when the leader's session ends.
- ``mimamori serve`` calls :func:`start_in_process`: the same service in a thread beside
  the web app (on SQLite the lock is a no-op; on PostgreSQL several ``serve`` processes
  still run the jobs only once).

A missed run catches up once, not once per missed interval: every job coalesces, has no
misfire limit, and after downtime starts from its last good run recorded in ``job_state``,
so a clock that was down for three hours runs the meter cycle once, then at :05/:35 again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from core import clock
from core.db import init_db, make_engine, session_scope
from core.jobs import Every, JobSpec, Trigger, job_table, run_job
from core.leader import LeaderLock, identity
from core.logging import log_event
from core.models import JobState
from core.settings import Settings
from core.shutdown import stop_on_signals

log = logging.getLogger(__name__)

__all__ = ["JobSpec", "SchedulerService", "configure", "job_specs", "run_forever", "start_in_process"]

JOB_DEFAULTS = {
    "coalesce": True,  # many missed fire times -> one run
    "max_instances": 1,  # a slow cycle is never run twice at once
    "misfire_grace_time": None,  # however late, run (once) rather than skip
}


def job_specs(settings: Settings) -> list[JobSpec]:
    """The jobs this service runs (declared in core.jobs)."""
    return job_table(settings)


def build_trigger(trigger: Trigger, settings: Settings) -> BaseTrigger:
    if isinstance(trigger, Every):
        return IntervalTrigger(seconds=trigger.seconds, timezone=UTC)
    tz = settings.tz if trigger.local else UTC
    return CronTrigger(minute=trigger.minute, hour=trigger.hour, day=trigger.day, timezone=tz)


def next_due_after(trigger: Trigger, settings: Settings, last: datetime) -> datetime:
    """The first fire time strictly after ``last`` (the last good run)."""
    if isinstance(trigger, Every):
        return last + timedelta(seconds=trigger.seconds)
    built = build_trigger(trigger, settings)
    fire = built.get_next_fire_time(None, last + timedelta(seconds=1))
    assert fire is not None
    return fire.astimezone(UTC)


def catch_up_times(
    specs: Iterable[JobSpec], last_ok: dict[str, datetime], settings: Settings, now: datetime
) -> dict[str, datetime]:
    """Jobs that missed a run while no scheduler was up: name -> the first missed fire time.

    Handing that time to APScheduler as ``next_run_time`` makes it run the job at once and,
    with ``coalesce``, only once for however many fire times were missed. A job that never
    ran has nothing to catch up.
    """
    due = {}
    for spec in specs:
        last = last_ok.get(spec.name)
        if last is None or spec.trigger is None:
            continue
        if isinstance(spec.trigger, Every) and spec.trigger.seconds < 60:
            continue  # it runs within seconds of start anyway
        missed = next_due_after(spec.trigger, settings, last)
        if missed <= now:
            due[spec.name] = missed
    return due


def last_good_runs() -> dict[str, datetime]:
    with session_scope() as session:
        rows = session.execute(select(JobState.name, JobState.last_ok_at, JobState.last_started_at)).all()
    # A job that has only ever failed retries once too.
    return {name: ok or started for name, ok, started in rows if (ok or started) is not None}


def configure(scheduler: BaseScheduler, settings: Settings, specs: list[JobSpec] | None = None) -> BaseScheduler:
    """Add every job of the table, scheduling a catch-up run for those that missed one."""
    specs = job_specs(settings) if specs is None else specs
    try:
        missed = catch_up_times(specs, last_good_runs(), settings, clock.now())
    except Exception:
        log.exception("scheduler.catch_up_unknown")
        missed = {}
    for spec in specs:
        assert spec.trigger is not None
        extra: dict[str, Any] = {}
        if spec.name in missed:
            extra["next_run_time"] = missed[spec.name]
            log_event(log, "scheduler.catch_up", job=spec.name, missed_at=missed[spec.name])
        scheduler.add_job(
            partial(run_job, spec), build_trigger(spec.trigger, settings), id=spec.name, name=spec.name,
            replace_existing=True, **JOB_DEFAULTS, **extra,
        )
    return scheduler


class SchedulerService:
    """Wait for the lock, run the jobs while holding it, stand by again if it is lost."""

    def __init__(self, settings: Settings, specs: list[JobSpec] | None = None) -> None:
        self.settings = settings
        self.specs = specs
        self.stop_event = threading.Event()
        self.leading = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self.thread: threading.Thread | None = None
        self.terms = 0  # how many times this process became the leader
        init_db(settings)
        self.lock = LeaderLock(make_engine(settings.database_url, poolclass=NullPool))

    def run(self) -> None:
        retry = self.settings.scheduler_standby_retry_seconds
        if not self.lock.postgres:
            log_event(log, "scheduler.unlocked", reason="sqlite: run one scheduler process only")
        while not self.stop_event.is_set():
            if not self._wait_for_lock(retry):
                break
            self._lead(retry)
        self.lock.release()
        log_event(log, "scheduler.stopped", process=identity())

    def _wait_for_lock(self, retry: float) -> bool:
        standby_logged = False
        while not self.stop_event.is_set():
            if self.lock.try_acquire():
                return True
            if not standby_logged:
                log_event(log, "scheduler.standby", process=identity(), retry_seconds=retry)
                standby_logged = True
            self.stop_event.wait(retry)
        return False

    def _lead(self, check_every: float) -> None:
        log_event(log, "scheduler.leader", process=identity())
        scheduler = BackgroundScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
        configure(scheduler, self.settings, self.specs)
        scheduler.start()
        self.scheduler = scheduler
        self.terms += 1
        self.leading.set()
        log_event(log, "scheduler.started", jobs=len(scheduler.get_jobs()))
        try:
            while not self.stop_event.wait(check_every):
                if not self.lock.still_held():
                    log_event(log, "scheduler.lock_lost", logging.ERROR, process=identity())
                    break
        finally:
            self.leading.clear()
            scheduler.shutdown(wait=True)
            self.scheduler = None
            self.lock.release()

    def stop(self) -> None:
        self.stop_event.set()


def start_in_process(settings: Settings) -> SchedulerService:
    """Run the scheduler service in a daemon thread (``mimamori serve``)."""
    service = SchedulerService(settings)
    service.thread = threading.Thread(target=service.run, name="mimamori-scheduler", daemon=True)
    service.thread.start()
    return service


def run_forever(settings: Settings) -> None:
    """The ``clock`` process: lead or stand by until SIGTERM/SIGINT, then stop cleanly."""
    service = SchedulerService(settings)
    stop_on_signals("scheduler", service.stop, log)
    service.run()
