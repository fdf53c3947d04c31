"""One way for a long-running process (clock, worker, webhooks) to stop cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from typing import Any

from core.logging import log_event


def stop_on_signals(process: str, stop: Callable[[], None], log: logging.Logger) -> None:
    """Call ``stop`` on SIGTERM (the platform stopping a dyno) or SIGINT (Ctrl-C), logged as
    ``<process>.signal``; the process's own loop then finishes its work and exits."""

    def _handler(signum: int, _frame: Any) -> None:
        log_event(log, f"{process}.signal", signal=signal.Signals(signum).name)
        stop()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
