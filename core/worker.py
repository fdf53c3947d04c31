"""``mimamori worker``: the escalation tick, the outbox dispatcher and the meter cycle's
detection chunks (core/detection/chunks.py: same row-lock claim), as loops.

Run any number of workers, on any machines: each loop claims its rows with ``FOR UPDATE
SKIP LOCKED`` (inside core.escalation), so two workers never take the same incident step or
message. Every claim ends with the worker's database session — an incident step's row lock
with its transaction, an outbox row's advisory lock (core/claims.py) with the connection —
so a killed worker's work is taken by another at once, and a live one never loses a claim
it is still using. A loop that found work goes again at once; an idle one waits a moment.
SIGTERM lets the batch in hand finish, then the process exits 0.

When workers run, start the clock with ``MIMAMORI_CLOCK_RUNS_WORKERS=false`` so it only
does the timed jobs (it would otherwise tick too, which is safe but redundant).
"""

from __future__ import annotations

import logging
import threading

from core import claims
from core.db import init_db
from core.jobs import WORKER_JOBS, JobSpec, resolve, run_job
from core.leader import identity
from core.logging import log_event
from core.settings import Settings
from core.shutdown import stop_on_signals

log = logging.getLogger(__name__)


class Worker:
    """One thread per worker job, all stopped by one event."""

    def __init__(self, settings: Settings, specs: tuple[JobSpec, ...] = WORKER_JOBS) -> None:
        self.settings = settings
        self.specs = specs
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def loop(self, spec: JobSpec) -> None:
        idle = self.settings.worker_idle_seconds
        while not self.stop_event.is_set():
            outcome = run_job(spec)
            if outcome.skipped:
                # The function is not installed: nothing to do until a deploy brings it.
                self.stop_event.wait(max(idle, 30.0))
            elif not outcome.ok or outcome.count == 0:
                self.stop_event.wait(idle)
            # A loop that found work goes straight back for more.

    def start(self) -> None:
        init_db(self.settings)
        self.warm_up()
        log_event(log, "worker.started", process=identity(), loops=[s.name for s in self.specs])
        for spec in self.specs:
            thread = threading.Thread(target=self.loop, args=(spec,), name=f"worker-{spec.name}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def warm_up(self) -> None:
        """Import every job and build the channels (line-bot-sdk and twilio take seconds to
        import on a busy machine) before saying "started": a started worker can send at once."""
        for spec in self.specs:
            resolve(spec.func)
        if any(spec.name == "outbox_dispatch" for spec in self.specs):
            from core.escalation.dispatcher import channels_for

            channels_for(self.settings)

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        for thread in self.threads:
            thread.join(timeout)
        claims.holder().close()  # what is still claimed goes back now, not when the socket closes
        log_event(log, "worker.stopped", process=identity())


def run_worker(settings: Settings) -> None:
    """Run the loops until SIGTERM or SIGINT."""
    worker = Worker(settings)
    stop_on_signals("worker", worker.stop, log)
    worker.start()
    while not worker.stop_event.wait(1.0):
        pass
    worker.join()
