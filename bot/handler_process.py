"""``mimamori webhooks``: the process that handles stored LINE events (the Procfile's ``webhooks``).

Why a process of its own: ``/callback`` must answer within LINE's limits while bursts
arrive, and handling an event (flows, replies to LINE) costs several times what storing
it does. In the web process the two share one GIL and the same cores, so a burst's
requests waited behind handlers. The Procfile runs web with ``WEBHOOK_WORKERS=0`` (intake
only) and this process under ``nice``, so intake gets the CPU first and handling follows
a moment later.

It polls for chats with waiting events every ``--poll-seconds`` (one indexed query) and
drains each on a small thread pool, one chat's events in order (:mod:`bot.processing`).
While events are being stored fast (a burst: more than ``BUSY_EVENTS`` new rows within
``BUSY_WINDOW``), each handler steps aside for up to a quarter second before its next
event, as handlers in a web process do for requests in hand: a niced process still takes
CPU whenever intake waits on I/O, and its database work is not niced at all.
On PostgreSQL run as many as you like (per-chat advisory locks keep order and
exactly-once). On SQLite only one may handle events: a second one waits on a lock file
beside the database as a standby. SIGTERM finishes the drains in hand, then exits.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, select

from bot import processing
from core.db import init_db, is_postgres
from core.logging import log_event
from core.models import WebhookEvent
from core.settings import Settings
from core.shutdown import stop_on_signals

log = logging.getLogger(__name__)
STANDBY_RETRY_SECONDS = 2.0
BUSY_WINDOW, BUSY_EVENTS = 0.02, 5  # 5 events in 20 ms: 250 a second, far above a normal moment


class IntakeProbe:
    """Is intake busy? Compares the newest event id now and ``BUSY_WINDOW`` ago (one
    primary-key lookup per window, shared by the threads; no clocks of other machines)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.checked = 0.0
        self.last_id = 0
        self.busy = False

    def __call__(self) -> bool:
        with self.lock:
            now = time.monotonic()
            if now - self.checked < BUSY_WINDOW:
                return self.busy
            try:
                with self.engine.connect() as conn:
                    newest = conn.execute(select(func.max(WebhookEvent.id))).scalar() or 0
            except Exception:  # never let the probe stop handling
                log.exception("probing intake failed")
                return False
            self.busy = self.checked > 0 and newest - self.last_id >= BUSY_EVENTS
            self.checked, self.last_id = time.monotonic(), newest
            return self.busy


@contextmanager
def sole_handler(engine: Engine, stop: threading.Event) -> Iterator[bool]:
    """On SQLite, hold a lock file beside the database so one process handles events
    (yields False if stopped while waiting); on PostgreSQL, no lock is needed."""
    database = engine.url.database
    if is_postgres(engine) or not database or database == ":memory:":
        yield True
        return
    with Path(f"{database}.webhooks.lock").open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                log_event(log, "webhooks.standby")
                if stop.wait(STANDBY_RETRY_SECONDS):
                    yield False
                    return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def poll_once(threads: int) -> int:
    """Queue a drain for every chat with waiting events that is not being drained; how many."""
    return processing.submit_waiting(processing.pending_chats(), threads)


def run_handler(settings: Settings, threads: int, poll_seconds: float, stop: threading.Event) -> None:
    """Poll and drain until ``stop`` is set, then let the drains in hand finish."""
    engine = init_db(settings)
    with sole_handler(engine, stop) as mine:
        if not mine:
            return
        processing.intake_busy = IntakeProbe(engine)
        import linebot.v3.messaging  # noqa: F401  (seconds of imports, before the first reply, not during it)

        log_event(log, "webhooks.started", threads=threads)
        while not stop.is_set():
            try:
                poll_once(threads)
            except Exception:
                log.exception("looking for waiting webhook events failed")
            stop.wait(poll_seconds)
        processing.wait_idle(timeout=60)
        processing.intake_busy = None
        log_event(log, "webhooks.stopped")


def main(settings: Settings, threads: int, poll_seconds: float) -> None:
    """Run until SIGTERM or SIGINT."""
    stop = threading.Event()
    stop_on_signals("webhooks", stop.set, log)
    run_handler(settings, threads, poll_seconds, stop)
