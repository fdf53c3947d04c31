"""Run a WSGI app under gunicorn (threads) from Python, for ``mimamori serve``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication


class EmbeddedGunicorn(BaseApplication):  # type: ignore[misc]
    """One gunicorn worker with many threads; ``on_worker_start`` runs in the worker after fork."""

    def __init__(
        self,
        app_factory: Callable[[], Any],
        options: dict[str, Any],
        on_worker_start: Callable[[], None] | None = None,
    ) -> None:
        self._factory = app_factory
        self._options = options
        self._on_worker_start = on_worker_start
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        if self._on_worker_start is not None:
            start = self._on_worker_start
            self.cfg.set("post_worker_init", lambda _worker: start())

    def load(self) -> Any:
        return self._factory()
