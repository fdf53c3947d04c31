"""The job table: what runs when, declared in one place, and how one run is carried out.

Every scheduled job is a :class:`JobSpec` naming its function by import string, so this
module imports no area at load time and a function that is not there (yet) is logged and
skipped instead of stopping the clock. Each run is timed, logged as one event with its
count, and recorded in :class:`core.models.JobState` (liveness for ``/metrics`` and
``mimamori status``; the last good run for catching up after downtime).

The meter cycle (:func:`run_cycle`) is pull -> readiness -> detect, each step in its own
transaction, so a failed detection never loses the readings that were just ingested.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from core import clock
from core.db import session_scope
from core.logging import log_event, redact_error
from core.models import JobState
from core.settings import Settings

log = logging.getLogger(__name__)

CallStyle = Literal["now", "session_now", "plain"]


@dataclass(frozen=True)
class Every:
    """Run every ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Cron:
    """Run at fixed wall-clock fields (APScheduler cron syntax); ``local`` = the service timezone."""

    minute: str = "0"
    hour: str = "*"
    day: str = "*"
    local: bool = False


Trigger = Every | Cron


@dataclass(frozen=True)
class JobSpec:
    """A job: its name, its function (``"module:function"`` or a callable), and when it runs.

    ``call`` says how the function is called: ``now`` -> ``f(now)``; ``session_now`` ->
    ``f(session, now)`` inside its own transaction; ``plain`` -> ``f(**kwargs)``.
    ``worker`` jobs claim rows with SKIP LOCKED and may also run in ``mimamori worker``.
    ``JobSpec(name, func, seconds)`` still works for a plain interval job.
    """

    name: str
    func: str | Callable[..., Any]
    seconds: float | None = None
    trigger: Trigger | None = None
    call: CallStyle = "now"
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    worker: bool = False

    def __post_init__(self) -> None:
        if self.trigger is None and self.seconds is not None:
            object.__setattr__(self, "trigger", Every(self.seconds))
        if isinstance(self.trigger, Every) and self.trigger.seconds <= 0:
            raise ValueError(f"job {self.name}: interval must be positive")
        if isinstance(self.func, str) and ":" not in self.func:
            raise ValueError(f"job {self.name}: func must look like 'package.module:function'")
        if self.call not in ("now", "session_now", "plain"):
            raise ValueError(f"job {self.name}: unknown call style {self.call!r}")


@dataclass(frozen=True)
class Outcome:
    """What one run did: ok, how many things it handled, how long it took."""

    name: str
    ok: bool
    count: int = 0
    seconds: float = 0.0
    skipped: bool = False
    detail: Any = None


# ---- the declared tables ------------------------------------------------------------
CYCLE_STEPS: tuple[JobSpec, ...] = (
    JobSpec("meter_cycle.pull", "core.meters.jobs:pull_new_readings"),
    JobSpec("meter_cycle.readiness", "core.readiness:refresh_home_statuses", call="session_now"),
    # A home that just became ready is learned now, not at the nightly refresh.
    JobSpec("meter_cycle.baselines", "core.detection.live:refresh_baselines", call="session_now",
            kwargs={"only_missing": True}),
    # PostgreSQL: enqueue the cycle's chunks for workers (core.detection.chunks); SQLite: detect here.
    JobSpec("meter_cycle.detect", "core.detection.chunks:detect_cycle"),
    # Heat and cold: the gentle ladder reads the readings just pulled and the cached forecast.
    JobSpec("meter_cycle.climate", "core.climate.ladder:run_climate", call="session_now"),
)
READINGS_INGESTED_JOB = "meter_cycle.pull"

