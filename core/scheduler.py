"""APScheduler jobs: ingest, detect, escalation tick, outbox dispatch, reports.

``start_in_process`` is what ``mimamori serve`` calls for the embedded default (SQLite,
one process). The ``clock`` process (Procfile) runs ``run_forever``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job, declared: name, function, and an interval in seconds."""

    name: str
    func: Callable[[], object]
    seconds: int


def job_specs(settings: Settings) -> list[JobSpec]:
    """The jobs this service runs. Each area adds its own here."""
    from core.detection.live import detection_job

    return [
        JobSpec("detect", detection_job, 30 * 60),
    ]


def configure(scheduler: BaseScheduler, settings: Settings) -> BaseScheduler:
    for spec in job_specs(settings):
        scheduler.add_job(
            spec.func,
            "interval",
            seconds=spec.seconds,
            id=spec.name,
            coalesce=True,  # a missed run catches up once
            max_instances=1,
            misfire_grace_time=None,
        )
    return scheduler


def start_in_process(settings: Settings) -> BackgroundScheduler:
    scheduler = configure(BackgroundScheduler(timezone="UTC"), settings)
    scheduler.start()
    log.info("scheduler started in-process with %d jobs", len(scheduler.get_jobs()))
    return scheduler


def run_forever(settings: Settings) -> None:
    configure(BlockingScheduler(timezone="UTC"), settings).start()
