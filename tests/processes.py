"""Real ``mimamori`` subprocesses for tests that kill and watch them (one helper for all)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


class Process:
    """A ``mimamori`` subprocess whose JSON log lines are collected as they come."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.events: list[dict] = []
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mimamori.cli.main", *args], cwd=REPO, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "raw", "line": line.rstrip()}
            with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def wait_for(self, name: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if event.get("event") == name:
                        return event
                left = deadline - time.monotonic()
                exited = self.proc.poll() is not None
                if left <= 0 or (exited and not self._changed.wait(1.0)):
                    raise AssertionError(f"no {name!r} within {timeout}s (exit {self.proc.poll()}); saw {self.events}")
                self._changed.wait(min(left, 1.0))

    def names(self) -> list[str]:
        with self._changed:
            return [e.get("event", "") for e in self.events]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test started; each is killed when the test ends."""
    started: list[Process] = []
    yield started
    for p in started:
        p.stop()