CLOCK_JOBS: tuple[JobSpec, ...] = (
    # Readings arrive about an hour late; pull at fixed minutes so every replica agrees.
    JobSpec("meter_cycle", "core.jobs:run_cycle", trigger=Cron(minute="5,35")),
    JobSpec("baselines", "core.detection.live:refresh_baselines", trigger=Cron("15", "3", local=True),
            call="session_now"),
    # Homes choose their report time; a frequent job sends those whose time has passed (the
    # daily report only to watchers who asked for it; the weekly digest is the default).
    JobSpec("daily_reports", "core.reports.jobs:send_due_daily_reports", trigger=Cron(minute="*/5")),
    JobSpec("weekly_digests", "core.reports.jobs:send_due_weekly_digests", trigger=Cron(minute="*/15")),
    # Last month's report goes at each home's report time on the 1st (caught up by the 3rd).
    JobSpec("monthly_reports", "core.reports.jobs:send_monthly_reports", trigger=Cron("*/15", "*", "1-3", local=True)),
    # JMA issues forecasts at 05, 11 and 17 JST; an hourly pull keeps the cache fresh and retries gaps.
    JobSpec("weather", "core.weather.store:pull_weather", trigger=Cron(minute="20"), call="session_now"),
    JobSpec("climate_profiles", "core.climate.profiles:learn_profiles", trigger=Cron("45", "3", local=True),
            call="session_now"),
    JobSpec("pause_expiry", "core.expiry:expire_pauses", trigger=Every(60), call="session_now"),
    JobSpec("link_expiry", "core.expiry:purge_expired_links", trigger=Every(900), call="session_now"),
    JobSpec("retention", "core.retention:clean_up", trigger=Cron("30", "4", local=True), call="session_now"),
)

WORKER_JOBS: tuple[JobSpec, ...] = (
    JobSpec("escalation_tick", "core.escalation.engine:tick", trigger=Every(5), call="plain",
            kwargs={"limit": 500}, worker=True),
    JobSpec("outbox_dispatch", "core.escalation.dispatcher:dispatch_due", trigger=Every(3), call="plain",
            kwargs={"limit": 100}, worker=True),
    # Detection chunks of a cycle, claimed with SKIP LOCKED; the first call warms the baselines.
    JobSpec("detect_chunks", "core.detection.chunks:run_due_chunks", trigger=Every(2), call="plain",
            kwargs={"limit": 4}, worker=True),
)


def job_table(settings: Settings) -> list[JobSpec]:
    """The clock's jobs; escalation and dispatch too unless separate workers run them."""
    specs = list(CLOCK_JOBS)
    if settings.mimamori_clock_runs_workers:
        specs.extend(WORKER_JOBS)
    return validate_table(specs)


def validate_table(specs: Iterable[JobSpec]) -> list[JobSpec]:
    """Refuse a table with two jobs of one name or a job without a trigger."""
    seen: set[str] = set()
    out = []
    for spec in specs:
        if spec.name in seen:
            raise ValueError(f"job {spec.name} is declared twice")
        if spec.trigger is None:
            raise ValueError(f"job {spec.name} has no trigger (seconds= or trigger=)")
        seen.add(spec.name)
        out.append(spec)
    return out


# ---- running one job ----------------------------------------------------------------
_reported_missing: set[str] = set()


def resolve(func: str | Callable[..., Any]) -> Callable[..., Any] | None:
    """The callable behind an import string, or None if its module or attribute is absent."""
    if callable(func):
        return func
    module_name, _, attr = func.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only "that module is not there": an import error *inside* it is a real bug.
        if exc.name is None or not module_name.startswith(exc.name):
            raise
        return None
    return getattr(module, attr, None)


def _count(result: Any) -> int:
    if isinstance(result, bool) or result is None:
        return 0
    if isinstance(result, int):
        return result
    if isinstance(result, Mapping):
        return sum(v for v in result.values() if isinstance(v, int) and not isinstance(v, bool))
    if isinstance(result, Sized):
        return len(result)
    return 0


def _takes_no_arguments(fn: Callable[..., Any]) -> bool:
    """True for ``f()``: the first skeleton's JobSpec called its function without ``now``."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return not any(p.kind in positional and p.default is p.empty for p in params) and not any(
        p.kind is inspect.Parameter.VAR_POSITIONAL for p in params
    )


def _invoke(spec: JobSpec, fn: Callable[..., Any], now: datetime) -> Any:
    if spec.call == "session_now":
        with session_scope() as session:
            return fn(session, now, **spec.kwargs)
    if spec.call == "plain" or _takes_no_arguments(fn):
        return fn(**spec.kwargs)
    return fn(now, **spec.kwargs)


def run_job(spec: JobSpec, now: datetime | None = None, *, record: bool = True) -> Outcome:
    """Run ``spec`` once: resolve, call, time, log one event, record its JobState row."""
    now = now or clock.now()
    try:
        fn = resolve(spec.func)
    except Exception:
        log.exception("job.import_failed", extra={"job": spec.name})
        fn = None
    if fn is None:
        if spec.name not in _reported_missing:
            _reported_missing.add(spec.name)
            log_event(log, "job.unavailable", logging.WARNING, job=spec.name, func=str(spec.func))
        return Outcome(spec.name, ok=False, skipped=True)
    started = time.perf_counter()
    try:
        result = _invoke(spec, fn, now)
    except Exception as exc:
        seconds = time.perf_counter() - started
        log.exception("job.failed", extra={"job": spec.name, "seconds": round(seconds, 3)})
        if record:
            error = redact_error(f"{type(exc).__name__}: {exc}")
            record_run(spec.name, now, ok=False, count=0, seconds=seconds, error=error)
        return Outcome(spec.name, ok=False, seconds=seconds)
    seconds = time.perf_counter() - started
    count = _count(result)
    # Frequent jobs that found nothing to do stay out of the INFO stream.
    level = logging.DEBUG if count == 0 and (spec.worker or isinstance(spec.trigger, Every)) else logging.INFO
    log_event(log, "job.done", level, job=spec.name, count=count, seconds=round(seconds, 3))
    if record:
        record_run(spec.name, now, ok=True, count=count, seconds=seconds)
    return Outcome(spec.name, ok=True, count=count, seconds=seconds, detail=result)


def record_run(name: str, started_at: datetime, *, ok: bool, count: int, seconds: float,
               error: str | None = None) -> None:
    """Update the job's row (created on first run); a failure to record is logged, not raised."""
    for _ in range(2):
        try:
            with session_scope() as session:
                row = session.get(JobState, name, with_for_update=True)
                if row is None:
                    row = JobState(name=name, runs=0, failures=0, total_count=0)
                    session.add(row)
                row.last_started_at = started_at
                row.last_finished_at = clock.now()
                row.last_count = count
                row.last_seconds = seconds
                row.runs = (row.runs or 0) + 1
                row.total_count = (row.total_count or 0) + count
                if ok:
                    row.last_ok_at = started_at
                    row.last_error = None
                else:
                    row.failures = (row.failures or 0) + 1
                    row.last_error = (error or "")[:500]
            return
        except IntegrityError:
            continue  # another process created the row at the same moment; update it instead
        except Exception:
            log.exception("job.record_failed", extra={"job": name})
            return


def missing_functions(settings: Settings) -> dict[str, str]:
    """Jobs (and cycle steps) whose function cannot be found: name -> import string."""
    specs = [*job_table(settings), *WORKER_JOBS, *CYCLE_STEPS]
    return {s.name: str(s.func) for s in specs if resolve(s.func) is None}


def run_cycle(now: datetime) -> dict[str, int]:
    """The 30-minute cycle: pull new readings, refresh readiness, detect. Step by step."""
    counts = {}
    for step in CYCLE_STEPS:
        outcome = run_job(step, now)
        counts[step.name.rpartition(".")[2]] = outcome.count
    log_event(log, "cycle.done", **counts)
    return counts
